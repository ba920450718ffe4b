package dev.nettyoffload.examples.demo;

import java.util.List;
import java.util.Locale;

/**
 * The rounds of one {@link LoopbackStream.Mode}: the median delivered throughput with its range, and the
 * datagrams sent, received and lost, and the operations per MB, over all rounds together.
 */
final class ModeSummary {
    private final double[] delivered;
    private final long sentDatagrams;
    private final long receivedDatagrams;
    private final long sentBytes;
    private final long receivedBytes;
    private final long sendOps;
    private final long receivedMessages;

    ModeSummary(List<LoopbackStream.Result> runs) {
        if (runs.isEmpty()) {
            throw new IllegalArgumentException("runs: empty");
        }
        delivered = runs.stream().mapToDouble(LoopbackStream.Result::deliveredGbps).sorted().toArray();
        sentDatagrams = runs.stream().mapToLong(r -> r.sentDatagrams).sum();
        receivedDatagrams = runs.stream().mapToLong(r -> r.receivedDatagrams).sum();
        sentBytes = runs.stream().mapToLong(r -> r.sentBytes).sum();
        receivedBytes = runs.stream().mapToLong(r -> r.receivedBytes).sum();
        sendOps = runs.stream().mapToLong(r -> r.sendOps).sum();
        receivedMessages = runs.stream().mapToLong(r -> r.receivedMessages).sum();
    }

    /** Median of the rounds' delivered Gbit/s (the upper middle one for an even count). */
    double deliveredGbps() {
        return delivered[delivered.length / 2];
    }

    double deliveredRatio(ModeSummary baseline) {
        return deliveredGbps() / Math.max(1e-9, baseline.deliveredGbps());
    }

    /** Percent of all datagrams sent in the rounds that never reached the receiver. */
    double lostPercent() {
        return sentDatagrams == 0 ? 0 : 100.0 * Math.max(0, sentDatagrams - receivedDatagrams) / sentDatagrams;
    }

    double sendOpsPerMb() {
        return sendOps / Math.max(1e-9, sentBytes / 1e6);
    }

    double receivedMessagesPerMb() {
        return receivedMessages / Math.max(1e-9, receivedBytes / 1e6);
    }

    static String header() {
        return String.format(Locale.ROOT, "%-30s %-28s %14s %14s %7s %12s %13s", "mode",
                "delivered Gbit/s (min-max)", "sent datagrams", "recv datagrams", "lost", "send ops/MB",
                "recv msgs/MB");
    }

    String row(String mode) {
        String range = String.format(Locale.ROOT, "%.2f (%.2f-%.2f)", deliveredGbps(), delivered[0],
                delivered[delivered.length - 1]);
        return String.format(Locale.ROOT, "%-30s %-28s %14d %14d %6.1f%% %12.1f %13.1f", mode, range,
                sentDatagrams, receivedDatagrams, lostPercent(), sendOpsPerMb(), receivedMessagesPerMb());
    }
}
