package dev.nettyoffload.gso;

import dev.nettyoffload.core.packet.LinkType;

/**
 * Immutable settings of a {@link PacketSegmenter}: link type of the packets, checksum mode and the most
 * segments one packet may produce. Build with {@link #newBuilder()}.
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
    public static final int DEFAULT_MAX_SEGMENTS = 1024;
    /** Largest accepted limit, Linux's {@code GSO_MAX_SEGS}. */
    public static final int MAX_MAX_SEGMENTS = 65535;

    /** RAW_IP, FULL checksums, {@value #DEFAULT_MAX_SEGMENTS} segments per packet. */
    public static final PacketSegmenterConfig DEFAULT = newBuilder().build();

    private final LinkType linkType;
    private final ChecksumMode checksumMode;
    private final int maxSegments;

    private PacketSegmenterConfig(Builder b) {
        this.linkType = b.linkType;
        this.checksumMode = b.checksumMode;
        this.maxSegments = b.maxSegments;
    }

    /** The default configuration: RAW_IP, FULL checksums, {@value #DEFAULT_MAX_SEGMENTS} segments. */
    public static PacketSegmenterConfig defaultConfig() {
        return DEFAULT;
    }

    /** A builder with the defaults. */
    public static Builder newBuilder() {
        return new Builder();
    }

    /** A builder with this configuration's values. */
    public Builder toBuilder() {
        return new Builder().linkType(linkType).checksumMode(checksumMode).maxSegments(maxSegments);
    }

    /** What the packets start with. */
    public LinkType linkType() {
        return linkType;
    }

    /** How checksums are filled. */
    public ChecksumMode checksumMode() {
        return checksumMode;
    }

    /** The most segments one packet may produce. */
    public int maxSegments() {
        return maxSegments;
    }

    @Override
    public String toString() {
        return "PacketSegmenterConfig(" + linkType + ", " + checksumMode + ", maxSegments " + maxSegments + ")";
    }

    /** Builds a {@link PacketSegmenterConfig}. */
    public static final class Builder {
        private LinkType linkType = DEFAULT_LINK_TYPE;
        private ChecksumMode checksumMode = DEFAULT_CHECKSUM_MODE;
        private int maxSegments = DEFAULT_MAX_SEGMENTS;

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

        /** Sets the most segments one packet may produce, 1 to {@value #MAX_MAX_SEGMENTS}. */
        public Builder maxSegments(int maxSegments) {
            if (maxSegments < 1 || maxSegments > MAX_MAX_SEGMENTS) {
                throw new IllegalArgumentException("maxSegments: " + maxSegments + " (expected: 1.."
                        + MAX_MAX_SEGMENTS + ")");
            }
            this.maxSegments = maxSegments;
            return this;
        }

        /** The configuration. */
        public PacketSegmenterConfig build() {
            return new PacketSegmenterConfig(this);
        }
    }
}
