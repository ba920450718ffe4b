package dev.nettyoffload.benchmarks.harness;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What one side (sender or receiver) counted during its measurement window: wall seconds, payload bytes,
 * datagrams, operations (system calls for the C reference, messages at the Netty API for Java) and the
 * process's CPU seconds.
 */
final class Side {
    final double seconds;
    final long bytes;
    final long datagrams;
    final long ops;
    final double cpuSeconds;
    /** The receiver's datagram reader ({@code DatagramReader} name, {@code C} for udpbench), or {@code null}. */
    final String reader;

    Side(double seconds, long bytes, long datagrams, long ops, double cpuSeconds) {
        this(seconds, bytes, datagrams, ops, cpuSeconds, null);
    }

    Side(double seconds, long bytes, long datagrams, long ops, double cpuSeconds, String reader) {
        this.seconds = seconds;
        this.bytes = bytes;
        this.datagrams = datagrams;
        this.ops = ops;
        this.cpuSeconds = cpuSeconds;
        this.reader = reader;
    }

    /**
     * The flows of one run as one side: bytes, datagrams and operations added, the mean window, and the CPU
     * seconds added ({@code processesApart}: one process per flow, as udpbench) or the largest (one JVM, whose
     * process CPU clock already counts every flow).
     */
    static Side combine(java.util.List<Side> flows, boolean processesApart) {
        if (flows.size() == 1) {
            return flows.get(0);
        }
        double seconds = 0;
        long bytes = 0;
        long datagrams = 0;
        long ops = 0;
        double cpu = 0;
        for (Side f : flows) {
            seconds += f.seconds;
            bytes += f.bytes;
            datagrams += f.datagrams;
            ops += f.ops;
            cpu = processesApart ? cpu + f.cpuSeconds : Math.max(cpu, f.cpuSeconds);
        }
        return new Side(seconds / flows.size(), bytes, datagrams, ops, cpu, flows.get(0).reader);
    }

    /** Reads the {@code RESULT seconds= bytes= datagrams= syscalls|ops= cpu=} line of a worker or of udpbench. */
    static Side parse(Map<String, String> kv) {
        String error = kv.get("error");
        if (error != null) {
            throw new RunFailedException(error);
        }
        String opsKey = kv.containsKey("ops") ? "ops" : "syscalls";
        return new Side(KeyValues.number(kv, "seconds"), (long) KeyValues.number(kv, "bytes"),
                (long) KeyValues.number(kv, "datagrams"), (long) KeyValues.number(kv, opsKey),
                KeyValues.number(kv, "cpu"), kv.get("reader"));
    }

    Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("seconds", String.format(Locale.ROOT, "%.6f", seconds));
        m.put("bytes", bytes);
        m.put("datagrams", datagrams);
        m.put("ops", ops);
        m.put("cpu", String.format(Locale.ROOT, "%.6f", cpuSeconds));
        if (reader != null) {
            m.put("reader", reader);
        }
        return m;
    }

    double gbps() {
        return bytes * 8 / seconds / 1e9;
    }

    double datagramsPerSecond() {
        return datagrams / seconds;
    }

    double opsPerMb() {
        return bytes == 0 ? Double.NaN : ops / (bytes / 1e6);
    }

    double cpuSecondsPerGb() {
        return bytes == 0 ? Double.NaN : cpuSeconds / (bytes / 1e9);
    }
}
