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

    Side(double seconds, long bytes, long datagrams, long ops, double cpuSeconds) {
        this.seconds = seconds;
        this.bytes = bytes;
        this.datagrams = datagrams;
        this.ops = ops;
        this.cpuSeconds = cpuSeconds;
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
                KeyValues.number(kv, "cpu"));
    }

    Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("seconds", String.format(Locale.ROOT, "%.6f", seconds));
        m.put("bytes", bytes);
        m.put("datagrams", datagrams);
        m.put("ops", ops);
        m.put("cpu", String.format(Locale.ROOT, "%.6f", cpuSeconds));
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
