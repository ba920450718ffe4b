package dev.nettyoffload.examples.demo;

import dev.nettyoffload.core.OffloadCapabilities;
import dev.nettyoffload.core.Transport;
import dev.nettyoffload.examples.Cli;
import dev.nettyoffload.examples.CliRun;
import dev.nettyoffload.testkit.Prerequisites;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The demo runs and its GSO path moves the bytes in fewer kernel send operations; not a timing test. */
class OffloadDemoTest {

    @Test
    void gsoRunUsesFarFewerSendOperationsPerMegabyte() throws Exception {
        Transport t = Transport.EPOLL;
        Prerequisites.requireTransport(t.displayName(), t.unavailabilityCause());
        Prerequisites.require(OffloadCapabilities.get().isUdpSegmentSupported(), "kernel UDP_SEGMENT");
        LoopbackStream.Result plain = LoopbackStream.run(t, false, 1400, 0.2);
        LoopbackStream.Result gso = LoopbackStream.run(t, true, 1400, 0.2);
        assertTrue(plain.sentBytes > 0 && gso.sentBytes > 0);
        assertTrue(gso.receivedDatagrams > 0, "the receiver got the GSO stream");
        // 64 KiB writes: 1 kernel send of 46 segments + 1 remainder datagram instead of 47 datagrams.
        double ratio = plain.sendOpsPerMb() / gso.sendOpsPerMb();
        assertTrue(ratio > 20, "send operations ratio " + ratio);
        assertEquals(0, gso.counters.fallbacks());
    }

    @Test
    void mainPrintsCapabilitiesAndBothModes() {
        CliRun r = CliRun.of(OffloadDemo::run, "--rounds", "1", "--seconds", "0.2");
        assertEquals(0, r.exitCode, r.err);
        assertTrue(r.out.contains("Offload capabilities"), r.out);
        assertTrue(r.out.contains("plain (1 datagram/write)"), r.out);
        assertTrue(r.out.contains("GsoEncoder (64 KiB/write)"), r.out);
    }

    @Test
    void helpShowsTheOptionsAndDefaults() {
        CliRun.of(OffloadDemo::run, "--help").assertHelp("--transport=epoll|io_uring|nio", "--seconds=S",
                "(default: 1.5)", "--rounds=N", "(default: 3)", "--segment-size=BYTES", "(default: 1400)",
                "java -jar examples/target/netty-offload-examples.jar");
        CliRun version = CliRun.of(OffloadDemo::run, "--version");
        assertEquals(0, version.exitCode);
        assertTrue(version.out.startsWith("netty-offload "), version.out);
    }

    @Test
    void badOptionsAreRefusedInOneLineBeforeAnythingRuns() {
        CliRun.of(OffloadDemo::run, "--transport", "foo").assertRefused("--transport", "epoll, io_uring or nio");
        CliRun.of(OffloadDemo::run, "--seconds", "abc").assertRefused("--seconds", "0.01-60");
        CliRun.of(OffloadDemo::run, "--seconds", "-1").assertRefused("--seconds", "0.01-60");
        CliRun.of(OffloadDemo::run, "--seconds").assertRefused("--seconds", "0.01-60");
        CliRun.of(OffloadDemo::run, "--rounds", "0").assertRefused("--rounds", "1-20");
        CliRun.of(OffloadDemo::run, "--segment-size", "65508").assertRefused("--segment-size", "1-65507");
        CliRun.of(OffloadDemo::run, "--bogus").assertRefused("--bogus", "--segment-size");
    }

    @Test
    void transportNamesAreCaseInsensitive() {
        assertEquals(Transport.NIO, Cli.parse(new DemoOptions(), "--transport", "NIO").transport);
        assertEquals(Transport.IO_URING, Cli.parse(new DemoOptions(), "--transport", "IO_URING").transport);
    }
}
