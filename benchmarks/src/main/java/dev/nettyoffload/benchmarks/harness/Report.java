package dev.nettyoffload.benchmarks.harness;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nettyoffload.core.OffloadCapabilities;
import dev.nettyoffload.core.Transport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * The harness's report: every run as JSON, a Markdown table of medians (with min and max) and ratios, and an
 * SVG bar chart of the medians (drawn by {@link ReportChart}).
 */
final class Report {
    static final String JSON = "results.json";
    static final String MARKDOWN = "results.md";
    static final String SVG = "ratios.svg";
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final List<RunRecord> records;
    final HarnessOptions options;
    private final OffloadCapabilities caps;
    private final MachineLoad load;
    private final List<Summary> summaries = new ArrayList<>();
    final String generated = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();

    Report(List<RunRecord> records, HarnessOptions options, OffloadCapabilities caps, MachineLoad load) {
        this.records = records;
        this.options = options;
        this.caps = caps;
        this.load = load;
        Map<Config, List<RunRecord>> byConfig = new LinkedHashMap<>();
        for (RunRecord r : records) {
            byConfig.computeIfAbsent(r.config, k -> new ArrayList<>()).add(r);
        }
        for (Map.Entry<Config, List<RunRecord>> e : byConfig.entrySet()) {
            summaries.add(new Summary(e.getKey(), e.getValue()));
        }
    }

    /** Medians (and min/max of throughput) of one configuration's successful runs. */
    static final class Summary {
        final Config config;
        final int runs;
        final int failures;
        final double gbps;
        final double minGbps;
        final double maxGbps;
        final double datagramsPerSecond;
        final double senderOpsPerMb;
        final double receiverOpsPerMb;
        final double senderCpuPerGb;
        final double receiverCpuPerGb;
        /** Payload Gbit moved per CPU second of sender and receiver together: throughput with CPU share factored out. */
        final double gbitPerCpuSecond;

        Summary(Config config, List<RunRecord> runs) {
            this.config = config;
            List<RunRecord> ok = new ArrayList<>();
            for (RunRecord r : runs) {
                if (r.ok()) {
                    ok.add(r);
                }
            }
            this.runs = ok.size();
            this.failures = runs.size() - ok.size();
            gbps = median(ok, r -> r.receiver.gbps());
            minGbps = ok.stream().mapToDouble(r -> r.receiver.gbps()).min().orElse(Double.NaN);
            maxGbps = ok.stream().mapToDouble(r -> r.receiver.gbps()).max().orElse(Double.NaN);
            datagramsPerSecond = median(ok, r -> r.receiver.datagramsPerSecond());
            senderOpsPerMb = median(ok, r -> r.sender.opsPerMb());
            receiverOpsPerMb = median(ok, r -> r.receiver.opsPerMb());
            senderCpuPerGb = median(ok, r -> r.sender.cpuSecondsPerGb());
            receiverCpuPerGb = median(ok, r -> r.receiver.cpuSecondsPerGb());
            gbitPerCpuSecond = median(ok, r -> 8 / (r.sender.cpuSecondsPerGb() + r.receiver.cpuSecondsPerGb()));
        }

        private static double median(List<RunRecord> runs, ToDoubleFunction<RunRecord> f) {
            double[] v = runs.stream().mapToDouble(f).filter(d -> !Double.isNaN(d)).sorted().toArray();
            if (v.length == 0) {
                return Double.NaN;
            }
            return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
        }
    }

    List<Summary> summaries() {
        return summaries;
    }

    Summary find(String network, Transport transport, BenchPath path) {
        for (Summary s : summaries) {
            if (s.config.network.equals(network) && s.config.transport == transport && s.config.path == path
                    && s.runs > 0) {
                return s;
            }
        }
        return null;
    }

    /** Median throughput over that of path 1 (C1 for C paths) on the same network and transport. */
    double overPath1(Summary s) {
        Summary base = find(s.config.network, s.config.transport, s.config.path.c ? BenchPath.C_MMSG : BenchPath.PLAIN);
        return base == null || s.runs == 0 ? Double.NaN : s.gbps / base.gbps;
    }

    /** Median throughput of a Java path over its C counterpart on the same network. */
    double overC(Summary s) {
        if (s.config.path.c || s.runs == 0) {
            return Double.NaN;
        }
        for (BenchPath p : BenchPath.values()) {
            if (p.javaCounterpart == s.config.path) {
                Summary c = find(s.config.network, null, p);
                return c == null ? Double.NaN : s.gbps / c.gbps;
            }
        }
        return Double.NaN;
    }

