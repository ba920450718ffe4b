package dev.nettyoffload.benchmarks.harness;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nettyoffload.examples.Cli;
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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs the harness in its tiny mode (one short round) so that it cannot rot: real processes, real sockets,
 * a real report. Nothing here is timed; the assertions are about what the report contains.
 */
class HarnessTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** The runs of round 1 in results.json. */
    private static List<JsonNode> firstRound(String json) throws Exception {
        List<JsonNode> runs = new ArrayList<>();
        for (JsonNode run : MAPPER.readTree(json).get("runs")) {
            if (run.get("round").asInt() == 1) {
                runs.add(run);
            }
        }
        return runs;
    }

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
        assertEquals("", o.err);
        assertTrue(o.out.startsWith("Usage: java -jar benchmarks/target/netty-offload-harness.jar [options]"), o.out);
        for (String s : List.of("--quick", "path 3", "--runs=N", "(default: 5; --quick 3)", "(default: 0.4; --quick",
                "--transports=NAME", "--networks=NAME", "--paths=NAME", "(default: 1,2,3,c)", "(default: 1400)",
                "(default: 46: 64400", "(default: 4)", "--out=DIR", "--worker-jvm-args=ARGS", "(default: 10)",
                "--tiny", "--version")) {
            assertTrue(o.out.contains(s), s + " in: " + o.out);
        }
    }

    @Test
    void badOptionIsRefusedInOneLine() {
        Outcome o = harness("--transports", "carrier-pigeon");
        assertEquals(2, o.exitCode);
        assertEquals("harness: Invalid value for option '--transports' (NAME): unknown transport: carrier-pigeon"
                + " (expected epoll, io_uring or nio)", o.err.trim());
        assertEquals("", o.out, "nothing started");
        for (String[] args : List.of(new String[] {"--batch", "100"}, new String[] {"--runs", "-1"},
                new String[] {"--window", "abc"}, new String[] {"--networks", "lo"}, new String[] {"--paths", "4"},
                new String[] {"--segment-size", "70000"}, new String[] {"--max-minutes", "-1"})) {
            Outcome bad = harness(args);
            assertEquals(2, bad.exitCode, bad.err);
            assertEquals(1, bad.err.trim().lines().count(), bad.err);
            assertTrue(bad.err.startsWith("harness: ") && bad.err.contains(args[0]), bad.err);
            assertTrue(bad.err.contains("expected"), bad.err);
            assertEquals("", bad.out, "nothing started");
        }
    }

    @Test
    void quickAndTinySetDefaultsThatExplicitOptionsOverride() {
        HarnessOptions quick = Cli.parse(new HarnessOptions(), "--runs", "7", "--quick");
        assertEquals(7, quick.runs);
        assertEquals(0.2, quick.warmup);
        assertEquals(0.45, quick.window);
        HarnessOptions tiny = Cli.parse(new HarnessOptions(), "--tiny", "--transports", "NIO, epoll");
        assertEquals(1, tiny.runs);
        assertEquals(List.of(Transport.NIO, Transport.EPOLL), List.copyOf(tiny.transports));
        assertTrue(tiny.transportsGiven);
        HarnessOptions plain = Cli.parse(new HarnessOptions(), "--paths", "c", "--worker-jvm-args", "-Xss1m  -Xint");
        assertEquals(5, plain.runs);
        assertEquals(List.of(BenchPath.C_MMSG, BenchPath.C_GSO, BenchPath.C_GSO_GRO), List.copyOf(plain.paths));
        assertEquals(List.of("-Xss1m", "-Xint"), plain.workerJvmArgs);
        assertEquals(List.of(Transport.values()), List.copyOf(plain.transports));
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
        for (JsonNode run : firstRound(json)) {
            JsonNode receiver = run.get("receiver");
            assertTrue(receiver != null, "run failed: " + run);
            assertTrue(receiver.get("bytes").asLong() > 0, "nothing received: " + run);
            String transport = run.get("transport").asText();
            String path = run.get("path").asText();
            seen.add(transport + "/" + path);
            if (transport.equals("epoll") && path.equals("3") && OffloadCapabilities.get().isUdpGroSupported()) {
                // UDP_GRO + GroAggregator: the receiver's pipeline sees batches, not datagrams.
                assertTrue(receiver.get("ops").asLong() * 4 < receiver.get("datagrams").asLong(), "no batches: " + run);
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
        List<JsonNode> runs = firstRound(json);
        assertFalse(runs.isEmpty(), json);
        JsonNode run = runs.get(0);
        assertEquals("veth", run.get("network").asText());
        assertTrue(run.get("receiver") != null && run.get("receiver").get("bytes").asLong() > 0, run.toString());
        long pid = ProcessHandle.current().pid();
        assertFalse(CommandRunner.run("ip", "netns", "list").contains("bmbench-" + pid + "-"), "namespace left behind");
        assertFalse(CommandRunner.run("ip", "-o", "link").contains(NetNs.uniqueDeviceName("bmt")), "veth left behind");
    }
}
