package dev.nettyoffload.examples.demo;

import dev.nettyoffload.core.OffloadCapabilities;
import dev.nettyoffload.core.Transport;
import dev.nettyoffload.examples.Cli;
import dev.nettyoffload.examples.CliRun;
import dev.nettyoffload.gso.GsoCounters;
import dev.nettyoffload.testkit.Prerequisites;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The demo runs, reports what was delivered and lost, and its GSO path needs fewer send operations; not a timing test. */
class OffloadDemoTest {

    @Test
    void gsoRunUsesFarFewerSendOperationsPerMegabyte() throws Exception {
        Transport t = Transport.EPOLL;
        Prerequisites.requireTransport(t.displayName(), t.unavailabilityCause());
        Prerequisites.require(OffloadCapabilities.get().isUdpSegmentSupported(), "kernel UDP_SEGMENT");
        LoopbackStream.Result plain = LoopbackStream.run(t, LoopbackStream.Mode.PLAIN, 1400, 0.2);
        LoopbackStream.Result gso = LoopbackStream.run(t, LoopbackStream.Mode.GSO, 1400, 0.2);
        assertTrue(plain.sentBytes > 0 && gso.sentBytes > 0);
        assertTrue(gso.receivedDatagrams > 0, "the receiver got the GSO stream");
        // 64 KiB writes: 1 kernel send of 46 segments + 1 single datagram of 1136 bytes instead of 47 datagrams.
        double ratio = plain.sendOpsPerMb() / gso.sendOpsPerMb();
        assertTrue(ratio > 20, "send operations ratio " + ratio);
        GsoCounters.Snapshot c = gso.gsoCounters;
        assertEquals(0, c.fallbacks());
        assertEquals(0, c.softwareDatagrams(), "the 1136-byte tail is not a software datagram: " + c);
        assertEquals(c.writes(), c.singleDatagrams(), c.toString());
        assertEquals(46 * c.kernelSends(), c.kernelSegments(), c.toString());
    }

    @Test
    void everyModeCountsWhatTheReceiverGot() throws Exception {
        Transport t = Transport.NIO;
        for (LoopbackStream.Mode mode : LoopbackStream.Mode.values()) {
            LoopbackStream.Result r = LoopbackStream.run(t, mode, 1400, 0.1);
            assertEquals(r.sentBytes / LoopbackStream.WRITE_SIZE * 47, r.sentDatagrams, mode.label);
            assertTrue(r.receivedDatagrams > 0 && r.receivedDatagrams <= r.sentDatagrams, mode.label);
            assertTrue(r.receivedBytes <= r.sentBytes, mode.label);
            assertEquals(100.0 * (r.sentDatagrams - r.receivedDatagrams) / r.sentDatagrams, r.lostPercent(), 1e-9);
            assertTrue(r.deliveredGbps() > 0, mode.label);
            assertEquals(mode.gso, r.gsoCounters != null, mode.label);
            assertEquals(mode.gro, r.groCounters != null, mode.label);
            if (mode.gro) {
                assertEquals(r.receivedDatagrams, r.groCounters.datagramsIn(), r.groCounters.toString());
                assertTrue(r.receivedMessages < r.receivedDatagrams, "GroAggregator batched nothing: " + r.groCounters);
            } else {
                assertEquals(r.receivedDatagrams, r.receivedMessages, mode.label);
            }
        }
    }

    @Test
    void mainHeadlinesDeliveredThroughputAndLoss() {
        CliRun r = CliRun.of(OffloadDemo::run, "--rounds", "1", "--seconds", "0.2");
        assertEquals(0, r.exitCode, r.err);
        assertTrue(r.out.contains("Offload capabilities"), r.out);
        String header = r.out.lines().filter(l -> l.startsWith("mode ")).findFirst().orElse("");
        for (String column : new String[] {"delivered Gbit/s", "sent datagrams", "recv datagrams", "lost",
                "send ops/MB", "recv msgs/MB"}) {
            assertTrue(header.contains(column), "column '" + column + "' in: " + header);
        }
        for (LoopbackStream.Mode mode : LoopbackStream.Mode.values()) {
            String row = r.out.lines().filter(l -> l.startsWith(mode.label + " ")).findFirst().orElse(null);
            assertTrue(row != null, "a row for " + mode.label + " in: " + r.out);
            // delivered median (min-max), sent, received, lost %, then both per-MB figures.
            String figures = "\\d+\\.\\d\\d \\(\\d+\\.\\d\\d-\\d+\\.\\d\\d\\) +\\d+ +\\d+ +\\d+\\.\\d% +\\d+\\.\\d +\\d+\\.\\d";
            assertTrue(row.matches(".* " + figures), row);
        }
        assertTrue(r.out.contains("Delivered payload per second (what the receiver got; medians of 1 rounds):"),
                r.out);
        assertTrue(r.out.contains("Lost datagrams: "), r.out);
        assertFalse(r.out.matches("(?s).*sent [0-9.]+x.*"), "no headline of bytes sent: " + r.out);
        assertFalse(r.out.contains("sent Gbit/s"), r.out);
    }

    @Test
    void helpShowsTheOptionsAndDefaults() {
        CliRun.of(OffloadDemo::run, "--help").assertHelp("--transport=epoll|io_uring|nio", "--seconds=S",
                "(default: 1.0)", "--rounds=N", "(default: 3)", "--segment-size=BYTES", "(default: 1400)",
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
