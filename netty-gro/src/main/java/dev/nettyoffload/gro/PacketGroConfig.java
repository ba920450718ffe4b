package dev.nettyoffload.gro;

import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.LinkType;
import dev.nettyoffload.core.packet.VxlanHeader;

import java.util.concurrent.TimeUnit;

/**
 * Immutable settings of a {@link PacketGroAggregator}: what the packets start with, how many flows and bytes
 * may be held, how large a merged packet may grow and how long packets may wait. Start from {@link #DEFAULT}
 * or {@link #newBuilder()}, change with {@link #toBuilder()}.
 */
public final class PacketGroConfig {
    /** Packets start at the IP header by default (a TUN device). */
    public static final LinkType DEFAULT_LINK_TYPE = LinkType.RAW_IP;
    /** UDP destination port recognised as VXLAN: the IANA port. */
    public static final int DEFAULT_VXLAN_PORT = VxlanHeader.DEFAULT_PORT;
    /**
     * Most flows held at once: the Linux GRO table's 8 hash buckets of at most 8 packets
     * ({@code GRO_HASH_BUCKETS}, {@code MAX_GRO_SKBS} in net/core/gro.c).
     */
    public static final int DEFAULT_MAX_FLOWS = 64;
    /** Upper bound of {@link Builder#maxFlows(int)}. */
    public static final int MAX_MAX_FLOWS = 4096;
    /** Most bytes of packets held at once over all flows. */
    public static final int DEFAULT_MAX_HELD_BYTES = 1 << 20;
    /** Lower bound of {@link Builder#maxHeldBytes(int)}: one full merged packet. */
    public static final int MIN_MAX_HELD_BYTES = 65536;
    /**
     * Most packets per merged packet, and the default: the kernel's UDP limit ({@code UDP_GRO_CNT_MAX} in
     * net/ipv4/udp_offload.c), and the most segments of a USO send on older kernels.
     */
    public static final int MAX_SEGMENTS_PER_PACKET = 64;
    /** Merged packets carry complete checksums by default. */
    public static final MergedChecksum DEFAULT_MERGED_CHECKSUM = MergedChecksum.COMPLETE;
    /**
     * How long a packet may be held when no {@code channelReadComplete} comes: 20 µs, in the range of the
     * kernel's {@code gro_flush_timeout} settings.
     */
    public static final long DEFAULT_FLUSH_DELAY_NANOS = TimeUnit.MICROSECONDS.toNanos(20);
    /** IPv6 TCP packets are merged to at most 65535 bytes by default: no jumbograms (BIG TCP off). */
    public static final int DEFAULT_BIG_TCP_MAX_SIZE = 0;
    /**
     * Largest merged IPv6 datagram with BIG TCP: the kernel's {@code GRO_MAX_SIZE} (8 x 65535,
     * include/linux/netdevice.h).
     */
    public static final int MAX_BIG_TCP_MAX_SIZE = 8 * 65535;

    /** The defaults: raw IP packets, {@value #DEFAULT_MAX_FLOWS} flows, complete checksums, a 20 µs timer. */
    public static final PacketGroConfig DEFAULT = new Builder().build();

    private final LinkType linkType;
    private final int vxlanPort;
    private final int maxFlows;
    private final int maxHeldBytes;
    private final int maxSegmentsPerPacket;
    private final MergedChecksum mergedChecksum;
    private final long flushDelayNanos;
    private final int bigTcpMaxSize;
    private final boolean trustL4Checksums;

    private PacketGroConfig(Builder b) {
        this.linkType = b.linkType;
        this.vxlanPort = b.vxlanPort;
        this.maxFlows = b.maxFlows;
        this.maxHeldBytes = b.maxHeldBytes;
        this.maxSegmentsPerPacket = b.maxSegmentsPerPacket;
        this.mergedChecksum = b.mergedChecksum;
        this.flushDelayNanos = b.flushDelayNanos;
        this.bigTcpMaxSize = b.bigTcpMaxSize;
        this.trustL4Checksums = b.trustL4Checksums;
    }

    /** A builder with the defaults. */
    public static Builder newBuilder() {
        return new Builder();
    }

    /** A builder with this configuration's values. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** What a packet ({@link io.netty.buffer.ByteBuf}) starts with. */
    public LinkType linkType() {
        return linkType;
    }

    /** UDP destination port of VXLAN, or 0 when VXLAN is not recognised. */
    public int vxlanPort() {
        return vxlanPort;
    }

    /** Most flows held at once; the oldest is flushed to make room. */
    public int maxFlows() {
        return maxFlows;
    }

    /**
     * Most bytes of packets held at once; the oldest flows are flushed to make room. Counted in packet bytes: a
     * flow whose run has two or more packets holds them in one buffer sized for its largest merged packet
     * ({@link #maxSegmentsPerPacket()} segments of its first packet's size, at most 65535 bytes of IP datagram or
     * {@link #bigTcpMaxSize()}): the memory held is at most these bytes plus {@link #maxFlows()} such buffers
     * (about 4 MiB with the defaults), whatever the traffic.
     */
    public int maxHeldBytes() {
        return maxHeldBytes;
    }

    /** Most packets merged into one {@link GsoPacket}. */
    public int maxSegmentsPerPacket() {
        return maxSegmentsPerPacket;
    }

