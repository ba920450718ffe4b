package dev.nettyoffload.gro;

import dev.nettyoffload.core.UdpLimits;

import java.util.concurrent.TimeUnit;

/**
 * Immutable settings of a {@link GroAggregator}. Build with {@link #newBuilder()}, change with
 * {@link #toBuilder()}.
 */
public final class GroConfig {
    /**
     * Most datagrams per batch: the UDP_SEGMENT limit of every kernel that has it (include/linux/udp.h
     * {@code UDP_MAX_SEGMENTS} before 6.9), so that a batch can always leave again as one USO write.
     */
    public static final int DEFAULT_MAX_SEGMENTS = UdpLimits.LEGACY_MAX_SEGMENTS;
    /**
     * Most payload bytes per batch. The limit of the batch's address family applies as well
     * ({@value UdpLimits#MAX_IPV4_PAYLOAD} for IPv4, {@value UdpLimits#MAX_IPV6_PAYLOAD} for IPv6).
     */
    public static final int DEFAULT_MAX_BATCH_BYTES = UdpLimits.MAX_IPV6_PAYLOAD;
    /** By default batches are flushed at every {@code channelReadComplete}: no timer. */
    public static final long DEFAULT_FLUSH_DELAY_NANOS = 0;

    static final GroConfig DEFAULT = new Builder().build();

    private final int maxSegments;
    private final int maxBatchBytes;
    private final long flushDelayNanos;

    private GroConfig(Builder b) {
        this.maxSegments = b.maxSegments;
        this.maxBatchBytes = b.maxBatchBytes;
        this.flushDelayNanos = b.flushDelayNanos;
    }

    public static Builder newBuilder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Most datagrams in one batch. */
    public int maxSegments() {
        return maxSegments;
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
        return "GroConfig(maxSegments=" + maxSegments + ", maxBatchBytes=" + maxBatchBytes
                + ", flushDelayNanos=" + flushDelayNanos + ')';
    }

    /** Builder of {@link GroConfig}; not thread-safe. */
    public static final class Builder {
        private int maxSegments = DEFAULT_MAX_SEGMENTS;
        private int maxBatchBytes = DEFAULT_MAX_BATCH_BYTES;
        private long flushDelayNanos = DEFAULT_FLUSH_DELAY_NANOS;

        private Builder() {
        }

        private Builder(GroConfig c) {
            maxSegments = c.maxSegments;
            maxBatchBytes = c.maxBatchBytes;
            flushDelayNanos = c.flushDelayNanos;
        }

        /** Most datagrams per batch, 2 to {@value UdpLimits#MODERN_MAX_SEGMENTS}. */
        public Builder maxSegments(int maxSegments) {
            if (maxSegments < 2 || maxSegments > UdpLimits.MODERN_MAX_SEGMENTS) {
                throw new IllegalArgumentException("maxSegments: " + maxSegments + " (expected 2.."
                        + UdpLimits.MODERN_MAX_SEGMENTS + ')');
            }
            this.maxSegments = maxSegments;
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
            long nanos = unit.toNanos(delay);
            if (nanos < 0 || nanos > TimeUnit.SECONDS.toNanos(1)) {
                throw new IllegalArgumentException("flushDelay: " + nanos + " ns (expected 0..1 s)");
            }
            this.flushDelayNanos = nanos;
            return this;
        }

        public GroConfig build() {
            return new GroConfig(this);
        }
    }
}
