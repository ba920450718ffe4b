package dev.nettyoffload.gso;

import dev.nettyoffload.core.UdpLimits;

/**
 * Immutable settings of a {@link GsoEncoder}: segment size, path, segments per kernel send and pacing. Build with
 * {@link #newBuilder()}; change with {@link #toBuilder()}.
 */
public final class GsoConfig {
    /**
     * Payload bytes per datagram when a plain {@code DatagramPacket} is split: fits a 1500-byte MTU for IPv4
     * (1472) and IPv6 (1452) with room for a tunnel header, and is the figure the design is measured with.
     */
    public static final int DEFAULT_SEGMENT_SIZE = 1400;
    /** The kernel where it can segment, software otherwise. */
    public static final GsoMode DEFAULT_MODE = GsoMode.AUTO;
    /**
     * A {@link #maxSegmentsPerSend()} that means the kernel limit found by the probe (128 since Linux 6.9, 64
     * before).
     */
    public static final int PROBED_MAX_SEGMENTS_PER_SEND = 0;
    /** The probed kernel limit. */
    public static final int DEFAULT_MAX_SEGMENTS_PER_SEND = PROBED_MAX_SEGMENTS_PER_SEND;
    /** No pacing. */
    public static final long DEFAULT_PACING_RATE = 0;

    /** All defaults. */
    public static final GsoConfig DEFAULT = newBuilder().build();

    private final int segmentSize;
    private final GsoMode mode;
    private final int maxSegmentsPerSend;
    private final long pacingRate;

    private GsoConfig(Builder b) {
        this.segmentSize = b.segmentSize;
        this.mode = b.mode;
        this.maxSegmentsPerSend = b.maxSegmentsPerSend;
        this.pacingRate = b.pacingRate;
    }

    /** A builder with the defaults. */
    public static Builder newBuilder() {
        return new Builder();
    }

    /** A builder with this configuration's values. */
    public Builder toBuilder() {
        return new Builder().segmentSize(segmentSize).mode(mode).maxSegmentsPerSend(maxSegmentsPerSend)
                .pacingRate(pacingRate);
    }

    /** Payload bytes per datagram for plain {@code DatagramPacket}s (a {@code SegmentedDatagramPacket} brings its own). */
    public int segmentSize() {
        return segmentSize;
    }

    /** Which path cuts large writes. */
    public GsoMode mode() {
        return mode;
    }

    /** Most segments in one kernel send, or {@link #PROBED_MAX_SEGMENTS_PER_SEND} for the probed limit. */
    public int maxSegmentsPerSend() {
        return maxSegmentsPerSend;
    }

    /** The most bytes per second this encoder lets out, or 0 for no pacing. */
    public long pacingRate() {
        return pacingRate;
    }

    @Override
    public String toString() {
        String perSend = maxSegmentsPerSend == PROBED_MAX_SEGMENTS_PER_SEND ? "probed"
                : Integer.toString(maxSegmentsPerSend);
        return "GsoConfig(segmentSize=" + segmentSize + ", mode=" + mode + ", maxSegmentsPerSend=" + perSend
                + ", pacingRate=" + (pacingRate == 0 ? "off" : pacingRate + " B/s") + ')';
    }

    /** Builder of {@link GsoConfig}; each setter checks its argument. */
    public static final class Builder {
        private int segmentSize = DEFAULT_SEGMENT_SIZE;
        private GsoMode mode = DEFAULT_MODE;
        private int maxSegmentsPerSend = DEFAULT_MAX_SEGMENTS_PER_SEND;
        private long pacingRate = DEFAULT_PACING_RATE;

        private Builder() {
        }

        /** Payload bytes per datagram for plain {@code DatagramPacket}s, 1 to 65527. */
        public Builder segmentSize(int segmentSize) {
            if (segmentSize < 1 || segmentSize > UdpLimits.MAX_IPV6_PAYLOAD) {
                throw new IllegalArgumentException("segmentSize: " + segmentSize + " (expected: 1-"
                        + UdpLimits.MAX_IPV6_PAYLOAD + ")");
            }
            this.segmentSize = segmentSize;
            return this;
        }

        /** Which path cuts large writes. */
        public Builder mode(GsoMode mode) {
            if (mode == null) {
                throw new IllegalArgumentException("mode: null");
            }
            this.mode = mode;
            return this;
        }

        /**
         * At most this many segments per kernel send, {@link #PROBED_MAX_SEGMENTS_PER_SEND} for the probed limit;
         * at least 2 to be of use, at most the kernel's {@code UDP_MAX_SEGMENTS} (128).
         */
        public Builder maxSegmentsPerSend(int maxSegmentsPerSend) {
            if (maxSegmentsPerSend != PROBED_MAX_SEGMENTS_PER_SEND
                    && (maxSegmentsPerSend < 2 || maxSegmentsPerSend > UdpLimits.MODERN_MAX_SEGMENTS)) {
                throw new IllegalArgumentException("maxSegmentsPerSend: " + maxSegmentsPerSend + " (expected: "
                        + PROBED_MAX_SEGMENTS_PER_SEND + " for the probed limit, or 2-"
                        + UdpLimits.MODERN_MAX_SEGMENTS + ")");
            }
            this.maxSegmentsPerSend = maxSegmentsPerSend;
            return this;
        }

        /**
         * Lets out at most {@code bytesPerSecond} payload bytes per second, 0 for no pacing. The encoder then
         * sets SO_MAX_PACING_RATE (enforced by the fq qdisc where present), keeps each kernel send to about a
         * millisecond of data, and spaces its sends in software, so that a 64 KiB write is spread over time
         * on any transport instead of leaving at line rate.
         */
        public Builder pacingRate(long bytesPerSecond) {
            if (bytesPerSecond < 0) {
                throw new IllegalArgumentException("pacingRate: " + bytesPerSecond + " (expected: 0 for off, or"
                        + " bytes per second > 0)");
            }
            this.pacingRate = bytesPerSecond;
            return this;
        }

        /** The configuration. */
        public GsoConfig build() {
            return new GsoConfig(this);
        }
    }
}
