package dev.nettyoffload.benchmarks.harness;

import dev.nettyoffload.examples.Cli;
import dev.nettyoffload.core.OffloadCapabilities;
import dev.nettyoffload.core.Transport;
import dev.nettyoffload.testkit.NetNs;
import dev.nettyoffload.testkit.Prerequisites;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The end-to-end throughput harness (issue 8): the same UDP transfer through plain Netty, {@code GsoEncoder}
 * and {@code GroAggregator}, and through a C reference, over loopback and veth, for every available transport,
 * interleaved, with a JSON, Markdown and SVG report. See {@link HarnessOptions} ({@code --help}).
 * <p>
 * Senders and receivers are separate processes: long-lived {@link Worker} JVMs (the receiver of the veth
 * network runs inside its namespace) and udpbench processes for C. Every run is bounded in time; namespaces,
 * veth devices and child processes are removed on exit, including by a shutdown hook.
 */
public final class Harness {
    /** Standard Ethernet MTU on the veth pair: 1400-byte payloads fit with IPv4 and IPv6 headers. */
    static final int VETH_MTU = 1500;
    private static final Set<AutoCloseable> CLEANUP = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (AutoCloseable c : new ArrayList<>(CLEANUP)) {
                try {
                    c.close();
                } catch (Exception e) {
                    // Best effort while the JVM exits.
                }
            }
        }, "harness-cleanup"));
    }

    private final HarnessOptions options;
    private final PrintStream out;
    private final Progress progress;
    private final Map<String, ChildProcess> workers = new HashMap<>();
    private final Path logDir;
    /** The veth network's receiving side (the sender stays in the root namespace), or null. */
    private NetNs receiverNs;
    private String vethReceiverAddress;
    private Path udpbench;

    private Harness(HarnessOptions options, PrintStream out, PrintStream err) {
        this.options = options;
        this.out = out;
        this.progress = new Progress(err);
        this.logDir = options.out.toAbsolutePath();
    }

    static void registerForShutdown(AutoCloseable c) {
        CLEANUP.add(c);
    }

    static void unregisterForShutdown(AutoCloseable c) {
        CLEANUP.remove(c);
    }

    public static void main(String[] args) {
        System.exit(run(System.out, System.err, args));
    }

    /**
     * Runs the harness; returns the exit code: 0 when at least one run succeeded, 2 for a bad command line (one
     * line on {@code err}, nothing started), else 1.
     */
    static int run(PrintStream out, PrintStream err, String... args) {
        HarnessOptions options = new HarnessOptions();
        return Cli.execute(options, () -> {
            Harness h = new Harness(options, out, err);
            try {
                return h.runAll();
            } catch (IOException | RuntimeException e) {
                err.println("harness: " + oneLine(e));
                return Cli.FAILED;
            } finally {
                h.close();
            }
        }, out, err, args);
    }

    private int runAll() throws IOException {
        Files.createDirectories(logDir);
        OffloadCapabilities caps = OffloadCapabilities.get();
        out.println("netty-offload end-to-end harness");
        out.println(caps);
        out.println();

        List<Transport> transports = new ArrayList<>();
        for (Transport t : options.transports) {
            if (t.isAvailable()) {
                transports.add(t);
            } else {
                out.println("skipping transport " + t + ": not available: " + oneLine(t.unavailabilityCause()));
            }
        }
        List<String> networks = new ArrayList<>();
        if (options.networks.contains("loopback")) {
            networks.add("loopback");
        }
        if (options.networks.contains("veth")) {
            String reason = vethUnavailabilityReason();
            if (reason == null) {
                try {
                    createVeth();
                    networks.add("veth");
                } catch (RuntimeException e) {
                    out.println("skipping veth: cannot set up a namespace and veth pair: " + oneLine(e));
                }
            } else {
                out.println("skipping veth: " + reason);
            }
        }
        boolean wantC = options.paths.stream().anyMatch(p -> p.c);
        if (wantC) {
            String reason = CReference.unavailabilityReason();
            if (reason == null) {
                try {
                    udpbench = CReference.build(logDir.getParent());
                } catch (IOException e) {
                    out.println("skipping C reference: " + oneLine(e));
                }
            } else {
                out.println("skipping C reference: " + reason);
            }
        }
        List<Config> configs = new ArrayList<>();
        for (String network : networks) {
            List<Transport> ts = transports;
            if (options.quick && !options.transportsGiven && network.equals("veth") && !transports.isEmpty()) {
                ts = List.of(transports.get(0)); // the best one: epoll, io_uring, nio in that order
            }
            for (Transport t : ts) {
                for (BenchPath p : options.paths) {
                    if (!p.c) {
                        String why = JavaReceiver.unsupportedReason(t, p.receiverMode);
                        if (why == null) {
                            configs.add(new Config(network, t, p));
                        } else if (network.equals(networks.get(0))) {
                            out.println("skipping path " + p.label + " on " + t + ": " + why);
                        }
                    }
                }
            }
            if (udpbench != null) {
                for (BenchPath p : options.paths) {
                    if (p.c) {
                        configs.add(new Config(network, null, p));
                    }
                }
            }
        }
        if (configs.isEmpty()) {
            out.println("nothing to run");
            return 1;
        }
        double perRun = options.warmup + options.window + 0.5;
        long javaConfigs = options.tiny ? 0 : configs.stream()
                .filter(c -> !c.path.c && !(options.quick && !c.network.equals(networks.get(0)))).count();
        out.printf(Locale.ROOT, "%d configurations x %d rounds, about %s (segment %d bytes, %d per batch)%n%n",
                configs.size(), options.runs,
                Progress.clock((javaConfigs + configs.size() * options.runs) * perRun),
                options.segmentSize, options.batch);

        List<RunRecord> records = new ArrayList<>();
        MachineLoad.Sample loadBefore = MachineLoad.sample();
        long deadline = System.nanoTime() + (long) (options.maxMinutes * 60e9);
        // One unrecorded run of every Java configuration of each network first: the worker JVMs start cold,
        // and without it round 1 measures class loading and the JIT rather than the path.
        List<Config> warmups = new ArrayList<>();
        if (!options.tiny) {
            for (Config c : configs) {
                if (!c.path.c && !(options.quick && !c.network.equals(networks.get(0)))) {
                    warmups.add(c);
                }
            }
        }
        int total = warmups.size() + configs.size() * options.runs;
        int done = 0;
        progress.start(total);
        for (Config c : warmups) {
            progress.update(done, "warm-up  " + c.describe());
            RunRecord r = runOne(c, 0);
            done++;
            if (!r.ok()) {
                progress.note("warm-up run failed: " + c.describe() + ": " + r.error);
            }
        }
        outer:
        for (int round = 1; round <= options.runs; round++) {
            for (Config c : configs) {
                if (System.nanoTime() > deadline) {
                    progress.note("stopping: --max-minutes " + options.maxMinutes + " reached");
                    break outer;
                }
                progress.update(done, "round " + round + "/" + options.runs + "  " + c.describe());
                RunRecord r = runOne(c, round);
                records.add(r);
                done++;
                if (!r.ok()) {
                    progress.note("run failed: " + c.describe() + ": " + r.error);
                }
            }
        }
        progress.finish(done - warmups.size());

        MachineLoad load = MachineLoad.between(loadBefore, MachineLoad.sample());
        Report report = new Report(records, options, caps, load);
        report.write(options.out);
        out.println(report.markdownTable());
        out.println(report.ratioSummary());
        out.println(load);
        if (load.warning() != null) {
            out.println(load.warning());
        }
        out.println("report: " + options.out.resolve(Report.JSON) + ", " + options.out.resolve(Report.MARKDOWN)
                + ", " + options.out.resolve(Report.SVG));
        return records.stream().anyMatch(RunRecord::ok) ? 0 : 1;
    }

    private RunRecord runOne(Config c, int round) {
        try {
            if (c.path.c) {
                return runC(c, round);
            }
            return runJava(c, round);
        } catch (RunFailedException e) {
            return new RunRecord(c, round, null, null, e.getMessage());
        } catch (RuntimeException e) {
            // A malformed answer or a failed setup ends this run, not the whole harness.
            return new RunRecord(c, round, null, null, e.getClass().getSimpleName() + ": " + oneLine(e));
        } catch (IOException e) {
            return new RunRecord(c, round, null, null, oneLine(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
    }

    /** Why a veth network cannot be made here, or {@code null} when it can be tried. */
    private static String vethUnavailabilityReason() {
        if (!Prerequisites.isRoot()) {
            return "needs root (CAP_NET_ADMIN) for a network namespace and a veth pair; run as root to include it";
        }
        if (!Prerequisites.hasCommand("ip")) {
            return "needs the 'ip' command (apt-get install iproute2)";
        }
        return null;
    }

    /**
     * A veth pair from the root namespace (the sender's side) into a namespace made for this run (the receiver's
     * side), addressed from a 10.84.X.0/30 chosen by pid. The namespace deletes both ends when closed, at the
     * latest by its shutdown hook.
     */
    private void createVeth() {
        int subnet = NetNs.perProcess(160, 90, 1, 0);
        NetNs ns = NetNs.create("bmbench");
        try {
            NetNs.vethToRoot(NetNs.uniqueDeviceName("bmt"), "10.84." + subnet + ".1/30", ns, "bmr0",
                    "10.84." + subnet + ".2/30", VETH_MTU);
        } catch (RuntimeException e) {
            ns.close();
            throw e;
        }
        receiverNs = ns;
        vethReceiverAddress = "10.84." + subnet + ".2";
    }

    private String receiverAddress(String network) {
        return network.equals("veth") ? vethReceiverAddress : "127.0.0.1";
    }

    private RunRecord runJava(Config c, int round) throws IOException, InterruptedException {
        ChildProcess rx = worker(c.network + "-rx", c.network.equals("veth"));
        ChildProcess tx = worker("tx", false);
        String host = receiverAddress(c.network);
        try {
            Map<String, Object> recv = new LinkedHashMap<>();
            recv.put("transport", c.transport.displayName());
            recv.put("mode", c.path.receiverMode);
            recv.put("bind", host);
            recv.put("flows", options.flows);
            recv.put("warmup", options.warmup);
            recv.put("window", options.window);
            recv.put("timeout", options.firstDatagramTimeout);
            rx.send(KeyValues.format("RECV", recv));
            Map<String, String> ready = KeyValues.parse(rx.await(60, "READY", "RESULT"));
            if (!ready.containsKey("port")) {
                throw new RunFailedException("receiver: " + ready.getOrDefault("error", ready.toString()));
            }
            Map<String, Object> send = new LinkedHashMap<>();
            send.put("transport", c.transport.displayName());
            send.put("mode", c.path.senderMode);
            send.put("host", host);
            send.put("ports", ready.getOrDefault("ports", ready.get("port")));
            send.put("segment", options.segmentSize);
            send.put("batch", options.batch);
            send.put("writesPerFlush", options.writesPerFlush);
            send.put("warmup", options.warmup);
            send.put("window", options.window);
            send.put("maxTail", maxTail());
            tx.send(KeyValues.format("SEND", send));
            double runSeconds = options.warmup + options.window + maxTail();
            Map<String, String> rxResult;
            try {
                rxResult = KeyValues.parse(rx.await(runSeconds + 30, "RESULT"));
            } finally {
                // The receiver's window is over (or failed): the sender may stop once its own window is.
                tx.send("STOP");
            }
            Map<String, String> txResult = KeyValues.parse(tx.await(runSeconds + 30, "RESULT"));
            return record(c, round, rxResult, txResult);
        } catch (RunFailedException e) {
            // A worker that timed out or died is replaced for the next run.
            for (ChildProcess w : List.of(rx, tx)) {
                if (!w.isAlive() || e.getMessage().startsWith(w.name() + " gave no answer")) {
                    w.close();
                    workers.values().remove(w);
                }
            }
            throw e;
        }
    }

    private RunRecord runC(Config c, int round) throws IOException, InterruptedException {
        String host = receiverAddress(c.network);
        double runSeconds = options.warmup + options.window + maxTail();
        File log = logDir.resolve("udpbench.log").toFile();
        List<ChildProcess> receivers = new ArrayList<>();
        List<ChildProcess> senders = new ArrayList<>();
        try {
            List<String> ports = new ArrayList<>();
            for (int f = 0; f < options.flows; f++) {
                List<String> rxCmd = new ArrayList<>();
                if (c.network.equals("veth")) {
                    rxCmd.addAll(receiverNs.command());
                }
                rxCmd.addAll(List.of(udpbench.toString(), "rx", "--bind", host, "--port", "0", "--gro",
                        c.path.receiverMode, "--warmup", num(options.warmup), "--window", num(options.window),
                        "--timeout", num(options.firstDatagramTimeout)));
                ChildProcess rx = new ChildProcess("udpbench-rx" + (f == 0 ? "" : "-" + f), rxCmd, log);
                receivers.add(rx);
                Map<String, String> ready = KeyValues.parse(rx.await(10, "READY", "RESULT"));
                if (!ready.containsKey("port")) {
                    throw new RunFailedException("udpbench rx: " + ready);
                }
                ports.add(ready.get("port"));
            }
            for (int f = 0; f < options.flows; f++) {
                List<String> txCmd = List.of(udpbench.toString(), "tx", "--dst", host, "--port", ports.get(f),
                        "--mode", c.path.senderMode, "--size", Integer.toString(options.segmentSize),
                        "--batch", Integer.toString(options.batch), "--warmup", num(options.warmup),
                        "--window", num(options.window), "--tail", num(maxTail()));
                senders.add(new ChildProcess("udpbench-tx" + (f == 0 ? "" : "-" + f), txCmd, log));
            }
            List<Side> rxSides = new ArrayList<>();
            List<Side> txSides = new ArrayList<>();
            try {
                for (ChildProcess rx : receivers) {
                    Map<String, String> r = KeyValues.parse(rx.await(runSeconds + 10, "RESULT"));
                    if (r.containsKey("error")) {
                        return new RunRecord(c, round, null, null, "receiver: " + r.get("error"));
                    }
                    rxSides.add(Side.parse(r));
                }
            } finally {
                for (ChildProcess tx : senders) {
                    tx.terminate();
                }
            }
            for (ChildProcess tx : senders) {
                Map<String, String> t = KeyValues.parse(tx.await(runSeconds + 10, "RESULT"));
                if (t.containsKey("error")) {
                    return new RunRecord(c, round, null, null, "sender: " + t.get("error"));
                }
                txSides.add(Side.parse(t));
                tx.awaitExit(5);
            }
            for (ChildProcess rx : receivers) {
                rx.awaitExit(5);
            }
            Side rx = Side.combine(rxSides, true);
            return new RunRecord(c, round, new Side(rx.seconds, rx.bytes, rx.datagrams, rx.ops, rx.cpuSeconds, "C"),
                    Side.combine(txSides, true), null);
        } finally {
            for (ChildProcess p : senders) {
                p.close();
            }
            for (ChildProcess p : receivers) {
                p.close();
            }
        }
    }

    /**
     * The longest a sender goes on after its own window while the receiver's window is still open: the
     * receiver's window starts at its first datagram, which can lag the sender's start by up to the
     * first-datagram timeout.
     */
    private double maxTail() {
        return options.firstDatagramTimeout + options.warmup + options.window + 1;
    }

    private static RunRecord record(Config c, int round, Map<String, String> rx, Map<String, String> tx) {
        if (tx.containsKey("error")) {
            return new RunRecord(c, round, null, null, "sender: " + tx.get("error"));
        }
        if (rx.containsKey("error")) {
            return new RunRecord(c, round, null, null, "receiver: " + rx.get("error"));
        }
        return new RunRecord(c, round, Side.parse(rx), Side.parse(tx), null);
    }

    private ChildProcess worker(String key, boolean inNamespace) throws IOException {
        ChildProcess w = workers.get(key);
        if (w != null && w.isAlive()) {
            return w;
        }
        List<String> cmd = new ArrayList<>();
        if (inNamespace) {
            cmd.addAll(receiverNs.command());
        }
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx512m");
        cmd.add("-Dio.netty.leakDetection.level=disabled");
        for (String arg : options.workerJvmArgs) {
            cmd.add(arg.replace("{worker}", key)); // one JFR file per worker, for example
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Worker.class.getName());
        w = new ChildProcess("worker-" + key, cmd, logDir.resolve("worker-" + key + ".log").toFile());
        workers.put(key, w);
        return w;
    }

    private void close() {
        for (ChildProcess w : workers.values()) {
            try {
                w.send("QUIT");
            } catch (IOException e) {
                // Already gone; close() below reaps it.
            }
        }
        for (ChildProcess w : workers.values()) {
            w.close();
        }
        workers.clear();
        if (receiverNs != null) {
            receiverNs.close();
        }
    }

    private static String num(double d) {
        return String.format(Locale.ROOT, "%.3f", d);
    }

    /** The first line of a throwable's message (or its class), for one-line refusals. */
    static String oneLine(Throwable t) {
        if (t == null) {
            return "unknown cause";
        }
        String m = t.getMessage();
        if (m == null || m.isBlank()) {
            m = t.getClass().getSimpleName();
        }
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
