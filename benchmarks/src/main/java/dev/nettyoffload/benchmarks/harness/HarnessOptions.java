package dev.nettyoffload.benchmarks.harness;

import dev.nettyoffload.examples.Cli;
import dev.nettyoffload.core.Transport;
import dev.nettyoffload.core.UdpLimits;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** The harness's command line. */
@Command(name = "harness", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class,
        sortOptions = false,
        customSynopsis = "java -jar benchmarks/target/netty-offload-harness.jar [options]",
        description = {
                "Sends 1400-byte UDP datagrams from one process to another and measures what",
                "the receiver gets, for:",
                "  path 1  plain Netty, one DatagramPacket per datagram, many writes per flush",
                "  path 2  GsoEncoder sender (UDP_SEGMENT), plain receiver",
                "  path 3  GsoEncoder sender, UDP_GRO + GroAggregator receiver",
                "  C1-C3   the same three patterns in C (sendmmsg/recvmmsg, UDP_SEGMENT,",
                "          UDP_GRO), built with gcc now",
                "over loopback and over a veth pair into a network namespace (root only), for",
                "each available transport (epoll, io_uring, nio). Runs are interleaved (every",
                "configuration once per round) so machine drift cancels out; figures are the",
                "median of the rounds with min and max.",
                ""},
        footer = {"", "Writes results.json (every run), results.md (table) and ratios.svg (chart) to the report"
                + " directory."})
final class HarnessOptions implements Cli.Validated {
    @Option(names = "--quick", description = {"About one minute: 3 rounds, shorter windows, veth with the best"
            + " transport only and JVM warm-up runs on the first network only."})
    boolean quick;

    @Option(names = "--runs", paramLabel = "N", defaultValue = "5",
            description = "Rounds, 1-1000 (default: ${DEFAULT-VALUE}; --quick 3).")
    @Cli.Range(min = 1, max = 1000)
    int runs;

    @Option(names = "--warmup", paramLabel = "S", defaultValue = "0.4",
            description = "Seconds of traffic before each measurement window, 0-3600 (default: ${DEFAULT-VALUE};"
                    + " --quick 0.2).")
    @Cli.Range(min = 0, max = 3600)
    double warmup;

    @Option(names = "--window", paramLabel = "S", defaultValue = "1.0",
            description = "Seconds measured per run, 0.001-3600 (default: ${DEFAULT-VALUE}; --quick 0.45).")
    @Cli.Range(min = 0.001, max = 3600)
    double window;

    @Option(names = "--transports", paramLabel = "NAME", split = ",", defaultValue = "epoll,io_uring,nio",
            description = "Comma-separated, any case (default: ${DEFAULT-VALUE}, those available).")
    Set<Transport> transports;

    @Option(names = "--networks", paramLabel = "NAME", split = ",", defaultValue = "loopback,veth",
            description = "Comma-separated: loopback, veth (default: ${DEFAULT-VALUE}; veth needs root).")
    Set<String> networks;

    @Option(names = "--paths", paramLabel = "NAME", split = ",", defaultValue = "1,2,3,c",
            description = "Comma-separated: 1, 2, 3, c (all C paths), C1, C2, C3 (default: ${DEFAULT-VALUE}).")
    List<String> pathNames;

