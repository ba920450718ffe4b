package dev.nettyoffload.examples.tunnel;

import dev.nettyoffload.testkit.CommandRunner;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * iperf3 TCP through four tunnels between two namespaces over the same kind of veth underlay, in alternating
 * rounds: the userspace tunnel with offloads on (TUN TSO/USO, UDP_SEGMENT, UDP_GRO, raw-packet GRO; inner
 * checksums partial end to end), the same with complete inner checksums ({@code --inner-checksums complete}:
 * computed by the sender, verified by the receiver), the tunnel with offloads off (one packet per system call
 * everywhere), and the kernel's own VXLAN tunnel as the anchor. Prints per mode the median receive rate with
 * min-max, and CPU seconds per GB: of the two endpoint JVMs (userspace modes), and of the whole machine (all
 * modes: iperf3, kernel and endpoints).
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp ... dev.nettyoffload.examples.tunnel.TunnelBenchmark [--rounds 5]
 *     [--seconds 5] [--parallel 1] [--reverse] [--underlay-gro on|off] [--modes on,complete,off,kernel]
 *     [-Dtunnel.endpointJvmOptions="-XX:StartFlightRecording=filename=/tmp/%n.jfr"]
 * </pre>
 * {@code --modes} picks the tunnels (default all four; {@code slices}: offloads on with {@code --segment-copy off},
 * {@code unsafe}: offloads on with endpoint JVMs that let Netty use {@code sun.misc.Unsafe}, which Netty 4.2
 * leaves off by default on Java 25: {@code --sun-misc-unsafe-memory-access=allow}; {@code baseline}: offloads on,
 * default options, endpoints from another build, {@code -Dtunnel.baselineClassPath=...}, to compare two builds in
 * the same alternating rounds); {@code tunnel.endpointJvmOptions} adds JVM options to the
 * endpoints ({@code %n}: the namespace), e.g. to record them with JFR.
 * The underlay veth ends get {@code gro on} and {@code rx-udp-gro-forwarding on} unless {@code --underlay-gro off}
 * (see {@link TunnelPair#underlayGro}). For the userspace modes each round also prints the receiving endpoint's
 * UDP datagrams per read (its {@code UDP_GRO} batch size; 1 with offloads off).
 * Needs root, {@code ip netns} and iperf3.
 */
public final class TunnelBenchmark {
    private static final long CLK_TCK = 100;

    private TunnelBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = 5;
        int seconds = 5;
        int parallel = 1;
        boolean reverse = false;
        List<String> modes = List.of("on", "complete", "off", "kernel");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--parallel" -> parallel = Integer.parseInt(args[++i]);
                case "--reverse" -> reverse = true;
                case "--modes" -> modes = List.of(args[++i].split(","));
                case "--underlay-gro" -> System.setProperty(TunnelPair.UNDERLAY_GRO_PROPERTY, args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Map<String, TunnelPair> pairs = new LinkedHashMap<>();
        Map<String, List<double[]>> results = new LinkedHashMap<>();
        try {
            for (String mode : modes) {
                switch (mode) {
                    case "on" -> pairs.put("offloads on", TunnelPair.userspace());
                    case "complete" -> pairs.put("on, complete", TunnelPair.userspace("--inner-checksums", "complete"));
                    case "slices" -> pairs.put("on, slices", TunnelPair.userspace("--segment-copy", "off"));
                    case "unsafe" -> pairs.put("on, unsafe",
                            TunnelPair.userspace("-J--sun-misc-unsafe-memory-access=allow"));
                    case "off" -> pairs.put("offloads off",
                            TunnelPair.userspace("--tun-offloads", "off", "--udp-offloads", "off"));
                    case "kernel" -> pairs.put("kernel vxlan", TunnelPair.kernelVxlan());
                    case "baseline" -> pairs.put("baseline", TunnelPair.userspace(TunnelPair.CLASS_PATH_OPTION
                            + System.getProperty("tunnel.baselineClassPath")));
                    default -> throw new IllegalArgumentException("--modes: " + mode
                            + " (expected: on, complete, slices, unsafe, baseline, off, kernel)");
                }
            }
            for (Map.Entry<String, TunnelPair> e : pairs.entrySet()) {
                results.put(e.getKey(), new ArrayList<>());
                // Warm-up: JIT for the userspace endpoints, ARP and route caches for all.
                run(e.getValue(), 2, parallel, reverse);
            }
            for (int r = 0; r < rounds; r++) {
                for (Map.Entry<String, TunnelPair> e : pairs.entrySet()) {
                    double[] x = run(e.getValue(), seconds, parallel, reverse);
                    results.get(e.getKey()).add(x);
                    System.out.printf("round %d %-13s %7.2f Gbit/s  endpoints %6.2f CPU s/GB  machine %6.2f CPU s/GB"
                            + "  retransmits %.0f  datagrams/read %.1f  load %s%n", r + 1, e.getKey(), x[0] / 1e9,
                            x[1], x[2], x[3], x[4], loadAverage());
                }
            }
            System.out.println();
            System.out.println("load average (1 min) at the end: " + loadAverage() + " on "
                    + Runtime.getRuntime().availableProcessors() + " CPUs");
            System.out.printf("%-13s %-26s %-26s %-26s%n", "mode", "Gbit/s median (min-max)",
                    "endpoint CPU s/GB", "machine CPU s/GB");
            Map<String, Double> medians = new LinkedHashMap<>();
            for (Map.Entry<String, List<double[]>> e : results.entrySet()) {
                double[] rate = column(e.getValue(), 0);
                medians.put(e.getKey(), median(rate));
                System.out.printf("%-13s %-26s %-26s %-26s%n", e.getKey(), summary(rate, 1e9),
                        summary(column(e.getValue(), 1), 1), summary(column(e.getValue(), 2), 1));
            }
            System.out.println();
            ratio(medians, "offloads on", "offloads off", " (target >= 3x)");
            ratio(medians, "offloads on", "on, complete", "");
            ratio(medians, "offloads on", "kernel vxlan", " (target >= 0.5x)");
            ratio(medians, "offloads on", "baseline", "");
        } finally {
            for (TunnelPair p : pairs.values()) {
                p.close();
            }
        }
    }

    private static void ratio(Map<String, Double> medians, String a, String b, String note) {
        if (medians.containsKey(a) && medians.containsKey(b)) {
            System.out.printf("%s / %s: %.2fx%s%n", a, b, medians.get(a) / medians.get(b), note);
        }
    }

    /** The one-minute load average. */
    private static String loadAverage() throws IOException {
        return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
    }

    /** UDP reads and datagrams of the receiving endpoint, or null for the kernel tunnel. */
    private static long[] receiverReads(TunnelPair p, boolean reverse) throws IOException {
        if (!p.hasEndpoints()) {
            return null;
        }
        Map<String, String> s = p.stats(reverse ? 0 : 1);
        return new long[] {TunnelPair.count(s, "udpReads"), TunnelPair.count(s, "datagramsReceived")};
    }

    /**
     * One iperf3 run: {receive bits/s, endpoint CPU s/GB, machine CPU s/GB, retransmits, receiver datagrams per
     * UDP read (NaN for the kernel tunnel)}.
     */
    private static double[] run(TunnelPair p, int seconds, int parallel, boolean reverse) throws Exception {
        Process server = p.b.processBuilder("iperf3", "-s", "-1", "-p", "5299").redirectErrorStream(true).start();
        try {
            Thread.sleep(300);
            List<String> cmd = new ArrayList<>(List.of("iperf3", "-c", TunnelPair.B_INNER, "-p", "5299", "-t",
                    Integer.toString(seconds), "-P", Integer.toString(parallel), "-J"));
            if (reverse) {
                cmd.add("-R");
            }
            long[] readsBefore = receiverReads(p, reverse);
            long endpointsBefore = cpuTicks(p.endpointPids());
            long machineBefore = machineTicks();
            CommandRunner.Result r = p.a.tryExec(cmd, seconds + 30L);
            long endpoints = cpuTicks(p.endpointPids()) - endpointsBefore;
            long machine = machineTicks() - machineBefore;
            long[] readsAfter = receiverReads(p, reverse);
            double perRead = readsBefore == null ? Double.NaN
                    : (double) (readsAfter[1] - readsBefore[1]) / Math.max(1, readsAfter[0] - readsBefore[0]);
            if (!r.ok()) {
                throw new IOException("iperf3 failed: " + r);
            }
            double bps = number(r.stdout, "\"sum_received\":\\s*\\{[^}]*?\"bits_per_second\":\\s*([0-9.e+]+)");
            double bytes = number(r.stdout, "\"sum_received\":\\s*\\{[^}]*?\"bytes\":\\s*([0-9.e+]+)");
            double retransmits = number(r.stdout, "\"sum_sent\":\\s*\\{[^}]*?\"retransmits\":\\s*([0-9]+)");
            double gb = bytes / 1e9;
            return new double[] {bps, (double) endpoints / CLK_TCK / gb, (double) machine / CLK_TCK / gb,
                    retransmits, perRead};
        } finally {
            server.destroy();
            server.waitFor();
        }
    }

    private static double number(String json, String regex) {
        Matcher m = Pattern.compile(regex).matcher(json);
        return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    }

    /** utime + stime of the processes, in clock ticks. */
    private static long cpuTicks(List<Long> pids) throws IOException {
        long ticks = 0;
        for (long pid : pids) {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
        }
        return ticks;
    }

    /** Busy clock ticks of all CPUs (user, nice, system, irq, softirq) from /proc/stat. */
    private static long machineTicks() throws IOException {
        String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        return Long.parseLong(f[1]) + Long.parseLong(f[2]) + Long.parseLong(f[3]) + Long.parseLong(f[6])
                + Long.parseLong(f[7]);
    }

    private static double[] column(List<double[]> rows, int index) {
        double[] c = new double[rows.size()];
        for (int i = 0; i < c.length; i++) {
            c[i] = rows.get(i)[index];
        }
        return c;
    }

    private static double median(double[] x) {
        double[] s = x.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static String summary(double[] x, double scale) {
        double[] s = x.clone();
        Arrays.sort(s);
        return String.format("%.2f (%.2f-%.2f)", median(s) / scale, s[0] / scale, s[s.length - 1] / scale);
    }
}