    void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(JSON), json(), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve(MARKDOWN), markdown(), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve(SVG), new ReportChart(this).svg(), StandardCharsets.UTF_8);
    }

    /** The command that reproduces this report (the jar path as the README builds it). */
    String command() {
        StringBuilder sb = new StringBuilder("java -jar benchmarks/target/netty-offload-harness.jar");
        for (String a : options.args) {
            sb.append(' ').append(a.isEmpty() || a.chars().anyMatch(Character::isWhitespace) ? "'" + a + "'" : a);
        }
        return sb.toString();
    }

    String machine() {
        return String.format(Locale.ROOT, "Linux %s, %d CPUs, Java %s", caps.kernelRelease(),
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"));
    }

    // ---- Markdown

    String markdownTable() {
        StringBuilder sb = new StringBuilder();
        sb.append("| network | transport | path | received Gbit/s, median (min-max) | datagrams/s | "
                + "sender ops/MB | receiver ops/MB | sender CPU s/GB | receiver CPU s/GB | Gbit per CPU s | x path 1 | x C |\n");
        sb.append("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (Summary s : summaries) {
            sb.append("| ").append(s.config.network)
                    .append(" | ").append(s.config.transportName())
                    .append(" | ").append(s.config.path.label).append(' ').append(s.config.path.description);
            if (s.runs == 0) {
                sb.append(" | failed (").append(s.failures).append(" runs) | | | | | | | | |\n");
                continue;
            }
            sb.append(" | ").append(f2(s.gbps)).append(" (").append(f2(s.minGbps)).append('-')
                    .append(f2(s.maxGbps)).append(')');
            if (s.failures > 0) {
                sb.append(", ").append(s.failures).append(" failed");
            }
            sb.append(" | ").append(String.format(Locale.ROOT, "%.2f M", s.datagramsPerSecond / 1e6))
                    .append(" | ").append(f1(s.senderOpsPerMb))
                    .append(" | ").append(f1(s.receiverOpsPerMb))
                    .append(" | ").append(f2(s.senderCpuPerGb))
                    .append(" | ").append(f2(s.receiverCpuPerGb))
                    .append(" | ").append(f2(s.gbitPerCpuSecond))
                    .append(" | ").append(ratio(overPath1(s)))
                    .append(" | ").append(ratio(overC(s)))
                    .append(" |\n");
        }
        return sb.toString();
    }

    private String markdown() {
        StringBuilder sb = new StringBuilder();
        sb.append("# netty-offload end-to-end benchmark\n\n");
        sb.append("`").append(command()).append("` on ").append(machine()).append(", ").append(generated)
                .append(".\n\n");
        sb.append(String.format(Locale.ROOT, "%d-byte UDP datagrams, %d per batch; %d rounds, interleaved; "
                        + "%.2f s warm-up and %.2f s measured per run. Medians of the rounds.%n%n",
                options.segmentSize, options.batch, options.runs, options.warmup, options.window));
        String warning = load.warning();
        if (warning != null) {
            sb.append("**").append(warning).append("**\n\n");
        }
        sb.append(markdownTable()).append('\n');
        sb.append(ratioSummary()).append('\n');
        sb.append("Machine: ").append(load).append(".\n\n");
        sb.append("- Received Gbit/s counts UDP payload at the receiver during its window.\n");
        sb.append("- ops/MB: for C, system calls; for Java, messages at the Netty API (path 1: one per datagram, "
                + "though epoll sends them with sendmmsg and reads them with recvmmsg, many per system call; "
                + "GsoEncoder: kernel sends plus single and software datagrams; receiver: channelRead messages).\n");
        sb.append("- CPU s/GB: the sending or receiving process's own CPU time (all threads, user+system) during "
                + "its window, per GB of payload it sent or received.\n");
        sb.append("- Gbit per CPU s: payload moved per CPU second of sender and receiver together (8 / the sum "
                + "of both CPU s/GB, median of the runs). It changes little with how much CPU other load leaves the "
                + "two processes, so it is the figure to compare on a busy machine.\n");
        sb.append("- x path 1: median over path 1 (C1 for C) on the same network and transport; x C: Java path "
                + "N over C path CN on the same network.\n");
        return sb.toString();
    }

    String ratioSummary() {
        StringBuilder sb = new StringBuilder();
        for (String network : List.of("loopback", "veth")) {
            for (Transport t : Transport.values()) {
                Summary p1 = find(network, t, BenchPath.PLAIN);
                Summary p2 = find(network, t, BenchPath.GSO);
                Summary p3 = find(network, t, BenchPath.GSO_GRO);
                if (p1 == null) {
                    continue;
                }
                sb.append("- ").append(network).append(' ').append(t).append(':');
                if (p2 != null) {
                    sb.append(" path 2 / path 1 = ").append(ratio(p2.gbps / p1.gbps)).append(';');
                }
                if (p3 != null) {
                    double r1 = p3.gbps / p1.gbps;
                    double rc = overC(p3);
                    sb.append(" path 3 / path 1 = ").append(ratio(r1))
                            .append("; path 3 / C3 = ").append(ratio(rc))
                            .append(';');
                    Summary c3 = find(network, null, BenchPath.C_GSO_GRO);
                    sb.append(" per CPU second: path 3 / path 1 = ").append(ratio(p3.gbitPerCpuSecond / p1.gbitPerCpuSecond));
                    if (c3 != null) {
                        sb.append(", path 3 / C3 = ").append(ratio(p3.gbitPerCpuSecond / c3.gbitPerCpuSecond));
                    }
                    sb.append(';');
                } else if (options.paths.contains(BenchPath.GSO_GRO)) {
                    sb.append(" no path 3 result;");
                }
                sb.setLength(sb.length() - 1);
                sb.append('\n');
            }
        }
        return sb.toString();
    }

    // ---- JSON

    String json() {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("generated", generated);
        root.put("command", command());
        root.put("machine", machine());
        ObjectNode l = root.putObject("load");
        number(l, "loadAverageBefore", load.loadBefore);
        number(l, "loadAverageAfter", load.loadAfter);
        number(l, "stealShare", load.steal);
        l.put("cpus", load.cpus);
        root.put("capabilities", caps.toString());
        ObjectNode o = root.putObject("options");
        o.put("runs", options.runs);
        o.put("warmupSeconds", options.warmup);
        o.put("windowSeconds", options.window);
        o.put("segmentSize", options.segmentSize);
        o.put("batch", options.batch);
        o.put("writesPerFlush", options.writesPerFlush);
        o.put("flows", options.flows);
        ArrayNode runs = root.putArray("runs");
        for (RunRecord r : records) {
            ObjectNode n = runs.addObject();
            n.put("network", r.config.network);
            n.put("transport", r.config.transportName());
            n.put("path", r.config.path.label);
            n.put("round", r.round);
            if (r.ok()) {
                side(n.putObject("receiver"), r.receiver);
                side(n.putObject("sender"), r.sender);
                number(n, "receivedGbps", r.receiver.gbps());
            } else {
                n.put("error", r.error);
            }
        }
        ArrayNode summary = root.putArray("summary");
        for (Summary s : summaries) {
            ObjectNode n = summary.addObject();
            n.put("network", s.config.network);
            n.put("transport", s.config.transportName());
            n.put("path", s.config.path.label);
            n.put("description", s.config.path.description);
            String reader = receiverReader(s.config);
            if (reader != null) {
                n.put("receiverReader", reader);
            }
            n.put("runs", s.runs);
            n.put("failures", s.failures);
            ObjectNode gbps = n.putObject("receivedGbps");
            number(gbps, "median", s.gbps);
            number(gbps, "min", s.minGbps);
            number(gbps, "max", s.maxGbps);
            number(n, "datagramsPerSecond", s.datagramsPerSecond);
            number(n, "senderOpsPerMb", s.senderOpsPerMb);
            number(n, "receiverOpsPerMb", s.receiverOpsPerMb);
            number(n, "senderCpuSecondsPerGb", s.senderCpuPerGb);
            number(n, "receiverCpuSecondsPerGb", s.receiverCpuPerGb);
            number(n, "gbitPerCpuSecond", s.gbitPerCpuSecond);
            number(n, "overPath1", overPath1(s));
            number(n, "overC", overC(s));
        }
        try {
            return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the report as JSON", e);
        }
    }

    /** The reader of the last successful run of {@code config}'s receiver, or {@code null}. */
    private String receiverReader(Config config) {
        String reader = null;
        for (RunRecord r : records) {
            if (r.ok() && r.config.equals(config) && r.receiver.reader != null) {
                reader = r.receiver.reader;
            }
        }
        return reader;
    }

    private static void side(ObjectNode n, Side s) {
        number(n, "seconds", s.seconds);
        n.put("bytes", s.bytes);
        n.put("datagrams", s.datagrams);
        n.put("ops", s.ops);
        number(n, "cpuSeconds", s.cpuSeconds);
        if (s.reader != null) {
            n.put("reader", s.reader);
        }
    }

    /** A measurement, or null where there is none (a ratio without its baseline, a failed side). */
    private static void number(ObjectNode n, String field, double value) {
        if (Double.isNaN(value) || Double.isInfinite(value)) {
            n.putNull(field);
        } else {
            n.put(field, value);
        }
    }

    static String f1(double d) {
        return Double.isNaN(d) ? "-" : String.format(Locale.ROOT, "%.1f", d);
    }

    static String f2(double d) {
        return Double.isNaN(d) ? "-" : String.format(Locale.ROOT, "%.2f", d);
    }

    static String ratio(double d) {
        return Double.isNaN(d) || Double.isInfinite(d) ? "-" : String.format(Locale.ROOT, "%.2fx", d);
    }
}
