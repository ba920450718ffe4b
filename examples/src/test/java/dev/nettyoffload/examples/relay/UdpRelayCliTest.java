package dev.nettyoffload.examples.relay;

import dev.nettyoffload.examples.CliRun;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** UdpRelay's command line: help, one-line refusals with nothing bound, and a short run with its counters. */
class UdpRelayCliTest {

    @Test
    void helpShowsTheParametersAndDefaults() {
        CliRun.of(UdpRelay::run, "--help").assertHelp("LISTEN_HOST:PORT", "TARGET_HOST:PORT",
                "[epoll|io_uring|nio]", "[SECONDS]", "(default: run until interrupted)", "dropped");
    }

    @Test
    void badParametersAreRefusedInOneLineWithNothingBound() {
        CliRun.of(UdpRelay::run, "127.0.0.1:0", "127.0.0.1:9", "nio", "-1").assertRefused("SECONDS", "1-2147483647");
        CliRun.of(UdpRelay::run, "127.0.0.1:0", "127.0.0.1:9", "nio", "abc").assertRefused("SECONDS",
                "1-2147483647");
        CliRun.of(UdpRelay::run, "127.0.0.1:0", "127.0.0.1:9", "foo").assertRefused("epoll|io_uring|nio",
                "epoll, io_uring or nio");
        CliRun.of(UdpRelay::run, "127.0.0.1:0", "127.0.0.1:70000").assertRefused("TARGET_HOST:PORT", "0 to 65535");
        CliRun.of(UdpRelay::run, "127.0.0.1:0", "127.0.0.1:0").assertRefused("TARGET_HOST:PORT", "1-65535");
        CliRun.of(UdpRelay::run, "127.0.0.1").assertRefused("LISTEN_HOST:PORT", "HOST:PORT");
        CliRun.of(UdpRelay::run, "127.0.0.1:0").assertRefused("TARGET_HOST:PORT", "Missing");
        CliRun.of(UdpRelay::run, "127.0.0.1:0", "127.0.0.1:9", "--bogus").assertRefused("--bogus", "--help");
    }

    @Test
    void runsForTheGivenSecondsAndPrintsTheFinalCountersWithKernelDrops() {
        CliRun r = CliRun.of(UdpRelay::run, "127.0.0.1:0", "127.0.0.1:9", "NIO", "1");
        assertEquals(0, r.exitCode, r.err);
        assertTrue(r.out.startsWith("READY /127.0.0.1:"), r.out);
        assertTrue(r.out.contains("-> 127.0.0.1:9 (nio)"), r.out);
        assertTrue(r.out.contains("final: datagrams in 0 "), r.out);
        assertTrue(r.out.contains("dropped by the kernel 0"), r.out);
    }
}
