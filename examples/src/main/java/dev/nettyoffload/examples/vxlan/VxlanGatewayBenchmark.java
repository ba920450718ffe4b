package dev.nettyoffload.examples.vxlan;

import dev.nettyoffload.core.Transport;
import dev.nettyoffload.examples.Cli;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * iperf3 TCP throughput across the gateway between two Linux vxlan peers (root), with the gateway's GRO and
 * GSO/USO on and off, and across a Linux kernel VTEP (a bridge with two vxlan devices in its own namespace, same
 * addresses and MTUs) as the anchor; the three alternate round by round so that all see the same machine load.
 * Prints each run, the medians side by side and the ratios. Options: {@code --help}. With A's MTU larger than
 * B's, B advertises A's MSS so that the gateway (or the kernel) re-segments A's jumbo segments to B's MTU.
 * <p>
 * Lives in the examples module because the benchmarks module does not depend on the examples.
 */
public final class VxlanGatewayBenchmark {
    private VxlanGatewayBenchmark() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the benchmark with {@code args}; returns the exit status (2 for bad input, with nothing created). */
    static int run(String... args) {
        // Measure the dataplane, not Netty's leak sampling (as the JMH suites and the harness do); set before any
        // Netty class reads it. -Dio.netty.leakDetection.level=... on the command line wins.
        if (System.getProperty("io.netty.leakDetection.level") == null) {
            System.setProperty("io.netty.leakDetection.level", "disabled");
        }
        GatewayBenchmarkOptions options = new GatewayBenchmarkOptions();
        return Cli.execute(options, () -> benchmark(options), args);
    }

    private static int benchmark(GatewayBenchmarkOptions o) throws Exception {
        List<GatewayRun.Path> paths = new ArrayList<>(List.of(GatewayRun.Path.ON, GatewayRun.Path.OFF));
        if (!o.noKernel) {
            paths.add(GatewayRun.Path.KERNEL);
        }
        List<GatewayRun> runs = new ArrayList<>();
        try (LinuxPeers peers = LinuxPeers.create(o.mtuA, o.mtuB, o.vethGro);
             LinuxPeers kernel = o.noKernel ? null : LinuxPeers.createKernelVtep(o.mtuA, o.mtuB, o.vethGro)) {
            if (o.mtuA > o.mtuB) {
                // A's segments as large as A's overlay allows (IPv4 + TCP with timestamps: 52 bytes of headers).
                int mss = o.mtuA - LinuxPeers.VXLAN_OVERHEAD - 52;
                peers.advertiseMssB(mss);
                if (kernel != null) {
                    kernel.advertiseMssB(mss);
                }
            }
            System.out.printf("VXLAN gateway benchmark: %s, veth GRO %s, iperf3 TCP %d s per run, %d rounds,"
                            + " underlay MTU %d/%d%n", o.transport.displayName(), o.vethGro ? "on" : "off",
                    o.seconds, o.rounds, o.mtuA, o.mtuB);
            // Warm-up (JIT, ARP, MAC learning), not counted.
            for (GatewayRun.Path path : paths) {
                once(path, path == GatewayRun.Path.KERNEL ? kernel : peers, o);
            }
            for (int r = 0; r < o.rounds; r++) {
                for (int k = 0; k < paths.size(); k++) {
                    // Rotate the order each round: no path always runs first (or right after another).
                    GatewayRun.Path path = paths.get((k + r) % paths.size());
                    GatewayRun run = once(path, path == GatewayRun.Path.KERNEL ? kernel : peers, o);
                    runs.add(run);
                    System.out.printf("  round %d, %-19s: %s%n", r + 1, path.label, run);
                }
            }
        }
        System.out.println();
        GatewayRun.printSummary(runs, paths, System.out);
        return Cli.OK;
    }

    private static GatewayRun once(GatewayRun.Path path, LinuxPeers peers, GatewayBenchmarkOptions o)
            throws Exception {
        if (path == GatewayRun.Path.KERNEL) {
            requirePing(peers);
            return new GatewayRun(path, peers.iperf3(o.seconds, 0, 0), null, Double.NaN);
        }
        try (VxlanGateway gateway = new VxlanGateway(o.transport, path == GatewayRun.Path.ON, peers.segmentA(),
                peers.segmentB()).start()) {
            requirePing(peers);
            long cpu = processCpuNanos();
            LinuxPeers.IperfResult r = peers.iperf3(o.seconds, 0, 0);
            double cpuSeconds = (processCpuNanos() - cpu) / 1e9;
            return new GatewayRun(path, r, gateway.counters(), cpuSeconds);
        }
    }

    private static void requirePing(LinuxPeers peers) {
        if (!peers.ping(1)) {
            throw new IllegalStateException("no ping across the overlay");
        }
    }

    /** CPU time of this JVM (the gateway's event loop, GC and JIT; iperf3 runs in its own processes). */
    private static long processCpuNanos() {
        java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean) {
            return ((com.sun.management.OperatingSystemMXBean) os).getProcessCpuTime();
        }
        return -1;
    }
}
