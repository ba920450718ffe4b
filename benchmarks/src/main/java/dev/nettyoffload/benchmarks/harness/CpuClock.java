package dev.nettyoffload.benchmarks.harness;

import java.lang.management.ManagementFactory;

/** This process's CPU time (all threads, user + system), as the JVM reports it. */
final class CpuClock {
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    private CpuClock() {
    }

    static double processCpuSeconds() {
        return OS.getProcessCpuTime() / 1e9;
    }
}
