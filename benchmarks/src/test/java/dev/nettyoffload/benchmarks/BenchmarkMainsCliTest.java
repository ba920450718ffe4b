package dev.nettyoffload.benchmarks;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.ToIntFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command lines of the benchmark mains other than the harness and JMH: help, and one-line refusals. */
class BenchmarkMainsCliTest {
    private static String[] run(ToIntFunction<String[]> main, int expectedExit, String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            System.setOut(o);
            System.setErr(e);
            code = main.applyAsInt(args);
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        String[] result = {out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
        assertEquals(expectedExit, code, result[0] + result[1]);
        return result;
    }

    private static void assertRefused(ToIntFunction<String[]> main, String name, String allowed, String... args) {
        String[] r = run(main, 2, args);
        assertEquals("", r[0], "nothing should have run");
        assertEquals(1, r[1].lines().count(), r[1]);
        assertTrue(r[1].contains(name) && r[1].contains(allowed), r[1]);
    }

    @Test
    void udpReceiveBenchmarkHelpAndRefusals() {
        String help = run(UdpReceiveBenchmark::run, 0, "--help")[0];
        for (String s : new String[] {"Usage: UdpReceiveBenchmark", "[SECONDS_PER_RUN]", "[PAIRS]", "[DATAGRAM_SIZE]",
                "(default: 3)", "(default: 1400)"}) {
            assertTrue(help.contains(s), s + " in: " + help);
        }
        assertRefused(UdpReceiveBenchmark::run, "SECONDS_PER_RUN", "1-3600", "0");
        assertRefused(UdpReceiveBenchmark::run, "PAIRS", "1-100", "3", "-2");
        assertRefused(UdpReceiveBenchmark::run, "DATAGRAM_SIZE", "1-1424", "3", "3", "9000");
        assertRefused(UdpReceiveBenchmark::run, "SECONDS_PER_RUN", "1-3600", "abc");
    }

    @Test
    void packetSegmentCpuTimeHelpAndRefusals() {
        String help = run(PacketSegmentCpuTime::run, 0, "--help")[0];
        assertTrue(help.contains("Usage: PacketSegmentCpuTime") && help.contains("[SECONDS]")
                && help.contains("(default: 2)"), help);
        assertRefused(PacketSegmentCpuTime::run, "SECONDS", "0.01-3600", "-1");
        assertRefused(PacketSegmentCpuTime::run, "SECONDS", "0.01-3600", "two");
        assertRefused(PacketSegmentCpuTime::run, "--bogus", "--help", "--bogus");
    }

    @Test
    void gsoSoftwareCpuTimeHelpAndRefusals() {
        String help = run(GsoSoftwareCpuTime::run, 0, "--help")[0];
        assertTrue(help.contains("Usage: GsoSoftwareCpuTime") && help.contains("[SECONDS]")
                && help.contains("(default: 4)"), help);
        assertRefused(GsoSoftwareCpuTime::run, "SECONDS", "0.01-3600", "0");
        assertRefused(GsoSoftwareCpuTime::run, "--bogus", "--help", "--bogus");
    }
}
