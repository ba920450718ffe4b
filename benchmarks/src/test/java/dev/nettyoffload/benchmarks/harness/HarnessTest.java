package dev.nettyoffload.benchmarks.harness;

import dev.nettyoffload.core.OffloadCapabilities;
import dev.nettyoffload.core.Transport;
import dev.nettyoffload.testkit.CommandRunner;
import dev.nettyoffload.testkit.NetNs;
import dev.nettyoffload.testkit.Prerequisites;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs the harness in its tiny mode (one short round) so that it cannot rot: real processes, real sockets,
 * a real report. Nothing here is timed; the assertions are about what the report contains.
 */
class HarnessTest {
    private static final Pattern RUN = Pattern.compile(
            "\\{\"network\": \"(\\w+)\", \"transport\": \"(\\w+)\", \"path\": \"(\\w+)\", \"round\": 1, "
                    + "(\"error\": \"[^\"]*\"|\"receiver\": \\{\"seconds\": [^,]+, \"bytes\": (\\d+), "
                    + "\"datagrams\": (\\d+), \"ops\": (\\d+))");

    private static final class Outcome {
        final int exitCode;
        final String out;
        final String err;

        Outcome(int exitCode, String out, String err) {
            this.exitCode = exitCode;
            this.out = out;
            this.err = err;
        }
    }

    private static Outcome harness(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            code = Harness.run(o, e, args);
        }
        return new Outcome(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void helpListsTheOptions() {
        Outcome o = harness("--help");
        assertEquals(0, o.exitCode);
        assertTrue(o.out.contains("--quick"), o.out);
        assertTrue(o.out.contains("path 3"), o.out);
    }

    @Test
    void badOptionIsRefusedInOneLine() {
        Outcome o = harness("--transports", "carrier-pigeon");
        assertEquals(2, o.exitCode);
        assertEquals("harness: unknown transport: carrier-pigeon (expected epoll, io_uring or nio)",
                o.err.trim());
        Outcome batch = harness("--batch", "100");
        assertEquals(2, batch.exitCode);
        assertEquals(1, batch.err.trim().lines().count(), batch.err);
    }

    @Test
    void tinyRunOnLoopbackWritesAReport(@TempDir Path dir) throws Exception {
        List<String> transports = new ArrayList<>(List.of("nio"));
        if (Transport.EPOLL.isAvailable()) {
            transports.add("epoll");
        }
        boolean gcc = Prerequisites.hasCommand("gcc");
        if (!gcc && Prerequisites.requireAll()) {
            Prerequisites.requireCommand("gcc", "gcc");
        }
        Path out = dir.resolve("report");
        Outcome o = harness("--tiny", "--networks", "loopback", "--transports", String.join(",", transports),
                "--paths", "1,2,3,c", "--out", out.toString());
        assertEquals(0, o.exitCode, o.out + o.err);
        assertTrue(o.out.contains("UDP_SEGMENT"), "capabilities first: " + o.out);
        assertTrue(o.err.contains("[  1/"), "progress line: " + o.err);

        String json = Files.readString(out.resolve(Report.JSON));
        List<String> seen = new ArrayList<>();
        Matcher m = RUN.matcher(json);
        while (m.find()) {
            assertTrue(m.group(5) != null, "run failed: " + m.group());
            assertTrue(Long.parseLong(m.group(5)) > 0, "nothing received: " + m.group());
            seen.add(m.group(2) + "/" + m.group(3));
            if (m.group(2).equals("epoll") && m.group(3).equals("3")
                    && OffloadCapabilities.get().isUdpGroSupported()) {
                // UDP_GRO + GroAggregator: the receiver's pipeline sees batches, not datagrams.
                assertTrue(Long.parseLong(m.group(7)) * 4 < Long.parseLong(m.group(6)), "no batches: " + m.group());
            }
        }
        List<String> expected = new ArrayList<>();
        for (String t : transports) {
            expected.add(t + "/1");
            expected.add(t + "/2");
            expected.add(t + "/3");
        }
        if (gcc) {
            expected.addAll(List.of("c/C1", "c/C2", "c/C3"));
        } else {
            assertTrue(o.out.contains("skipping C reference: gcc not found"), o.out);
        }
        assertEquals(expected.stream().sorted().toList(), seen.stream().sorted().toList(), json);

        String md = Files.readString(out.resolve(Report.MARKDOWN));
        assertTrue(md.contains("| loopback | nio | 1 plain Netty | "), md);
        assertTrue(md.contains("| loopback | nio | 3 GsoEncoder -> GroAggregator | "), md);
        assertTrue(md.contains("path 3 / path 1 = "), md);
        String svg = Files.readString(out.resolve(Report.SVG));
        assertTrue(svg.startsWith("<svg") && svg.trim().endsWith("</svg>"), svg);
        assertTrue(svg.contains("plain Netty"), svg);
    }

    @Test
    void tinyRunOverVethCleansUp(@TempDir Path dir) throws Exception {
        Prerequisites.requireNetns();
        Path out = dir.resolve("report");
        String transport = Transport.best().displayName();
        Outcome o = harness("--tiny", "--networks", "veth", "--transports", transport, "--paths", "1",
                "--out", out.toString());
        assertEquals(0, o.exitCode, o.out + o.err);
        String json = Files.readString(out.resolve(Report.JSON));
        Matcher m = RUN.matcher(json);
        assertTrue(m.find(), json);
        assertEquals("veth", m.group(1));
        assertTrue(m.group(5) != null && Long.parseLong(m.group(5)) > 0, m.group());
        long pid = ProcessHandle.current().pid();
        assertFalse(CommandRunner.run("ip", "netns", "list").contains("bmbench-" + pid + "-"), "namespace left behind");
        assertFalse(CommandRunner.run("ip", "-o", "link").contains(NetNs.uniqueDeviceName("bmt")), "veth left behind");
    }
}
