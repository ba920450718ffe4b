package dev.nettyoffload.examples.tunnel;

import dev.nettyoffload.testkit.CommandRunner;
import dev.nettyoffload.testkit.NetNs;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Two network namespaces joined by a veth pair (the underlay, MTU 1500), and either a {@link TunnelEndpoint} in
 * each, run as a child JVM with {@code ip netns exec} (a TUN descriptor must be opened in the namespace that
 * holds the device, and a JVM's threads cannot be moved), or the kernel's own VXLAN tunnel as the anchor. The
 * tunnel addresses are {@link #A_INNER}/{@link #B_INNER} (and {@link #A_INNER6}/{@link #B_INNER6}) either way.
 */
public final class TunnelPair implements AutoCloseable {
    public static final String A_UNDERLAY = "10.99.0.1";
    public static final String B_UNDERLAY = "10.99.0.2";
    public static final String A_INNER = "10.77.0.1";
    public static final String B_INNER = "10.77.0.2";
    public static final String A_INNER6 = "fd77::1";
    public static final String B_INNER6 = "fd77::2";
    public static final int PORT = 51820;
    /** 1500 minus IPv4 (20), UDP (8), our header with counter (12) and the AEAD tag (16), rounded down. */
    public static final int TUN_MTU = 1420;
    /** System property: {@code off} leaves the underlay veth's GRO off (its default); see {@link #underlayGro}. */
    public static final String UNDERLAY_GRO_PROPERTY = "tunnel.underlayGro";
    /**
     * System property: extra JVM options for the endpoint JVMs, separated by spaces, e.g.
     * {@code -XX:StartFlightRecording=filename=/tmp/ep.jfr} to profile them during a benchmark.
     */
    public static final String ENDPOINT_JVM_OPTIONS_PROPERTY = "tunnel.endpointJvmOptions";

    /** An endpoint option that replaces its JVM's class path: {@code -Jclasspath=PATH}. */
    public static final String CLASS_PATH_OPTION = "-Jclasspath=";

    /** Netty's system property for the leak detection level, passed on to the endpoints. */
    private static final String LEAK_DETECTION_PROPERTY = "io.netty.leakDetection.level";

    public final NetNs a;
    public final NetNs b;
    private final List<Process> endpoints = new ArrayList<>();
    /** The namespace and command line of each endpoint, to start it again. */
    private final List<NetNs> endpointNamespaces = new ArrayList<>();
    private final List<List<String>> endpointCommands = new ArrayList<>();
    /** The standard error of every endpoint JVM started, restarted ones included, checked for leaks at close. */
    private final List<Path> endpointLogs = new ArrayList<>();

    private TunnelPair(NetNs a, NetNs b) {
        this.a = a;
        this.b = b;
    }

    /** Namespaces and underlay only. */
    public static TunnelPair underlay() {
        NetNs a = NetNs.create("tuna");
        NetNs b = null;
        try {
            b = NetNs.create("tunb");
            NetNs.veth(a, "ul0", A_UNDERLAY + "/24", b, "ul0", B_UNDERLAY + "/24", 1500);
            if (!"off".equals(System.getProperty(UNDERLAY_GRO_PROPERTY))) {
                underlayGro(a);
                underlayGro(b);
            }
            return new TunnelPair(a, b);
        } catch (RuntimeException e) {
            a.close();
            if (b != null) {
                b.close();
            }
            throw e;
        }
    }

    /**
     * Turns on GRO and {@code rx-udp-gro-forwarding} on the namespace's underlay veth end, as a physical NIC has
     * GRO on by default: a veth receives through NAPI (and so through GRO) only with these, and otherwise hands
     * each skb to the backlog. With them the receiving end rebuilds UDP_GRO batches from datagrams that arrive
     * together (a GSO skb segmented on the way); with either alone it does not. For throughput it made no
     * difference beyond the noise of a loaded machine. Applies to the kernel VXLAN anchor alike. A veth without
     * these features (old kernels) is left as it is, with a warning.
     */
    static void underlayGro(NetNs ns) {
        CommandRunner.Result r = ns.tryExec(List.of("ethtool", "-K", "ul0", "gro", "on", "rx-udp-gro-forwarding",
                "on"), 10);
        if (!r.ok()) {
            System.err.println("underlay " + ns + ": ethtool -K ul0 gro on rx-udp-gro-forwarding on failed: " + r);
        }
    }

    /**
     * Namespaces, underlay and a userspace tunnel between them; {@code extra} go to both endpoints, those that
     * start with {@code -J} to their JVMs ({@code -J-Xmx1g}; {@link #CLASS_PATH_OPTION} replaces the class path).
     */
    public static TunnelPair userspace(String... extra) throws IOException {
        return userspace(extra, extra);
    }

    /** Namespaces, underlay and a userspace tunnel between them; extra options for endpoint A and B. */
    public static TunnelPair userspace(String[] extraA, String[] extraB) throws IOException {
        TunnelPair p = underlay();
        try {
            p.startEndpoint(p.a, A_UNDERLAY, B_UNDERLAY, A_INNER, A_INNER6, extraA);
            p.startEndpoint(p.b, B_UNDERLAY, A_UNDERLAY, B_INNER, B_INNER6, extraB);
            return p;
        } catch (IOException | RuntimeException e) {
            p.close();
            throw e;
        }
    }

    /** Namespaces, underlay and the kernel's VXLAN tunnel (VNI 77, port 4789) with the same inner addresses. */
    public static TunnelPair kernelVxlan() {
        TunnelPair p = underlay();
        try {
            // VXLAN carries Ethernet: 50 bytes of overhead on IPv4, so 1450 fits the 1500-byte underlay.
            p.a.vxlan("vx0", 77, A_UNDERLAY, B_UNDERLAY, 4789, "ul0", 1450);
            p.b.vxlan("vx0", 77, B_UNDERLAY, A_UNDERLAY, 4789, "ul0", 1450);
            NetNs.configure(p.a, "vx0", A_INNER + "/24");
            NetNs.configure(p.b, "vx0", B_INNER + "/24");
            NetNs.addAddress(p.a, "vx0", A_INNER6 + "/64");
            NetNs.addAddress(p.b, "vx0", B_INNER6 + "/64");
            return p;
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
    }

    private void startEndpoint(NetNs ns, String local, String peer, String inner, String inner6, String[] extra)
            throws IOException {
        // The leak detection of the JVM that starts them: paranoid under the tests (surefire sets it, and close()
        // fails on a leak report), off for TunnelBenchmark, whose figures it would distort.
        List<String> cmd = new ArrayList<>(List.of(System.getProperty("java.home") + "/bin/java",
                "--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC", "-Xmx512m",
                "-Dio.netty.leakDetection.level=" + System.getProperty(LEAK_DETECTION_PROPERTY, "disabled")));
        String jvmOptions = System.getProperty(ENDPOINT_JVM_OPTIONS_PROPERTY, "").trim();
        if (!jvmOptions.isEmpty()) {
            // %n in an option becomes the namespace's name, so that two endpoints write two files.
            for (String o : jvmOptions.split("\\s+")) {
                cmd.add(o.replace("%n", ns.name()));
            }
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), TunnelEndpoint.class.getName(),
                "--tun", "tun0", "--tun-cidr", inner + "/24", "--tun-cidr", inner6 + "/64",
                "--mtu", Integer.toString(TUN_MTU),
                "--local", local + ":" + PORT, "--peer", peer + ":" + PORT));
        int at = cmd.indexOf("-cp");
        for (String e : extra) {
            if (e.startsWith(CLASS_PATH_OPTION)) {
                // Another build of the endpoint (TunnelBenchmark's baseline mode).
                cmd.set(at + 1, e.substring(CLASS_PATH_OPTION.length()));
            } else if (e.startsWith("-J")) {
                cmd.add(at++, e.substring(2));
            } else {
                cmd.add(e);
            }
        }
        endpointNamespaces.add(ns);
        endpointCommands.add(cmd);
        endpoints.add(launch(ns, cmd));
    }

    /** Starts an endpoint JVM with its standard error to a log file, and waits for its {@code READY}. */
    private Process launch(NetNs ns, List<String> cmd) throws IOException {
        Path log = Files.createTempFile("tunnel-endpoint-" + ns.name() + "-", ".log");
        endpointLogs.add(log);
        Process p = ns.processBuilder(cmd.toArray(new String[0])).redirectError(log.toFile()).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        while (line != null && line.startsWith("[")) {
            // A JVM log line (-Xlog, JFR's "Started recording") before READY; nothing follows READY unasked.
            System.err.println(ns + ": " + line);
            line = out.readLine();
        }
        if (line == null || !line.startsWith("READY")) {
            p.destroyForcibly();
            throw new IOException("endpoint in " + ns + " did not start: " + line + "\n" + Files.readString(log));
        }
        return p;
    }

    /**
     * Stops endpoint A (0) or B (1) with SIGTERM, as a service manager would, and starts it again with the same
     * command line. Its TUN device goes with its process (it is not persistent), so the new endpoint creates one of
     * the same name and addresses, and binds the same UDP port: the peer and the TCP connections through the tunnel
     * see a pause of about a JVM start, nothing else.
     */
    public void restartEndpoint(int endpoint) throws IOException, InterruptedException {
        Process p = endpoints.get(endpoint);
        p.destroy();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
        endpoints.set(endpoint, launch(endpointNamespaces.get(endpoint), endpointCommands.get(endpoint)));
    }

    /** The counters of endpoint A (0) or B (1), read from its standard output. */
    public Map<String, String> stats(int endpoint) throws IOException {
        Process p = endpoints.get(endpoint);
        OutputStream in = p.getOutputStream();
        in.write("stats\n".getBytes(StandardCharsets.US_ASCII));
        in.flush();
        StringBuilder line = new StringBuilder();
        int c;
        while ((c = p.getInputStream().read()) != -1 && c != '\n') {
            line.append((char) c);
        }
        Map<String, String> m = new LinkedHashMap<>();
        for (String kv : line.toString().split(" ")) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
                m.put(kv.substring(0, eq), kv.substring(eq + 1));
            }
        }
        return m;
    }

    /** A count from {@link #stats(int)} as a number. */
    public static long count(Map<String, String> stats, String name) {
        String v = stats.get(name);
        if (v == null) {
            throw new IllegalArgumentException("no counter " + name + " in " + stats);
        }
        return Long.parseLong(v);
    }

    /** Whether this pair runs userspace endpoints (with {@link #stats(int)}). */
    public boolean hasEndpoints() {
        return !endpoints.isEmpty();
    }

    /** The process ids of the endpoints, to read their CPU time. */
    public List<Long> endpointPids() {
        List<Long> pids = new ArrayList<>();
        for (Process p : endpoints) {
            // ip netns exec replaces itself with java (execvp), so this is the JVM.
            pids.add(p.pid());
        }
        return pids;
    }

    /**
     * Stops the endpoints, removes the namespaces and echoes what the endpoints wrote to standard error; throws
     * {@link IllegalStateException} if an endpoint reported a buffer leak ({@code LEAK:}).
     */
    @Override
    public void close() {
        for (Process p : endpoints) {
            try {
                p.getOutputStream().close();
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (IOException | InterruptedException e) {
                p.destroyForcibly();
            }
        }
        b.close();
        a.close();
        StringBuilder leaks = new StringBuilder();
        for (Path log : endpointLogs) {
            try {
                String text = Files.readString(log);
                Files.delete(log);
                if (!text.isEmpty()) {
                    System.err.print(text);
                }
                if (text.contains("LEAK:")) {
                    leaks.append(text);
                }
            } catch (IOException e) {
                // A log that cannot be read fails the check too: it cannot show that nothing leaked.
                leaks.append("cannot read ").append(log).append(": ").append(e).append('\n');
            }
        }
        if (!leaks.isEmpty()) {
            throw new IllegalStateException("an endpoint reported a buffer leak:\n" + leaks);
        }
    }
}
