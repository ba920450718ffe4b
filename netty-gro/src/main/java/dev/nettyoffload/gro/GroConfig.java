package dev.nettyoffload.gro;

import dev.nettyoffload.core.UdpLimits;

import java.util.concurrent.TimeUnit;

/**
 * Immutable settings of a {@link GroAggregator}: how large a batch of datagrams may grow and how long it may
 * wait. Start from {@link #DEFAULT} or {@link #newBuilder()}, change with {@link #toBuilder()}.
 */
public final class GroConfig {
    /**
     * Most datagrams per batch: the UDP_SEGMENT limit of every kernel that has it (include/linux/udp.h
     * {@code UDP_MAX_SEGMENTS} before 6.9), so that a batch can always leave again as one USO write.
     */
    public static final int DEFAULT_MAX_SEGMENTS_PER_BATCH = UdpLimits.LEGACY_MAX_SEGMENTS;
    /**
     * Most payload bytes per batch. The limit of the batch's address family applies as well
     * ({@value UdpLimits#MAX_IPV4_PAYLOAD} for IPv4, {@value UdpLimits#MAX_IPV6_PAYLOAD} for IPv6).
     */
    public static final int DEFAULT_MAX_BATCH_BYTES = UdpLimits.MAX_IPV6_PAYLOAD;
    /** By default batches are flushed at every {@code channelReadComplete}: no timer. */
    public static final long DEFAULT_FLUSH_DELAY_NANOS = 0;
    /** Longest accepted {@link Builder#flushDelay(long, TimeUnit)}. */
    static final long MAX_FLUSH_DELAY_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** The defaults: {@value #DEFAULT_MAX_SEGMENTS_PER_BATCH} datagrams, no flush timer. */
    public static final GroConfig DEFAULT = new Builder().build();

    private final int maxSegmentsPerBatch;
    private final int maxBatchBytes;
    private final long flushDelayNanos;

    private GroConfig(Builder b) {
        this.maxSegmentsPerBatch = b.maxSegmentsPerBatch;
        this.maxBatchBytes = b.maxBatchBytes;
        this.flushDelayNanos = b.flushDelayNanos;
    }

    /** A builder with the defaults. */
    public static Builder newBuilder() {
        return new Builder();
    }

    /** A builder with this configuration's values. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Most datagrams in one batch. */
    public int maxSegmentsPerBatch() {
        return maxSegmentsPerBatch;
    }

    /** Most payload bytes in one batch (the address family's limit applies too). */
    public int maxBatchBytes() {
        return maxBatchBytes;
    }

    /**
     * How long a batch may wait for more datagrams across read loops, or 0 to flush at every
     * {@code channelReadComplete}.
     */
    public long flushDelayNanos() {
        return flushDelayNanos;
    }

    @Override
    public String toString() {
        return "GroConfig(maxSegmentsPerBatch=" + maxSegmentsPerBatch + ", maxBatchBytes=" + maxBatchBytes
                + ", flushDelayNanos=" + flushDelayNanos + ')';
    }

    /** Builder of {@link GroConfig}; not thread-safe. */
    public static final class Builder {
        private int maxSegmentsPerBatch = DEFAULT_MAX_SEGMENTS_PER_BATCH;
        private int maxBatchBytes = DEFAULT_MAX_BATCH_BYTES;
        private long flushDelayNanos = DEFAULT_FLUSH_DELAY_NANOS;

        private Builder() {
        }

        private Builder(GroConfig c) {
            maxSegmentsPerBatch = c.maxSegmentsPerBatch;
            maxBatchBytes = c.maxBatchBytes;
            flushDelayNanos = c.flushDelayNanos;
        }

        /** Most datagrams per batch, 2 to {@value UdpLimits#MODERN_MAX_SEGMENTS}. */
        public Builder maxSegmentsPerBatch(int maxSegmentsPerBatch) {
            if (maxSegmentsPerBatch < 2 || maxSegmentsPerBatch > UdpLimits.MODERN_MAX_SEGMENTS) {
                throw new IllegalArgumentException("maxSegmentsPerBatch: " + maxSegmentsPerBatch + " (expected 2.."
                        + UdpLimits.MODERN_MAX_SEGMENTS + ')');
            }
            this.maxSegmentsPerBatch = maxSegmentsPerBatch;
            return this;
        }

        /** Most payload bytes per batch, 2 to {@value UdpLimits#MAX_IPV6_PAYLOAD}. */
        public Builder maxBatchBytes(int maxBatchBytes) {
            if (maxBatchBytes < 2 || maxBatchBytes > UdpLimits.MAX_IPV6_PAYLOAD) {
                throw new IllegalArgumentException("maxBatchBytes: " + maxBatchBytes + " (expected 2.."
                        + UdpLimits.MAX_IPV6_PAYLOAD + ')');
            }
            this.maxBatchBytes = maxBatchBytes;
            return this;
        }

        /**
         * Lets a batch wait up to {@code delay} for more datagrams of its flow across read loops (a timer
         * flushes it); 0 flushes at every {@code channelReadComplete}. At most one second.
         */
        public Builder flushDelay(long delay, TimeUnit unit) {
            this.flushDelayNanos = checkDelay(delay, unit, "flushDelay");
            return this;
        }

        public GroConfig build() {
            return new GroConfig(this);
        }
    }

    /** {@code delay} in nanoseconds, checked to be 0 to one second. */
    static long checkDelay(long delay, TimeUnit unit, String name) {
        if (unit == null) {
            throw new IllegalArgumentException(name + ": unit null");
        }
        long nanos = unit.toNanos(delay);
        if (nanos < 0 || nanos > MAX_FLUSH_DELAY_NANOS) {
            throw new IllegalArgumentException(name + ": " + nanos + " ns (expected 0..1 s)");
        }
        return nanos;
    }
}
