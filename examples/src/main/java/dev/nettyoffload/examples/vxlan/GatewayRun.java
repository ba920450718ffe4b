package dev.nettyoffload.examples.vxlan;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.ToDoubleFunction;

/** One iperf3 run of {@link VxlanGatewayBenchmark} and the summary table over all runs. */
final class GatewayRun {
    /** What forwards between A and B. */
    enum Path {
        OFF("gateway GRO/GSO off"),
        ON("gateway GRO/GSO on"),
        KERNEL("Linux kernel VTEP");

        final String label;

        Path(String label) {
            this.label = label;
        }
    }

    final Path path;
    final LinuxPeers.IperfResult result;
    /** The gateway's counters; null for the kernel VTEP. */
    final VxlanGatewayCounters counters;
    /** CPU seconds of the gateway's JVM during the iperf3 run; NaN for the kernel VTEP. */
    final double cpuSeconds;

    GatewayRun(Path path, LinuxPeers.IperfResult result, VxlanGatewayCounters counters, double cpuSeconds) {
        this.path = path;
        this.result = result;
        this.counters = counters;
        this.cpuSeconds = cpuSeconds;
    }

    double gbps() {
        return result.bitsPerSecond / 1e9;
    }

    /** Gateway CPU seconds per gigabyte received by B (NaN for the kernel). */
    double cpuSecondsPerGigabyte() {
        return cpuSeconds / (result.bytesReceived / 1e9);
    }

    @Override
    public String toString() {
        return counters == null ? result.toString()
                : String.format("%s, gateway CPU %.2f s (%.2f s/GB)%n      %s", result, cpuSeconds,
                cpuSecondsPerGigabyte(), counters);
    }

    /** The markdown table of medians (min-max) per path, then the throughput ratios of the medians. */
    static void printSummary(List<GatewayRun> runs, List<Path> paths, PrintStream out) {
        out.println("| path | Gbit/s median (min-max) | retransmits median | gateway CPU s/GB median (min-max)"
                + " | frames per merged packet | outer datagrams per write |");
        out.println("| --- | ---: | ---: | ---: | ---: | ---: |");
        double[] medians = new double[Path.values().length];
        for (Path path : paths) {
            List<GatewayRun> rs = new ArrayList<>();
            for (GatewayRun run : runs) {
                if (run.path == path) {
                    rs.add(run);
                }
            }
            double[] gbps = values(rs, GatewayRun::gbps);
            medians[path.ordinal()] = median(gbps);
            String cpu = "n/a";
            String merged = "n/a";
            String perWrite = "n/a";
            if (path != Path.KERNEL) {
                double[] c = values(rs, GatewayRun::cpuSecondsPerGigabyte);
                cpu = String.format("%.2f (%.2f-%.2f)", median(c), min(c), max(c));
                merged = String.format("%.1f", median(values(rs, x -> x.counters.mergeRatio())));
                perWrite = String.format("%.1f", median(values(rs, x -> x.counters.datagramsPerWrite())));
            }
            out.printf("| %s | %.2f (%.2f-%.2f) | %.0f | %s | %s | %s |%n", path.label, medians[path.ordinal()],
                    min(gbps), max(gbps), median(values(rs, x -> x.result.retransmits)), cpu, merged, perWrite);
        }
        out.printf("%ngateway on/off: %.2fx", medians[Path.ON.ordinal()] / medians[Path.OFF.ordinal()]);
        if (paths.contains(Path.KERNEL)) {
            out.printf(", gateway on/kernel: %.2fx, off/kernel: %.2fx",
                    medians[Path.ON.ordinal()] / medians[Path.KERNEL.ordinal()],
                    medians[Path.OFF.ordinal()] / medians[Path.KERNEL.ordinal()]);
        }
        out.println();
    }

    private static double[] values(List<GatewayRun> runs, ToDoubleFunction<GatewayRun> f) {
        return runs.stream().mapToDouble(f).toArray();
    }

    static double median(double[] v) {
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
