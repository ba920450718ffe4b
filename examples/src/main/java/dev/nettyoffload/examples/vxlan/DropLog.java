package dev.nettyoffload.examples.vxlan;

import io.netty.util.internal.logging.InternalLogger;

import java.util.EnumMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Drop counters by reason with a rate-limited log line: at most one line per {@link #LOG_INTERVAL_NANOS},
 * saying how many drops it stands for. Safe for several threads (a side's drops are counted by its own event
 * loop and by the other side's, which hands it frames).
 */
final class DropLog {
    /** One log line per second at most: a flood of garbage must not become a flood of log lines. */
    static final long LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final InternalLogger logger;
    private final String owner;
    private final AtomicLongArray counts = new AtomicLongArray(VxlanDropReason.values().length);
    private final AtomicLong lastLogNanos = new AtomicLong(System.nanoTime() - LOG_INTERVAL_NANOS);
    private final AtomicLong unlogged = new AtomicLong();

    DropLog(InternalLogger logger, String owner) {
        this.logger = logger;
        this.owner = owner;
    }

    void drop(VxlanDropReason reason, Object detail) {
        counts.incrementAndGet(reason.ordinal());
        unlogged.incrementAndGet();
        long now = System.nanoTime();
        long last = lastLogNanos.get();
        // The thread that moves the timestamp logs; the others only count.
        if (now - last >= LOG_INTERVAL_NANOS && lastLogNanos.compareAndSet(last, now)) {
            logger.warn("{}: dropped {} ({}); {} drop(s) since the last line", owner, reason, detail,
                    unlogged.getAndSet(0));
        }
    }

    long count(VxlanDropReason reason) {
        return counts.get(reason.ordinal());
    }

    void addTo(EnumMap<VxlanDropReason, Long> sum) {
        for (VxlanDropReason r : VxlanDropReason.values()) {
            sum.merge(r, counts.get(r.ordinal()), Long::sum);
        }
    }
}
