package dev.nettyoffload.benchmarks.harness;

import dev.nettyoffload.core.Transport;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** The harness's command line. */
final class HarnessOptions {
    static final String USAGE = String.join("\n",
            "usage: java -jar benchmarks/target/netty-offload-harness.jar [options]",
            "",
            "Sends 1400-byte UDP datagrams from one process to another and measures what the receiver gets, for:",
            "  path 1  plain Netty, one DatagramPacket per datagram, many writes per flush",
            "  path 2  GsoEncoder sender (UDP_SEGMENT), plain receiver",
            "  path 3  GsoEncoder sender, UDP_GRO + GroAggregator receiver",
            "  C1-C3   the same three patterns in C (sendmmsg/recvmmsg, UDP_SEGMENT, UDP_GRO), built with gcc now",
            "over loopback and over a veth pair into a network namespace (root only), for each available transport",
            "(epoll, io_uring, nio). Runs are interleaved (every configuration once per round) so machine drift",
            "cancels out; figures are the median of the rounds with min and max.",
            "",
            "options:",
            "  --quick                 about one minute: 3 rounds, shorter windows, veth with the best transport only",
            "                          and JVM warm-up runs on the first network only",
            "  --runs N                rounds (default 5; --quick 3)",
            "  --warmup S              seconds of traffic before each measurement window (default 0.4; --quick 0.2)",
            "  --window S              seconds measured per run (default 1.0; --quick 0.45)",
            "  --transports LIST       comma-separated: epoll,io_uring,nio (default: all available)",
            "  --networks LIST         comma-separated: loopback,veth (default: both; veth needs root)",
            "  --paths LIST            comma-separated: 1,2,3,c (default: all)",
            "  --segment-size BYTES    datagram payload (default 1400)",
            "  --batch N               datagrams per write or per system call (default 46: 64400 bytes)",
            "  --writes-per-flush N    Java writes of a batch before each flush (default 4)",
            "  --out DIR               report directory (default benchmarks/target/report when run from the",
            "                          repository root, else target/report); udpbench is built in its parent",
            "  --worker-jvm-args ARGS  extra JVM options for the sender and receiver JVMs, space-separated;",
            "                          {worker} becomes the worker's name (tx, loopback-rx, veth-rx), for example",
            "                          \"-XX:StartFlightRecording=filename=/tmp/{worker}.jfr,settings=profile\"",
            "  --max-minutes M         stop starting runs after M minutes (default 10)",
            "  --tiny                  smoke test: one short round (what the unit test runs)",
            "  --help                  this text",
            "",
            "Writes results.json (every run), results.md (table) and ratios.svg (chart) to the report directory.");

    int runs = 5;
    double warmup = 0.4;
    double window = 1.0;
    double firstDatagramTimeout = 5;
    boolean quick;
    boolean tiny;
    boolean help;
    Set<Transport> transports = new LinkedHashSet<>(List.of(Transport.values()));
    boolean transportsGiven;
    Set<String> networks = new LinkedHashSet<>(List.of("loopback", "veth"));
    boolean networksGiven;
    Set<BenchPath> paths = new LinkedHashSet<>(List.of(BenchPath.values()));
    boolean pathsGiven;
    int segmentSize = 1400;
    int batch = 46;
    int writesPerFlush = 4;
    Path out;
    List<String> workerJvmArgs = new ArrayList<>();
    double maxMinutes = 10;

    /** The command line as given, for the report's reproduce line. */
    String[] args = new String[0];

    static HarnessOptions parse(String... args) {
        HarnessOptions o = new HarnessOptions();
        o.args = args.clone();
        // --quick and --tiny set defaults that explicit options then override, whatever their order.
        for (String a : args) {
            if (a.equals("--quick")) {
                o.quick = true;
                o.runs = 3;
                o.warmup = 0.2;
                o.window = 0.45;
            } else if (a.equals("--tiny")) {
                o.tiny = true;
                o.runs = 1;
                o.warmup = 0.1;
                o.window = 0.2;
            }
        }
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--quick":
                case "--tiny":
                    break;
                case "--help":
                case "-h":
                    o.help = true;
                    break;
                case "--runs":
                    o.runs = positiveInt(a, value(args, ++i, a));
                    break;
                case "--warmup":
                    o.warmup = nonNegative(a, value(args, ++i, a));
                    break;
                case "--window":
                    o.window = nonNegative(a, value(args, ++i, a));
                    if (o.window == 0) {
                        throw new IllegalArgumentException("--window must be more than 0 seconds");
                    }
                    break;
                case "--transports":
                    o.transports = new LinkedHashSet<>();
                    for (String t : value(args, ++i, a).split(",")) {
                        o.transports.add(Transport.fromName(t.trim()));
                    }
                    o.transportsGiven = true;
                    break;
                case "--networks":
                    o.networks = new LinkedHashSet<>();
                    for (String n : value(args, ++i, a).split(",")) {
                        String name = n.trim().toLowerCase(java.util.Locale.ROOT);
                        if (!name.equals("loopback") && !name.equals("veth")) {
                            throw new IllegalArgumentException("unknown network: " + n + " (expected loopback or veth)");
                        }
                        o.networks.add(name);
                    }
                    o.networksGiven = true;
                    break;
                case "--paths":
                    o.paths = new LinkedHashSet<>();
                    for (String p : value(args, ++i, a).split(",")) {
                        o.paths.addAll(List.of(BenchPath.fromName(p.trim())));
                    }
                    o.pathsGiven = true;
                    break;
                case "--segment-size":
                    o.segmentSize = positiveInt(a, value(args, ++i, a));
                    break;
                case "--batch":
                    o.batch = positiveInt(a, value(args, ++i, a));
                    break;
                case "--writes-per-flush":
                    o.writesPerFlush = positiveInt(a, value(args, ++i, a));
                    break;
                case "--out":
                    o.out = Path.of(value(args, ++i, a));
                    break;
                case "--worker-jvm-args":
                    for (String j : value(args, ++i, a).trim().split("\\s+")) {
                        if (!j.isEmpty()) {
                            o.workerJvmArgs.add(j);
                        }
                    }
                    break;
                case "--max-minutes":
                    o.maxMinutes = nonNegative(a, value(args, ++i, a));
                    break;
                default:
                    throw new IllegalArgumentException("unknown option: " + a + " (see --help)");
            }
        }
        if ((long) o.segmentSize * o.batch > 65507 || o.batch > 128) {
            throw new IllegalArgumentException("--segment-size x --batch must be at most 65507 bytes and --batch at"
                    + " most 128 (one UDP datagram, UDP_MAX_SEGMENTS), got " + o.segmentSize + " x " + o.batch);
        }
        if (o.out == null) {
            o.out = Files.isDirectory(Path.of("benchmarks")) ? Path.of("benchmarks", "target", "report")
                    : Path.of("target", "report");
        }
        return o;
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }

    private static int positiveInt(String option, String v) {
        try {
            int n = Integer.parseInt(v);
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(option + " must be a positive integer, got " + v);
    }

    private static double nonNegative(String option, String v) {
        try {
            double d = Double.parseDouble(v);
            if (d >= 0 && d < 3600) {
                return d;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(option + " must be a number of seconds (or minutes) from 0 to 3600, got " + v);
    }
}
