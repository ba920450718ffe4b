package dev.nettyoffload.gso;

import dev.nettyoffload.core.UdpLimits;

/**
 * Immutable settings of a {@link GsoEncoder}. Build with {@link #newBuilder()}; change with {@link #toBuilder()}.
 */
public final class GsoConfig {
    /**
     * Payload bytes per datagram when a plain {@code DatagramPacket} is split: fits a 1500-byte MTU for IPv4
     * (1472) and IPv6 (1452) with room for a tunnel header, and is the figure the design is measured with.
     */
    public static final int DEFAULT_SEGMENT_SIZE = 1400;
    /** Use the kernel segment limit found by the probe (128 since Linux 6.9, 64 before). */
    public static final int PROBED_MAX_SEGMENTS = 0;

    public static final GsoConfig DEFAULT = newBuilder().build();

    private final int segmentSize;
    private final GsoMode mode;
    private final int maxSegments;
    private final long pacingRate;

    private GsoConfig(Builder b) {
        this.segmentSize = b.segmentSize;
        this.mode = b.mode;
        this.maxSegments = b.maxSegments;
        this.pacingRate = b.pacingRate;
    }

    public static Builder newBuilder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().segmentSize(segmentSize).mode(mode).maxSegments(maxSegments).pacingRate(pacingRate);
    }

    /** Payload bytes per datagram for plain {@code DatagramPacket}s (a {@code SegmentedDatagramPacket} brings its own). */
    public int segmentSize() {
        return segmentSize;
    }

    public GsoMode mode() {
        return mode;
    }

    /** Most segments in one kernel send, or {@link #PROBED_MAX_SEGMENTS} to use the probed limit. */
    public int maxSegments() {
        return maxSegments;
    }

    /** The most bytes per second this encoder lets out, or 0 for no pacing. */
    public long pacingRate() {
        return pacingRate;
    }

    @Override
    public String toString() {
        return "GsoConfig(segmentSize=" + segmentSize + ", mode=" + mode + ", maxSegments="
                + (maxSegments == PROBED_MAX_SEGMENTS ? "probed" : Integer.toString(maxSegments))
                + ", pacingRate=" + (pacingRate == 0 ? "off" : pacingRate + " B/s") + ')';
    }

    /** Builder of {@link GsoConfig}; each setter checks its argument. */
    public static final class Builder {
        private int segmentSize = DEFAULT_SEGMENT_SIZE;
        private GsoMode mode = GsoMode.AUTO;
        private int maxSegments = PROBED_MAX_SEGMENTS;
        private long pacingRate;

        private Builder() {
        }

        public Builder segmentSize(int segmentSize) {
            if (segmentSize < 1 || segmentSize > UdpLimits.MAX_IPV6_PAYLOAD) {
                throw new IllegalArgumentException("segmentSize: " + segmentSize + " (expected: 1-"
                        + UdpLimits.MAX_IPV6_PAYLOAD + ")");
            }
            this.segmentSize = segmentSize;
            return this;
        }

        public Builder mode(GsoMode mode) {
            if (mode == null) {
                throw new IllegalArgumentException("mode: null");
            }
            this.mode = mode;
            return this;
        }

        /** At most this many segments per kernel send, 0 for the probed limit; at least 2 to be of use. */
        public Builder maxSegments(int maxSegments) {
            if (maxSegments != PROBED_MAX_SEGMENTS && (maxSegments < 2 || maxSegments > UdpLimits.MODERN_MAX_SEGMENTS)) {
                throw new IllegalArgumentException("maxSegments: " + maxSegments + " (expected: 0 for the probed"
                        + " limit, or 2-" + UdpLimits.MODERN_MAX_SEGMENTS + ")");
            }
            this.maxSegments = maxSegments;
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

        public GsoConfig build() {
            return new GsoConfig(this);
        }
    }
}
