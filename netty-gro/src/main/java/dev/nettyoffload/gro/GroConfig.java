package dev.nettyoffload.gro;

import dev.nettyoffload.core.packet.LinkType;
import dev.nettyoffload.core.UdpLimits;
import dev.nettyoffload.core.packet.VxlanHeader;

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

    /** Raw packets start at the IP header by default (a TUN device). */
    public static final LinkType DEFAULT_LINK_TYPE = LinkType.RAW_IP;
    /** UDP destination port recognised as VXLAN in raw packets: the IANA port. */
    public static final int DEFAULT_VXLAN_PORT = VxlanHeader.DEFAULT_PORT;
    /**
     * Most flows held at once: the Linux GRO table's 8 hash buckets of at most 8 packets
     * ({@code GRO_HASH_BUCKETS}, {@code MAX_GRO_SKBS} in net/core/gro.c).
     */
    public static final int DEFAULT_MAX_FLOWS = 64;
    /** Upper bound of {@link Builder#maxFlows(int)}. */
    public static final int MAX_MAX_FLOWS = 4096;
    /** Most bytes of raw packets held at once over all flows. */
    public static final int DEFAULT_MAX_HELD_BYTES = 1 << 20;
    /**
     * Most packets per merged packet: the kernel's UDP limit ({@code UDP_GRO_CNT_MAX} in
     * net/ipv4/udp_offload.c), which also keeps a merged packet within 64 buffer components (IOV_MAX allows more).
     */
    public static final int MAX_PACKET_SEGMENTS = 64;
    /** Merged packets carry complete checksums by default. */
    public static final MergedChecksum DEFAULT_MERGED_CHECKSUM = MergedChecksum.COMPLETE;
    /**
     * How long a raw packet may be held when no {@code channelReadComplete} comes: 20 µs, in the range of the
     * kernel's {@code gro_flush_timeout} settings.
     */
    public static final long DEFAULT_PACKET_FLUSH_TIMEOUT_NANOS = TimeUnit.MICROSECONDS.toNanos(20);

    /** IPv6 TCP packets are merged to at most 65535 bytes by default: no jumbograms (BIG TCP off). */
    public static final int DEFAULT_BIG_TCP_MAX_SIZE = 0;
    /**
     * Largest merged IPv6 datagram with BIG TCP: the kernel's {@code GRO_MAX_SIZE} (8 x 65535,
     * include/linux/netdevice.h).
     */
    public static final int MAX_BIG_TCP_MAX_SIZE = 8 * 65535;

    static final GroConfig DEFAULT = new Builder().build();

    private final int maxSegments;
    private final int maxBatchBytes;
    private final long flushDelayNanos;
    private final LinkType linkType;
    private final int vxlanPort;
    private final int maxFlows;
    private final int maxHeldBytes;
    private final int packetMaxSegments;
    private final MergedChecksum mergedChecksum;
    private final long packetFlushTimeoutNanos;
    private final int bigTcpMaxSize;

    private GroConfig(Builder b) {
        this.bigTcpMaxSize = b.bigTcpMaxSize;
        this.maxSegments = b.maxSegments;
        this.maxBatchBytes = b.maxBatchBytes;
        this.flushDelayNanos = b.flushDelayNanos;
        this.linkType = b.linkType;
        this.vxlanPort = b.vxlanPort;
        this.maxFlows = b.maxFlows;
        this.maxHeldBytes = b.maxHeldBytes;
        this.packetMaxSegments = b.packetMaxSegments;
        this.mergedChecksum = b.mergedChecksum;
        this.packetFlushTimeoutNanos = b.packetFlushTimeoutNanos;
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

    /** What a raw packet ({@link io.netty.buffer.ByteBuf}) starts with. */
    public LinkType linkType() {
        return linkType;
    }

    /** UDP destination port of VXLAN in raw packets, or 0 when VXLAN is not recognised. */
    public int vxlanPort() {
        return vxlanPort;
    }

    /** Most flows of raw packets held at once; the oldest is flushed to make room. */
    public int maxFlows() {
        return maxFlows;
    }

    /** Most bytes of raw packets held at once; the oldest flows are flushed to make room. */
    public int maxHeldBytes() {
        return maxHeldBytes;
    }

    /** Most raw packets merged into one {@link dev.nettyoffload.core.packet.GsoPacket}. */
    public int packetMaxSegments() {
        return packetMaxSegments;
    }

    /** What the TCP/UDP checksum of a merged packet holds. */
    public MergedChecksum mergedChecksum() {
        return mergedChecksum;
    }

    /** How long raw packets may be held without a {@code channelReadComplete}, or 0 for no timer. */
    public long packetFlushTimeoutNanos() {
        return packetFlushTimeoutNanos;
    }

    /**
     * Largest merged IPv6 TCP datagram (header included) when above 65535 bytes, carried with a jumbo payload
     * Hop-by-Hop option as Linux BIG TCP does ({@code gro_max_size}); 0 when off.
     */
    public int bigTcpMaxSize() {
        return bigTcpMaxSize;
    }

    @Override
    public String toString() {
        return "GroConfig(bigTcpMaxSize=" + bigTcpMaxSize + ", maxSegments=" + maxSegments
                + ", maxBatchBytes=" + maxBatchBytes
                + ", flushDelayNanos=" + flushDelayNanos + ", linkType=" + linkType + ", vxlanPort=" + vxlanPort
                + ", maxFlows=" + maxFlows + ", maxHeldBytes=" + maxHeldBytes + ", packetMaxSegments="
                + packetMaxSegments + ", mergedChecksum=" + mergedChecksum + ", packetFlushTimeoutNanos="
                + packetFlushTimeoutNanos + ')';
    }

    /** Builder of {@link GroConfig}; not thread-safe. */
    public static final class Builder {
        private int maxSegments = DEFAULT_MAX_SEGMENTS;
        private int maxBatchBytes = DEFAULT_MAX_BATCH_BYTES;
        private long flushDelayNanos = DEFAULT_FLUSH_DELAY_NANOS;
        private LinkType linkType = DEFAULT_LINK_TYPE;
        private int vxlanPort = DEFAULT_VXLAN_PORT;
        private int maxFlows = DEFAULT_MAX_FLOWS;
        private int maxHeldBytes = DEFAULT_MAX_HELD_BYTES;
        private int packetMaxSegments = MAX_PACKET_SEGMENTS;
        private MergedChecksum mergedChecksum = DEFAULT_MERGED_CHECKSUM;
        private long packetFlushTimeoutNanos = DEFAULT_PACKET_FLUSH_TIMEOUT_NANOS;
        private int bigTcpMaxSize = DEFAULT_BIG_TCP_MAX_SIZE;

        private Builder() {
        }

        private Builder(GroConfig c) {
            bigTcpMaxSize = c.bigTcpMaxSize;
            maxSegments = c.maxSegments;
            maxBatchBytes = c.maxBatchBytes;
            flushDelayNanos = c.flushDelayNanos;
            linkType = c.linkType;
            vxlanPort = c.vxlanPort;
            maxFlows = c.maxFlows;
            maxHeldBytes = c.maxHeldBytes;
            packetMaxSegments = c.packetMaxSegments;
            mergedChecksum = c.mergedChecksum;
            packetFlushTimeoutNanos = c.packetFlushTimeoutNanos;
        }

        /**
         * Lets IPv6 TCP runs without extension headers (and without tunnel) grow beyond 65535 bytes, up to
         * {@code maxSize} bytes of IPv6 datagram, with a jumbo payload Hop-by-Hop option (RFC 2675) as Linux BIG
         * TCP does; a GSO encoder strips the option again. 0 (the default) turns it off; otherwise 65536 to
         * {@value #MAX_BIG_TCP_MAX_SIZE}.
         */
        public Builder bigTcpMaxSize(int maxSize) {
            if (maxSize != 0 && (maxSize <= 65535 || maxSize > MAX_BIG_TCP_MAX_SIZE)) {
                throw new IllegalArgumentException("bigTcpMaxSize: " + maxSize + " (expected 0 or 65536.."
                        + MAX_BIG_TCP_MAX_SIZE + ')');
            }
            this.bigTcpMaxSize = maxSize;
            return this;
        }

        /** What raw packets start with. */
        public Builder linkType(LinkType linkType) {
            if (linkType == null) {
                throw new IllegalArgumentException("linkType: null");
            }
            this.linkType = linkType;
            return this;
        }

        /** UDP destination port recognised as VXLAN, 1 to 65535, or 0 to treat all UDP as plain UDP. */
        public Builder vxlanPort(int vxlanPort) {
            if (vxlanPort < 0 || vxlanPort > 65535) {
                throw new IllegalArgumentException("vxlanPort: " + vxlanPort + " (expected 0..65535)");
            }
            this.vxlanPort = vxlanPort;
            return this;
        }

        /** Most flows held at once, 1 to {@value #MAX_MAX_FLOWS}. */
        public Builder maxFlows(int maxFlows) {
            if (maxFlows < 1 || maxFlows > MAX_MAX_FLOWS) {
                throw new IllegalArgumentException("maxFlows: " + maxFlows + " (expected 1.." + MAX_MAX_FLOWS + ')');
            }
            this.maxFlows = maxFlows;
            return this;
        }

        /** Most bytes held at once, at least 65536 (one full merged packet). */
        public Builder maxHeldBytes(int maxHeldBytes) {
            if (maxHeldBytes < 65536) {
                throw new IllegalArgumentException("maxHeldBytes: " + maxHeldBytes + " (expected >= 65536)");
            }
            this.maxHeldBytes = maxHeldBytes;
            return this;
        }

        /** Most raw packets per merged packet, 2 to {@value #MAX_PACKET_SEGMENTS}. */
        public Builder packetMaxSegments(int packetMaxSegments) {
            if (packetMaxSegments < 2 || packetMaxSegments > MAX_PACKET_SEGMENTS) {
                throw new IllegalArgumentException("packetMaxSegments: " + packetMaxSegments + " (expected 2.."
                        + MAX_PACKET_SEGMENTS + ')');
            }
            this.packetMaxSegments = packetMaxSegments;
            return this;
        }

        /** What the TCP/UDP checksum of a merged packet holds. */
        public Builder mergedChecksum(MergedChecksum mergedChecksum) {
            if (mergedChecksum == null) {
                throw new IllegalArgumentException("mergedChecksum: null");
            }
            this.mergedChecksum = mergedChecksum;
            return this;
        }

        /**
         * Longest a raw packet may be held when no {@code channelReadComplete} comes (a timer flushes it), or
         * 0 for no timer. At most one second.
         */
        public Builder packetFlushTimeout(long timeout, TimeUnit unit) {
            long nanos = unit.toNanos(timeout);
            if (nanos < 0 || nanos > TimeUnit.SECONDS.toNanos(1)) {
                throw new IllegalArgumentException("packetFlushTimeout: " + nanos + " ns (expected 0..1 s)");
            }
            this.packetFlushTimeoutNanos = nanos;
            return this;
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
