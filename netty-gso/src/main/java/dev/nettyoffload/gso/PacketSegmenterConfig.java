package dev.nettyoffload.gso;

import dev.nettyoffload.core.packet.LinkType;

/**
 * Immutable settings of a {@link PacketSegmenter} (and so of a {@link PacketGsoEncoder}): link type of the
 * packets, checksum mode and the most segments one packet may produce. Build with {@link #newBuilder()}; change
 * with {@link #toBuilder()}.
 */
public final class PacketSegmenterConfig {
    /** Packets start with the IP header by default. */
    public static final LinkType DEFAULT_LINK_TYPE = LinkType.RAW_IP;
    /** Checksums are complete by default. */
    public static final ChecksumMode DEFAULT_CHECKSUM_MODE = ChecksumMode.FULL;
    /**
     * Default segment limit: a 64 KiB packet cut at TCP's minimum IPv4 MSS of 536 bytes (RFC 9293) needs 123
     * segments, a 512 KiB BIG TCP packet at 1448 bytes 363; 1024 leaves room and refuses absurd requests.
     */
    public static final int DEFAULT_MAX_SEGMENTS_PER_PACKET = 1024;
    /** Largest accepted {@link #maxSegmentsPerPacket()}, Linux's {@code GSO_MAX_SEGS}. */
    public static final int MAX_MAX_SEGMENTS_PER_PACKET = 65535;

    /**
     * Segments are copied by default: one copy of the payload into a pooled buffer costs less than a composite
     * and two retained slices per segment (TCPv4, 1448 bytes: 127 vs 146 ns with full checksums, 63 vs 85 ns
     * partial, {@code PacketSegmentCpuTime}).
     */
    public static final boolean DEFAULT_COPY_PAYLOAD = true;

    /**
     * All defaults: RAW_IP, FULL checksums, {@value #DEFAULT_MAX_SEGMENTS_PER_PACKET} segments per packet, payload
     * copied.
     */
    public static final PacketSegmenterConfig DEFAULT = newBuilder().build();

    private final LinkType linkType;
    private final ChecksumMode checksumMode;
    private final int maxSegmentsPerPacket;
    private final boolean copyPayload;

    private PacketSegmenterConfig(Builder b) {
        this.linkType = b.linkType;
        this.checksumMode = b.checksumMode;
        this.maxSegmentsPerPacket = b.maxSegmentsPerPacket;
        this.copyPayload = b.copyPayload;
    }

    /** A builder with the defaults. */
    public static Builder newBuilder() {
        return new Builder();
    }

    /** A builder with this configuration's values. */
    public Builder toBuilder() {
        return new Builder().linkType(linkType).checksumMode(checksumMode).maxSegmentsPerPacket(maxSegmentsPerPacket)
                .copyPayload(copyPayload);
    }

    /** What the packets start with. */
    public LinkType linkType() {
        return linkType;
    }

    /** How checksums are filled. */
    public ChecksumMode checksumMode() {
        return checksumMode;
    }

    /** The most segments one packet may produce; a packet that would produce more is refused. */
    public int maxSegmentsPerPacket() {
        return maxSegmentsPerPacket;
    }

    /**
     * Whether each segment is copied, headers and payload, into one pooled direct buffer per input packet (each
     * output a slice of it), the payload checksum computed over the copy (the default,
     * {@value #DEFAULT_COPY_PAYLOAD}); otherwise each segment is a composite of a header slice and a retained
     * slice of the input's payload, with no payload copy (the input stays referenced until every segment is
     * released).
     */
    public boolean copyPayload() {
        return copyPayload;
    }

    @Override
    public String toString() {
        return "PacketSegmenterConfig(" + linkType + ", " + checksumMode + ", maxSegmentsPerPacket "
                + maxSegmentsPerPacket + (copyPayload ? "" : ", payload slices") + ")";
    }

    /** Builds a {@link PacketSegmenterConfig}; each setter checks its argument. */
    public static final class Builder {
        private LinkType linkType = DEFAULT_LINK_TYPE;
        private ChecksumMode checksumMode = DEFAULT_CHECKSUM_MODE;
        private int maxSegmentsPerPacket = DEFAULT_MAX_SEGMENTS_PER_PACKET;
        private boolean copyPayload = DEFAULT_COPY_PAYLOAD;

        private Builder() {
        }

        /** Sets what the packets start with. */
        public Builder linkType(LinkType linkType) {
            if (linkType == null) {
                throw new IllegalArgumentException("linkType: null");
            }
            this.linkType = linkType;
            return this;
        }

        /** Sets how checksums are filled. */
        public Builder checksumMode(ChecksumMode checksumMode) {
            if (checksumMode == null) {
                throw new IllegalArgumentException("checksumMode: null");
            }
            this.checksumMode = checksumMode;
            return this;
        }

        /** Sets the most segments one packet may produce, 1 to {@value #MAX_MAX_SEGMENTS_PER_PACKET}. */
        public Builder maxSegmentsPerPacket(int maxSegmentsPerPacket) {
            if (maxSegmentsPerPacket < 1 || maxSegmentsPerPacket > MAX_MAX_SEGMENTS_PER_PACKET) {
                throw new IllegalArgumentException("maxSegmentsPerPacket: " + maxSegmentsPerPacket + " (expected: 1.."
                        + MAX_MAX_SEGMENTS_PER_PACKET + ")");
            }
            this.maxSegmentsPerPacket = maxSegmentsPerPacket;
            return this;
        }

        /** Sets whether segments are copied into one buffer per packet: {@link PacketSegmenterConfig#copyPayload()}. */
        public Builder copyPayload(boolean copyPayload) {
            this.copyPayload = copyPayload;
            return this;
        }

        /** The configuration. */
        public PacketSegmenterConfig build() {
            return new PacketSegmenterConfig(this);
        }
    }
}