    /** What the TCP/UDP checksum of a merged packet holds. */
    public MergedChecksum mergedChecksum() {
        return mergedChecksum;
    }

    /** How long packets may be held without a {@code channelReadComplete}, or 0 for no timer. */
    public long flushDelayNanos() {
        return flushDelayNanos;
    }

    /**
     * Largest merged IPv6 TCP datagram (header included) when above 65535 bytes, carried with a jumbo payload
     * Hop-by-Hop option as Linux BIG TCP does ({@code gro_max_size}); 0 when off.
     */
    public int bigTcpMaxSize() {
        return bigTcpMaxSize;
    }

    /**
     * Whether TCP/UDP checksums are taken as they are instead of verified (default false): the kernel's
     * {@code CHECKSUM_UNNECESSARY} and {@code CHECKSUM_PARTIAL}. IPv4 header checksums are still verified.
     */
    public boolean trustL4Checksums() {
        return trustL4Checksums;
    }

    @Override
    public String toString() {
        return "PacketGroConfig(linkType=" + linkType + ", vxlanPort=" + vxlanPort + ", maxFlows=" + maxFlows
                + ", maxHeldBytes=" + maxHeldBytes + ", maxSegmentsPerPacket=" + maxSegmentsPerPacket
                + ", mergedChecksum=" + mergedChecksum + ", flushDelayNanos=" + flushDelayNanos
                + ", bigTcpMaxSize=" + bigTcpMaxSize + (trustL4Checksums ? ", trustL4Checksums" : "") + ')';
    }

    /** Builder of {@link PacketGroConfig}; not thread-safe. */
    public static final class Builder {
        private LinkType linkType = DEFAULT_LINK_TYPE;
        private int vxlanPort = DEFAULT_VXLAN_PORT;
        private int maxFlows = DEFAULT_MAX_FLOWS;
        private int maxHeldBytes = DEFAULT_MAX_HELD_BYTES;
        private int maxSegmentsPerPacket = MAX_SEGMENTS_PER_PACKET;
        private MergedChecksum mergedChecksum = DEFAULT_MERGED_CHECKSUM;
        private long flushDelayNanos = DEFAULT_FLUSH_DELAY_NANOS;
        private int bigTcpMaxSize = DEFAULT_BIG_TCP_MAX_SIZE;
        private boolean trustL4Checksums;

        private Builder() {
        }

        private Builder(PacketGroConfig c) {
            linkType = c.linkType;
            vxlanPort = c.vxlanPort;
            maxFlows = c.maxFlows;
            maxHeldBytes = c.maxHeldBytes;
            maxSegmentsPerPacket = c.maxSegmentsPerPacket;
            mergedChecksum = c.mergedChecksum;
            flushDelayNanos = c.flushDelayNanos;
            bigTcpMaxSize = c.bigTcpMaxSize;
            trustL4Checksums = c.trustL4Checksums;
        }

        /** What packets start with. */
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

        /** Most bytes held at once, at least {@value #MIN_MAX_HELD_BYTES} (one full merged packet). */
        public Builder maxHeldBytes(int maxHeldBytes) {
            if (maxHeldBytes < MIN_MAX_HELD_BYTES) {
                throw new IllegalArgumentException("maxHeldBytes: " + maxHeldBytes + " (expected >= "
                        + MIN_MAX_HELD_BYTES + ')');
            }
            this.maxHeldBytes = maxHeldBytes;
            return this;
        }

        /** Most packets per merged packet, 2 to {@value #MAX_SEGMENTS_PER_PACKET}. */
        public Builder maxSegmentsPerPacket(int maxSegmentsPerPacket) {
            if (maxSegmentsPerPacket < 2 || maxSegmentsPerPacket > MAX_SEGMENTS_PER_PACKET) {
                throw new IllegalArgumentException("maxSegmentsPerPacket: " + maxSegmentsPerPacket + " (expected 2.."
                        + MAX_SEGMENTS_PER_PACKET + ')');
            }
            this.maxSegmentsPerPacket = maxSegmentsPerPacket;
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
         * Longest a packet may be held when no {@code channelReadComplete} comes (a timer flushes it), or 0 for
         * no timer. At most one second.
         */
        public Builder flushDelay(long delay, TimeUnit unit) {
            this.flushDelayNanos = GroConfig.checkDelay(delay, unit, "flushDelay");
            return this;
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

        /**
         * Takes the TCP/UDP checksums of every packet as they are, neither summed nor verified (default false),
         * for input whose integrity the caller has established (verified, or covered by a tunnel's outer
         * checksum) or whose checksums are still partial ({@code CHECKSUM_PARTIAL}); without the sums a merged
         * packet can only carry a partial checksum, so {@link #build()} requires {@link MergedChecksum#PARTIAL}.
         * Saves a pass over every payload byte.
         */
        public Builder trustL4Checksums(boolean trust) {
            this.trustL4Checksums = trust;
            return this;
        }

        /**
         * The configuration.
         *
         * @throws IllegalArgumentException for {@link #trustL4Checksums(boolean)} with {@link MergedChecksum#COMPLETE}
         */
        public PacketGroConfig build() {
            if (trustL4Checksums && mergedChecksum != MergedChecksum.PARTIAL) {
                throw new IllegalArgumentException("trustL4Checksums needs mergedChecksum PARTIAL (was: "
                        + mergedChecksum + ')');
            }
            return new PacketGroConfig(this);
        }
    }
}