    @Option(names = "--segment-size", paramLabel = "BYTES", defaultValue = "1400",
            description = "Datagram payload, 1-" + UdpLimits.MAX_IPV4_PAYLOAD + " (default: ${DEFAULT-VALUE}).")
    @Cli.Range(min = 1, max = UdpLimits.MAX_IPV4_PAYLOAD)
    int segmentSize;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "46",
            description = "Datagrams per write or per system call, 1-" + UdpLimits.MODERN_MAX_SEGMENTS + ", at most "
                    + UdpLimits.MAX_IPV4_PAYLOAD + " bytes in all (default: ${DEFAULT-VALUE}: 64400 bytes).")
    @Cli.Range(min = 1, max = UdpLimits.MODERN_MAX_SEGMENTS)
    int batch;

    @Option(names = "--writes-per-flush", paramLabel = "N", defaultValue = "4",
            description = "Java writes of a batch before each flush, 1-1024 (default: ${DEFAULT-VALUE}).")
    @Cli.Range(min = 1, max = 1024)
    int writesPerFlush;

    @Option(names = "--flows", paramLabel = "N", defaultValue = "1",
            description = {"Flows per run, 1-64 (default: ${DEFAULT-VALUE}): N sender/receiver pairs on N ports,"
                    + " each Java flow on its own event loop (one JVM per side), each C flow in its own processes;"
                    + " throughput and CPU are added up."})
    @Cli.Range(min = 1, max = 64)
    int flows;

    @Option(names = "--out", paramLabel = "DIR",
            description = {"Report directory; udpbench is built in its parent (default here: ${DEFAULT-VALUE};"
                    + " benchmarks/target/report from the repository root, else target/report)."})
    Path out = Files.isDirectory(Path.of("benchmarks")) ? Path.of("benchmarks", "target", "report")
            : Path.of("target", "report");

    @Option(names = "--worker-jvm-args", paramLabel = "ARGS",
            description = {"Extra JVM options for the sender and receiver JVMs, space-separated; {worker} becomes"
                    + " the worker's name (tx, loopback-rx, veth-rx), for example"
                    + " \"-XX:StartFlightRecording=filename=/tmp/{worker}.jfr,settings=profile\"."})
    String workerJvmArgLine;

    @Option(names = "--max-minutes", paramLabel = "M", defaultValue = "10",
            description = "Stop starting runs after M minutes, 0-3600 (default: ${DEFAULT-VALUE}).")
    @Cli.Range(min = 0, max = 3600)
    double maxMinutes;

    @Option(names = "--tiny", description = "Smoke test: one short round (what the unit test runs).")
    boolean tiny;

    double firstDatagramTimeout = 5;
    boolean transportsGiven;
    boolean networksGiven;
    boolean pathsGiven;
    Set<BenchPath> paths = new LinkedHashSet<>();
    List<String> workerJvmArgs = new ArrayList<>();

    /** The command line as given, for the report's reproduce line. */
    String[] args = new String[0];

    @Override
    public void validate(CommandLine commandLine) {
        ParseResult given = commandLine.getParseResult();
        args = given.originalArgs().toArray(new String[0]);
        // --quick and --tiny set defaults that explicit options then override, whatever their order.
        if (tiny || quick) {
            if (!given.hasMatchedOption("--runs")) {
                runs = tiny ? 1 : 3;
            }
            if (!given.hasMatchedOption("--warmup")) {
                warmup = tiny ? 0.1 : 0.2;
            }
            if (!given.hasMatchedOption("--window")) {
                window = tiny ? 0.2 : 0.45;
            }
        }
        transports = new LinkedHashSet<>(transports);
        transportsGiven = given.hasMatchedOption("--transports");
        Set<String> names = new LinkedHashSet<>();
        for (String n : networks) {
            String name = n.trim().toLowerCase(Locale.ROOT);
            if (!name.equals("loopback") && !name.equals("veth")) {
                throw Cli.invalid(commandLine, "--networks", "unknown network: " + n + " (expected loopback or veth)");
            }
            names.add(name);
        }
        networks = names;
        networksGiven = given.hasMatchedOption("--networks");
        paths = new LinkedHashSet<>();
        for (String p : pathNames) {
            try {
                paths.addAll(List.of(BenchPath.fromName(p.trim())));
            } catch (IllegalArgumentException e) {
                throw Cli.invalid(commandLine, "--paths", e.getMessage());
            }
        }
        pathsGiven = given.hasMatchedOption("--paths");
        if ((long) segmentSize * batch > UdpLimits.MAX_IPV4_PAYLOAD) {
            throw Cli.invalid(commandLine, "--batch", segmentSize + " x " + batch + " bytes is more than one UDP"
                    + " datagram (expected --segment-size x --batch at most " + UdpLimits.MAX_IPV4_PAYLOAD + ")");
        }
        workerJvmArgs = new ArrayList<>();
        if (workerJvmArgLine != null) {
            for (String j : workerJvmArgLine.trim().split("\\s+")) {
                if (!j.isEmpty()) {
                    workerJvmArgs.add(j);
                }
            }
        }
    }
}
