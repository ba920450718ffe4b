package dev.nettyoffload.examples.vxlan;

import dev.nettyoffload.core.Transport;
import dev.nettyoffload.examples.Cli;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * iperf3 TCP throughput across the gateway between two Linux vxlan peers (root), with the gateway's GRO and
 * GSO/USO on and off, in alternating rounds so that both see the same machine load; prints each run and the
 * medians side by side. Options ({@code --help}): {@code [--rounds N] [--seconds S] [--mtu-a M] [--mtu-b M]}
 * (defaults 3, 3, 1500, 1500: the underlay MTUs of sides A and B). With A's MTU larger than B's,
 * B advertises A's MSS so that the gateway re-segments A's jumbo segments to B's MTU.
 * <p>
 * Lives in the examples module because the benchmarks module does not depend on the examples.
 */
public final class VxlanGatewayBenchmark {
    private VxlanGatewayBenchmark() {
    }

    private static final class Run {
        final boolean offload;
        final LinuxPeers.IperfResult result;
        final VxlanGatewayCounters counters;

        Run(boolean offload, LinuxPeers.IperfResult result, VxlanGatewayCounters counters) {
            this.offload = offload;
            this.result = result;
            this.counters = counters;
        }
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

    private static int benchmark(GatewayBenchmarkOptions options) throws Exception {
        int rounds = options.rounds;
        int seconds = options.seconds;
        int mtuA = options.mtuA;
        int mtuB = options.mtuB;
        Transport transport = Transport.best();
        List<Run> runs = new ArrayList<>();
        try (LinuxPeers peers = LinuxPeers.create(mtuA, mtuB)) {
            if (mtuA > mtuB) {
                // A's segments as large as A's overlay allows (IPv4 + TCP with timestamps: 52 bytes of headers).
                peers.advertiseMssB(mtuA - LinuxPeers.VXLAN_OVERHEAD - 52);
            }
            System.out.printf("VXLAN gateway benchmark: %s, iperf3 TCP %d s per run, %d rounds, underlay MTU %d/%d%n",
                    transport.displayName(), seconds, rounds, mtuA, mtuB);
            // Warm-up (JIT), not counted.
            once(peers, transport, true, seconds);
            once(peers, transport, false, seconds);
            for (int r = 0; r < rounds; r++) {
                for (boolean offload : r % 2 == 0 ? new boolean[] {true, false} : new boolean[] {false, true}) {
                    Run run = once(peers, transport, offload, seconds);
                    runs.add(run);
                    System.out.printf("  round %d, GRO/GSO %-3s: %s%n      %s%n", r + 1, offload ? "on" : "off",
                            run.result, run.counters);
                }
            }
        }
        System.out.println();
        System.out.println("| gateway | Gbit/s median (min-max) | retransmits median | frames per merged packet | "
                + "outer datagrams per write |");
        System.out.println("| --- | ---: | ---: | ---: | ---: |");
        for (boolean offload : new boolean[] {false, true}) {
            List<Run> rs = new ArrayList<>();
            for (Run run : runs) {
                if (run.offload == offload) {
                    rs.add(run);
                }
            }
            double[] gbps = rs.stream().mapToDouble(x -> x.result.bitsPerSecond / 1e9).toArray();
            double[] retr = rs.stream().mapToDouble(x -> x.result.retransmits).toArray();
            double[] ratio = rs.stream().mapToDouble(x -> x.counters.mergeRatio()).toArray();
            double[] perWrite = rs.stream().mapToDouble(x -> x.counters.datagramsPerWrite()).toArray();
            System.out.printf("| GRO/GSO %s | %.2f (%.2f-%.2f) | %.0f | %.1f | %.1f |%n", offload ? "on" : "off",
                    median(gbps), min(gbps), max(gbps), median(retr), median(ratio), median(perWrite));
        }
        return Cli.OK;
    }

    private static Run once(LinuxPeers peers, Transport transport, boolean offload, int seconds) throws Exception {
        try (VxlanGateway gateway = new VxlanGateway(transport, offload, peers.segmentA(), peers.segmentB()).start()) {
            if (!peers.ping(1)) {
                throw new IllegalStateException("no ping across the overlay");
            }
            LinuxPeers.IperfResult r = peers.iperf3(seconds, 0, 0);
            return new Run(offload, r, gateway.counters());
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n == 0 ? Double.NaN : n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    private static double min(double[] v) {
        return Arrays.stream(v).min().orElse(Double.NaN);
    }

    private static double max(double[] v) {
        return Arrays.stream(v).max().orElse(Double.NaN);
    }
}
