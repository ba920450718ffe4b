package dev.nettyoffload.benchmarks.harness;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * How busy the machine was around a benchmark: the 1-minute load average before and after, and the share of CPU
 * time the hypervisor stole during it ({@code /proc/loadavg}, {@code /proc/stat}). Other load on a 2-CPU machine
 * can cut a path's throughput several times over, so the report records it and warns when it is high.
 */
final class MachineLoad {
    /** A load average above this share of the CPUs means other work competed with the benchmark. */
    static final double BUSY_LOAD_PER_CPU = 0.5;
    /** Steal above this share of CPU time means the hypervisor took a noticeable part of the CPUs. */
    static final double BUSY_STEAL = 0.05;

    final double loadBefore;
    final double loadAfter;
    /** Stolen share of all CPU time between the two samples, or NaN when /proc/stat could not be read. */
    final double steal;
    final int cpus;

    MachineLoad(double loadBefore, double loadAfter, double steal, int cpus) {
        this.loadBefore = loadBefore;
        this.loadAfter = loadAfter;
        this.steal = steal;
        this.cpus = cpus;
    }

    /** One reading of the load average and the CPU counters. */
    static final class Sample {
        final double load;
        final long totalJiffies;
        final long stealJiffies;

        Sample(double load, long totalJiffies, long stealJiffies) {
            this.load = load;
            this.totalJiffies = totalJiffies;
            this.stealJiffies = stealJiffies;
        }
    }

    static Sample sample() {
        double load = Double.NaN;
        long total = -1;
        long steal = -1;
        try {
            load = Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+")[0]);
            for (String line : Files.readAllLines(Path.of("/proc/stat"))) {
                if (line.startsWith("cpu ")) {
                    // cpu user nice system idle iowait irq softirq steal guest guest_nice (proc(5));
                    // guest time is already counted in user, so it is left out of the total.
                    String[] f = line.trim().split("\\s+");
                    total = 0;
                    for (int i = 1; i <= Math.min(8, f.length - 1); i++) {
                        total += Long.parseLong(f[i]);
                    }
                    steal = f.length > 8 ? Long.parseLong(f[8]) : 0;
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            // Not Linux, or an unexpected format: the report says "unknown".
        }
        return new Sample(load, total, steal);
    }

    static MachineLoad between(Sample before, Sample after) {
        double steal = Double.NaN;
        long total = after.totalJiffies - before.totalJiffies;
        if (before.totalJiffies >= 0 && after.totalJiffies >= 0 && total > 0) {
            steal = (double) (after.stealJiffies - before.stealJiffies) / total;
        }
        return new MachineLoad(before.load, after.load, steal, Runtime.getRuntime().availableProcessors());
    }

    /** Why the figures may be unreliable, or {@code null} when the machine looked idle. */
    String warning() {
        StringBuilder sb = new StringBuilder();
        if (loadBefore > BUSY_LOAD_PER_CPU * cpus) {
            sb.append(String.format(Locale.ROOT, "the load average was %.2f on %d CPUs when the run started", loadBefore,
                    cpus));
        }
        if (steal > BUSY_STEAL) {
            sb.append(sb.length() == 0 ? "" : "; ").append(String.format(Locale.ROOT,
                    "the hypervisor stole %.1f%% of the CPU time", steal * 100));
        }
        return sb.length() == 0 ? null : "warning: the machine was busy (" + sb
                + "): absolute figures are low and noisy; compare ratios and Gbit per CPU second";
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "load average %s before, %s after; CPU steal %s", fmt(loadBefore),
                fmt(loadAfter), Double.isNaN(steal) ? "unknown" : String.format(Locale.ROOT, "%.1f%%", steal * 100));
    }

    private static String fmt(double v) {
        return Double.isNaN(v) ? "unknown" : String.format(Locale.ROOT, "%.2f", v);
    }
}
