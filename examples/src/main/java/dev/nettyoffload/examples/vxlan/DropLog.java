package dev.nettyoffload.examples.vxlan;

import io.netty.util.internal.logging.InternalLogger;

import java.util.EnumMap;
import java.util.concurrent.TimeUnit;

/**
 * Drop counters by reason with a rate-limited log line: at most one line per {@link #LOG_INTERVAL_NANOS},
 * saying how many drops it stands for. Used on one event loop only.
 */
final class DropLog {
    /** One log line per second at most: a flood of garbage must not become a flood of log lines. */
    static final long LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final InternalLogger logger;
    private final String owner;
    private final long[] counts = new long[VxlanDropReason.values().length];
    private long lastLogNanos = System.nanoTime() - LOG_INTERVAL_NANOS;
    private long unlogged;

    DropLog(InternalLogger logger, String owner) {
        this.logger = logger;
        this.owner = owner;
    }

    void drop(VxlanDropReason reason, Object detail) {
        counts[reason.ordinal()]++;
        unlogged++;
        long now = System.nanoTime();
        if (now - lastLogNanos >= LOG_INTERVAL_NANOS) {
            lastLogNanos = now;
            logger.warn("{}: dropped {} ({}); {} drop(s) since the last line", owner, reason, detail, unlogged);
            unlogged = 0;
        }
    }

    long count(VxlanDropReason reason) {
        return counts[reason.ordinal()];
    }

    void addTo(EnumMap<VxlanDropReason, Long> sum) {
        for (VxlanDropReason r : VxlanDropReason.values()) {
            sum.merge(r, counts[r.ordinal()], Long::sum);
        }
    }
}
