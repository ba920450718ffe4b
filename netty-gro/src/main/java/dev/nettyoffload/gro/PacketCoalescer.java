package dev.nettyoffload.gro;

import dev.nettyoffload.core.packet.EthernetHeader;
import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.GsoType;
import dev.nettyoffload.core.packet.InternetChecksum;
import dev.nettyoffload.core.packet.IpProtocol;
import dev.nettyoffload.core.packet.Ipv4Header;
import dev.nettyoffload.core.packet.Ipv4IdMode;
import dev.nettyoffload.core.packet.Ipv6Header;
import dev.nettyoffload.core.packet.LinkType;
import dev.nettyoffload.core.packet.PacketLayout;
import dev.nettyoffload.core.packet.PacketOffloadException;
import dev.nettyoffload.core.packet.TcpHeader;
import dev.nettyoffload.core.packet.TunnelType;
import dev.nettyoffload.core.packet.UdpHeader;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * The engine of {@link PacketGroAggregator}: coalesces runs of TCP segments or equal-size UDP datagrams
 * of a flow into one {@link GsoPacket}, by the merge rules of the Linux kernel ({@code inet_gro_receive},
 * {@code ipv6_gro_receive}, {@code tcp_gro_receive}, {@code udp_gro_receive_segment}). Pipeline-free: packets
 * go in through {@link #add} and come out through an {@link Output}; the caller decides when to
 * {@link #flushAll}.
 * <p>
 * A flow is the link header (Ethernet), the addresses, protocol and ports, the IPv6 flow label and extension
 * headers, and for a tunnel the outer addresses, the outer UDP ports, VXLAN header and inner Ethernet header
 * as well. Within a flow the order is kept: a packet that cannot be held flushes its flow first. Flows are
 * kept in arrival order in a table bounded by {@link PacketGroConfig#maxFlows()} and {@link PacketGroConfig#maxHeldBytes()}
 * (the oldest flow is flushed to make room), scanned by a precomputed hash like the kernel's bounded GRO lists.
 * <p>
 * A merged packet is a {@link CompositeByteBuf} of the first packet (its headers rewritten in place when it is
 * not shared, else copied into a small new header buffer) and the payload of every other packet: no payload
 * byte is copied. A packet that merged with nothing leaves as the buffer it came in. Not thread-safe: use it
 * from one event loop.
 */
final class PacketCoalescer {
    /** Receives what the coalescer emits (a {@link ByteBuf} or a {@link GsoPacket}); takes ownership. */
    interface Output {
        void emit(Object msg);
    }

    /** What {@link #canCoalesce} decided for a packet of a held flow. */
    enum CoalesceResult {
        /** The packet may join the run. */
        COALESCE,
        /** The packet differs from the run in a field that must match, or does not continue it. */
        MISMATCH,
        /** The run cannot grow: segment, component or 65535-byte limit. */
        FULL
    }

    private static final InternalLogger logger = InternalLoggerFactory.getInstance(PacketGroAggregator.class);
    private static final long LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);
    /**
     * Largest merged IP datagram: {@code skb_gro_receive} refuses to grow a packet to 65536 bytes or more
     * (net/core/gro.c), so that the 16-bit IPv4 total length stays exact.
     */
    static final int MAX_MERGED_IP_LENGTH = 65535;
    /** A Hop-by-Hop header holding only the jumbo payload option: next header, length, type, length, value. */
    static final int JUMBO_HOP_BY_HOP_LENGTH = 8;
    /** Most components of a merged buffer (one per packet, plus a header buffer when the first is shared). */
    static final int MAX_COMPONENTS = 64;
    /** TCP flags that may differ along a run: FIN and PSH end it, CWR only on the first (tcp_gro_receive). */
    private static final int TCP_FLAGS_MAY_DIFFER = (TcpHeader.CWR | TcpHeader.FIN | TcpHeader.PSH) << 16;
    /** TCP flags that are never merged: the kernel flushes a SYN, RST or URG segment at once. */
    private static final int TCP_FLAGS_NEVER = TcpHeader.SYN | TcpHeader.RST | TcpHeader.URG;
    private static final int TCP_FLAGS_END = TcpHeader.PSH | TcpHeader.FIN;
    private static final int IPV4_DF = 0x4000;
    /** Offset of the TCP urgent pointer. */
    private static final int TCP_URGENT_OFFSET = 18;
    /** The IPv6 first word without traffic class: version and flow label identify the flow. */
    private static final int IPV6_FLOW_MASK = 0xF00FFFFF;
    private static final int IPV6_TRAFFIC_CLASS_MASK = 0x0FF00000;

    private final LinkType linkType;
    private final int vxlanPort;
    private final int maxFlows;
    private final int maxHeldBytes;
    private final int maxSegments;
    private final boolean completeChecksum;
    private final int bigTcpMaxSize;
    private final PacketLayout layout = new PacketLayout();
    private final PacketFlow[] active;
    private final int[] activeHashes;
    private final PacketFlow[] free;
    private int activeCount;
    private int freeCount;
    private int heldBytes;
    private int heldPackets;

    /** Whether the packet being added has been held or emitted (so a failure must not release it). */
    private boolean taken;
    // Probe: values of the packet being added, computed once by check().
    private long probePayloadSum;
    private long probeAddress;
    private int probePorts;
    private int probeIdMode;

    private final PacketGroCounters counters;
    private long lastFailureLogNanos;
    private boolean failureLogged;
    private long lastLogNanos;
    private boolean logged;

    PacketCoalescer(PacketGroConfig config, PacketGroCounters counters) {
        this.counters = counters;
        linkType = config.linkType();
        vxlanPort = config.vxlanPort();
        maxFlows = config.maxFlows();
        maxHeldBytes = config.maxHeldBytes();
        maxSegments = config.maxSegmentsPerPacket();
        completeChecksum = config.mergedChecksum() == MergedChecksum.COMPLETE;
        bigTcpMaxSize = config.bigTcpMaxSize();
        active = new PacketFlow[maxFlows];
        activeHashes = new int[maxFlows];
        free = new PacketFlow[maxFlows];
        for (int i = 0; i < maxFlows; i++) {
            free[i] = new PacketFlow(maxSegments);
        }
        freeCount = maxFlows;
    }

    /** Packets held right now. */
    int heldPackets() {
        return heldPackets;
    }

    /** Bytes held right now. */
    int heldBytes() {
        return heldBytes;
    }

    /** Flows held right now. */
    int heldFlows() {
        return activeCount;
    }

    /**
     * Takes ownership of one raw packet (readable bytes = the packet): holds it for merging, or emits it
     * unchanged (after the packets held for its flow) when it cannot be held. Never throws for bad input.
     */
    void add(ByteBuf buf, ByteBufAllocator alloc, Output out) {
        taken = false;
        try {
            add0(buf, alloc, out);
        } catch (RuntimeException e) {
            // A bug or an allocation failure must not escape into the pipeline: drop and count instead.
            if (!taken) {
                ReferenceCountUtil.safeRelease(buf);
                counters.packetsDropped++;
            }
            logFailure(e);
        }
    }

    private void add0(ByteBuf buf, ByteBufAllocator alloc, Output out) {
        counters.packetsIn++;
        final int length = buf.readableBytes();
        counters.bytesIn += length;
        final int b = buf.readerIndex();
        final TunnelType tunnel = peekTunnel(buf, b, length);
        PacketLayout l;
        try {
            l = layout.parse(buf, linkType, tunnel, null);
        } catch (PacketOffloadException e) {
            // Including a tunnel whose inner packet is not TCP/UDP, or UDP to the VXLAN port that is not VXLAN:
            // like vxlan_gro_receive, such packets are not merged at all.
            logUnparseable(e);
            pass(buf, PacketPassReason.UNPARSEABLE, out);
            return;
        }
        final boolean tcp = l.l4Protocol() == IpProtocol.TCP;
        final int hash = hash(buf, b, l);
        PacketPassReason reason = check(buf, b, l, tcp);
        PacketFlow f = find(buf, b, l, hash, tcp);
        if (reason != null) {
            if (f != null) {
                flush(f, PacketFlushReason.PASS_THROUGH, alloc, out);
            }
            pass(buf, reason, out);
            return;
        }
        final int payload = l.payloadLength();
        if (f != null) {
            CoalesceResult r = canCoalesce(f, buf, b, l, tcp, payload);
            if (r == CoalesceResult.COALESCE && heldBytes + length > maxHeldBytes) {
                r = CoalesceResult.FULL;
            }
            if (r == CoalesceResult.COALESCE) {
                append(f, buf, b, l, tcp, payload, length);
                int flags = tcp ? buf.getUnsignedByte(b + l.l4() + TcpHeader.FLAGS_OFFSET) : 0;
                if (payload < f.segmentSize) {
                    // Nothing may follow a short segment: segmentation would cut the next one at the wrong place.
                    flush(f, PacketFlushReason.SHORT_SEGMENT, alloc, out);
                } else if ((flags & TCP_FLAGS_END) != 0) {
                    flush(f, PacketFlushReason.PSH_FIN, alloc, out);
                } else if (f.count >= segmentLimit(f) || f.ipLengthWith(f.segmentSize) > f.maxIpLength) {
                    flush(f, PacketFlushReason.FULL, alloc, out);
                }
                return;
            }
            flush(f, r == CoalesceResult.FULL ? PacketFlushReason.FULL : PacketFlushReason.MISMATCH, alloc, out);
        }
        if (tcp && (buf.getUnsignedByte(b + l.l4() + TcpHeader.FLAGS_OFFSET) & TCP_FLAGS_END) != 0) {
            // tcp_gro_receive flushes a PSH/FIN segment at once; held alone it would leave alone anyway.
            pass(buf, PacketPassReason.PSH_FIN, out);
            return;
        }
        if (activeCount == maxFlows) {
            flush(active[0], PacketFlushReason.TABLE_FULL, alloc, out);
        }
        while (activeCount > 0 && heldBytes + length > maxHeldBytes) {
            flush(active[0], PacketFlushReason.BYTE_LIMIT, alloc, out);
        }
        f = free[--freeCount];
        free[freeCount] = null;
        f.start(l, hash);
        f.address = probeAddress;
        f.ports = probePorts;
        f.owned = isOwned(buf);
        // BIG TCP (like Linux, which inserts the Hop-by-Hop header in ipv6_gro_complete): plain IPv6 TCP only.
        f.maxIpLength = bigTcpMaxSize != 0 && tcp && l.tunnelType() == TunnelType.NONE && l.l3Version() == 6
                && l.l3HeaderLength() == Ipv6Header.LENGTH ? bigTcpMaxSize - JUMBO_HOP_BY_HOP_LENGTH
                : MAX_MERGED_IP_LENGTH;
        active[activeCount] = f;
        activeHashes[activeCount] = hash;
        activeCount++;
        append(f, buf, b, l, tcp, payload, length);
    }

    /** Emits every held flow, oldest first. */
    void flushAll(PacketFlushReason reason, ByteBufAllocator alloc, Output out) {
        while (activeCount > 0) {
            flush(active[0], reason, alloc, out);
        }
    }

    /** Releases every held packet without emitting it; returns how many there were. */
    int release() {
        int n = 0;
        while (activeCount > 0) {
            PacketFlow f = active[0];
            for (int i = 0; i < f.count; i++) {
                ReferenceCountUtil.release(f.packets[i]);
                n++;
            }
            remove(f);
        }
        counters.packetsDroppedOnInactive += n;
        return n;
    }

    /**
     * Whether the headers of {@code buf} may be rewritten in place: one reference, writable, and not a view of a
     * larger buffer (a leak-detection wrapper, which has its buffer's capacity, does not count as a view).
     */
    private static boolean isOwned(ByteBuf buf) {
        if (buf.refCnt() != 1 || buf.isReadOnly()) {
            return false;
        }
        ByteBuf u = buf.unwrap();
        return u == null || (u.unwrap() == null && u.capacity() == buf.capacity() && !(u instanceof CompositeByteBuf)
                && u.refCnt() == 1);
    }

    private int segmentLimit(PacketFlow f) {
        // A shared first packet, or a BIG TCP run (its header grows), needs a header buffer component.
        return f.owned && f.maxIpLength <= MAX_MERGED_IP_LENGTH ? maxSegments
                : Math.min(maxSegments, MAX_COMPONENTS - 1);
    }

    private void pass(ByteBuf buf, PacketPassReason reason, Output out) {
        counters.passed[reason.ordinal()]++;
        counters.packetsPassedThrough++;
        taken = true;
        out.emit(buf);
    }

    private void logFailure(RuntimeException e) {
        long now = System.nanoTime();
        if (!failureLogged || now - lastFailureLogNanos >= LOG_INTERVAL_NANOS) {
            failureLogged = true;
            lastFailureLogNanos = now;
            logger.warn("raw packets dropped after an unexpected failure (" + counters.packetsDropped + " so far)", e);
        }
    }

    private void logUnparseable(PacketOffloadException e) {
        long now = System.nanoTime();
        if (!logged || now - lastLogNanos >= LOG_INTERVAL_NANOS) {
            logged = true;
            lastLogNanos = now;
            logger.debug("raw packet passed through unmerged ({} so far): {}",
                    counters.passed[PacketPassReason.UNPARSEABLE.ordinal()] + 1, e.getMessage());
        }
    }

    /** Which tunnel the outer headers announce (IP in IP, or UDP to the VXLAN port); NONE when unsure. */
    private TunnelType peekTunnel(ByteBuf buf, int b, int n) {
        int off = 0;
        if (linkType == LinkType.ETHERNET) {
            int at = EthernetHeader.ETHERTYPE_OFFSET;
            if (n < at + 2) {
                return TunnelType.NONE;
            }
            int type = buf.getUnsignedShort(b + at);
            for (int tags = 0; (type == EthernetHeader.ETHERTYPE_VLAN || type == EthernetHeader.ETHERTYPE_QINQ)
                    && tags < EthernetHeader.MAX_VLAN_TAGS; tags++) {
                at += EthernetHeader.VLAN_TAG_LENGTH;
                if (n < at + 2) {
                    return TunnelType.NONE;
                }
                type = buf.getUnsignedShort(b + at);
            }
            off = at + 2;
        }
        if (n < off + Ipv4Header.MIN_LENGTH) {
            return TunnelType.NONE;
        }
        int version = buf.getUnsignedByte(b + off) >>> 4;
        int protocol;
        int at;
        if (version == 4) {
            protocol = buf.getUnsignedByte(b + off + Ipv4Header.PROTOCOL_OFFSET);
            at = off + (buf.getUnsignedByte(b + off) & 0x0F) * 4;
        } else if (version == 6) {
            if (n < off + Ipv6Header.LENGTH) {
                return TunnelType.NONE;
            }
            protocol = buf.getUnsignedByte(b + off + Ipv6Header.NEXT_HEADER_OFFSET);
            at = off + Ipv6Header.LENGTH;
            for (int i = 0; i < 4 && (protocol == IpProtocol.HOP_BY_HOP || protocol == IpProtocol.ROUTING
                    || protocol == IpProtocol.DESTINATION_OPTIONS); i++) {
                if (n < at + 2) {
                    return TunnelType.NONE;
                }
                protocol = buf.getUnsignedByte(b + at);
                at += (buf.getUnsignedByte(b + at + 1) + 1) * 8;
            }
        } else {
            return TunnelType.NONE;
        }
        if (protocol == IpProtocol.IPIP || protocol == IpProtocol.IPV6) {
            return TunnelType.IPIP;
        }
        if (protocol == IpProtocol.UDP && vxlanPort != 0 && n >= at + UdpHeader.LENGTH
                && buf.getUnsignedShort(b + at + 2) == vxlanPort) {
            return TunnelType.VXLAN;
        }
        return TunnelType.NONE;
    }

    /**
     * The reason a parsed packet cannot be held, or null. Validates every checksum the kernel validates before
     * merging and leaves the payload's sum in {@link #probePayloadSum}.
     */
    private PacketPassReason check(ByteBuf buf, int b, PacketLayout l, boolean tcp) {
        if (l.jumboOption() != PacketLayout.ABSENT) {
            return PacketPassReason.JUMBOGRAM;
        }
        final int l3 = l.l3();
        final boolean outer = l.tunnelType() != TunnelType.NONE;
        if ((l.l3Version() == 4 && l.l3HeaderLength() != Ipv4Header.MIN_LENGTH)
                || (outer && l.outerL3Version() == 4 && l.outerL3HeaderLength() != Ipv4Header.MIN_LENGTH)) {
            // inet_gro_receive only merges 20-byte IPv4 headers.
            return PacketPassReason.IP_OPTIONS;
        }
        final int l4 = l.l4();
        final int payload = l.payloadLength();
        if (payload <= 0) {
            return PacketPassReason.NO_PAYLOAD;
        }
        if (tcp && (buf.getUnsignedByte(b + l4 + TcpHeader.FLAGS_OFFSET) & TCP_FLAGS_NEVER) != 0) {
            return PacketPassReason.TCP_FLAGS;
        }
        if (!tcp && buf.getUnsignedShort(b + l4 + UdpHeader.CHECKSUM_OFFSET) == 0) {
            return PacketPassReason.UDP_ZERO_CHECKSUM;
        }
        if (l.l3Version() == 4
                && !InternetChecksum.verifies(InternetChecksum.sum(buf, b + l3, Ipv4Header.MIN_LENGTH))) {
            counters.checksumFailures++;
            return PacketPassReason.BAD_CHECKSUM;
        }
        if (outer && l.outerL3Version() == 4
                && !InternetChecksum.verifies(InternetChecksum.sum(buf, b + l.outerL3(), Ipv4Header.MIN_LENGTH))) {
            counters.checksumFailures++;
            return PacketPassReason.BAD_CHECKSUM;
        }
        final int l4Length = l.length() - l4;
        final int protocol = tcp ? IpProtocol.TCP : IpProtocol.UDP;
        long pseudo = l.l3Version() == 4
                ? InternetChecksum.pseudoHeaderIpv4(buf, b + l3, protocol, l4Length)
                : InternetChecksum.pseudoHeaderIpv6(buf, b + l3 + Ipv6Header.SOURCE_OFFSET,
                b + l.pseudoDestination(), protocol, l4Length);
        final int headerSum = InternetChecksum.sum(buf, b + l4, l.l4HeaderLength());
        final int payloadSum = InternetChecksum.sum(buf, b + l.headerLength(), payload);
        if (!InternetChecksum.verifies(pseudo + headerSum + payloadSum)) {
            counters.checksumFailures++;
            return PacketPassReason.BAD_CHECKSUM;
        }
        if (l.tunnelType() == TunnelType.VXLAN
                && buf.getUnsignedShort(b + l.tunnelL4() + UdpHeader.CHECKSUM_OFFSET) != 0) {
            // The inner L4 bytes are already summed: add the headers between the outer UDP and the inner L4.
            int tunnelL4 = l.tunnelL4();
            int udpLength = l.length() - tunnelL4;
            long s = outerPseudo(buf, b, l.outerL3(), l.outerL3Version(), l.outerPseudoDestination(), udpLength)
                    + InternetChecksum.sum(buf, b + tunnelL4, l4 - tunnelL4) + headerSum + payloadSum;
            if (!InternetChecksum.verifies(s)) {
                counters.checksumFailures++;
                return PacketPassReason.BAD_CHECKSUM;
            }
        }
        probePayloadSum = payloadSum;
        return null;
    }

    private static long outerPseudo(ByteBuf buf, int b, int outerL3, int version, int pseudoDestination,
                                    int udpLength) {
        return version == 4
                ? InternetChecksum.pseudoHeaderIpv4(buf, b + outerL3, IpProtocol.UDP, udpLength)
                : InternetChecksum.pseudoHeaderIpv6(buf, b + outerL3 + Ipv6Header.SOURCE_OFFSET,
                b + pseudoDestination, IpProtocol.UDP, udpLength);
    }

    /** The flow hash; leaves the ports and (IPv4) the addresses in the probe for {@link #sameFlow}. */
    private int hash(ByteBuf buf, int b, PacketLayout l) {
        int h;
        if (l.l3Version() == 4) {
            long a = buf.getLong(b + l.l3() + Ipv4Header.SOURCE_OFFSET);
            probeAddress = a;
            h = (int) (a ^ (a >>> 32) * 31);
        } else {
            h = hashAddresses(buf, b + l.l3(), 6);
        }
        probePorts = buf.getInt(b + l.l4());
        h = h * 31 + probePorts;
        h = h * 31 + l.l4Protocol();
        if (l.tunnelType() != TunnelType.NONE) {
            h = h * 31 + hashAddresses(buf, b + l.outerL3(), l.outerL3Version());
        }
        return h ^ (h >>> 16);
    }

    private static int hashAddresses(ByteBuf buf, int ip, int version) {
        if (version == 4) {
            return buf.getInt(ip + Ipv4Header.SOURCE_OFFSET) * 31 + buf.getInt(ip + Ipv4Header.DESTINATION_OFFSET);
        }
        long x = buf.getLong(ip + Ipv6Header.SOURCE_OFFSET) ^ buf.getLong(ip + Ipv6Header.SOURCE_OFFSET + 8) * 31
                ^ buf.getLong(ip + Ipv6Header.DESTINATION_OFFSET) * 961
                ^ buf.getLong(ip + Ipv6Header.DESTINATION_OFFSET + 8) * 29791;
        return (int) (x ^ (x >>> 32));
    }

    private PacketFlow find(ByteBuf buf, int b, PacketLayout l, int hash, boolean tcp) {
        final int[] hashes = activeHashes;
        for (int i = 0, n = activeCount; i < n; i++) {
            if (hashes[i] == hash && sameFlow(active[i], buf, b, l, tcp)) {
                return active[i];
            }
        }
        return null;
    }

    /** Whether the packet belongs to the flow: the kernel's same_flow, everything else is a merge condition. */
    private boolean sameFlow(PacketFlow f, ByteBuf buf, int b, PacketLayout l, boolean tcp) {
        if (f.tcp != tcp || f.tunnel != l.tunnelType() || f.l3 != l.l3() || f.l4 != l.l4()
                || f.l3Version != l.l3Version() || f.outerL3 != l.outerL3() || f.tunnelL4 != l.tunnelL4()
                || f.innerL2 != l.innerL2() || f.outerVersion != l.outerL3Version()) {
            return false;
        }
        final ByteBuf head = f.head();
        final int h = head.readerIndex();
        if (f.firstL3 > 0 && !ByteBufUtil.equals(head, h, buf, b, f.firstL3)) {
            return false; // dev_gro_receive compares the link-layer header
        }
        if (f.tunnel != TunnelType.NONE) {
            if (!sameIpFlow(head, h + f.outerL3, buf, b + f.outerL3, f.outerVersion, f.outerHeaderLength)) {
                return false;
            }
            if (f.tunnel == TunnelType.VXLAN) {
                int t = f.tunnelL4;
                // udp_gro_receive: ports; vxlan_gro_receive: flags and VNI; eth_gro_receive: the inner MAC header.
                if (head.getInt(h + t) != buf.getInt(b + t)
                        || head.getLong(h + t + UdpHeader.LENGTH) != buf.getLong(b + t + UdpHeader.LENGTH)
                        || !ByteBufUtil.equals(head, h + f.innerL2, buf, b + f.innerL2, f.l3 - f.innerL2)) {
                    return false;
                }
            }
        }
        if (f.ports != probePorts) {
            return false;
        }
        // IPv4: addresses read once by hash(); the protocol is TCP or UDP as f.tcp says (no options held).
        return f.l3Version == 4 ? f.address == probeAddress
                : sameIpFlow(head, h + f.l3, buf, b + f.l3, f.l3Version, f.l4 - f.l3);
    }

    private static boolean sameIpFlow(ByteBuf a, int ai, ByteBuf c, int ci, int version, int headerLength) {
        if (version == 4) {
            return a.getByte(ai + Ipv4Header.PROTOCOL_OFFSET) == c.getByte(ci + Ipv4Header.PROTOCOL_OFFSET)
                    && a.getLong(ai + Ipv4Header.SOURCE_OFFSET) == c.getLong(ci + Ipv4Header.SOURCE_OFFSET);
        }
        // ipv6_gro_receive: version, flow label, next header, addresses and all extension headers byte for byte.
        return ((a.getInt(ai) ^ c.getInt(ci)) & IPV6_FLOW_MASK) == 0
                && a.getByte(ai + Ipv6Header.NEXT_HEADER_OFFSET) == c.getByte(ci + Ipv6Header.NEXT_HEADER_OFFSET)
                && ByteBufUtil.equals(a, ai + Ipv6Header.SOURCE_OFFSET, c, ci + Ipv6Header.SOURCE_OFFSET,
                headerLength - Ipv6Header.SOURCE_OFFSET);
    }

    /**
     * The fields of an IP header that must match along a run (inet_gro_receive, ipv6_gro_receive): IPv4 TOS (with
     * ECN), flags and TTL; IPv6 traffic class (with ECN) and hop limit. Packed into one int for comparison.
     */
    private static int ipFields(ByteBuf buf, int ip, int version) {
        if (version == 4) {
            return (buf.getUnsignedByte(ip + 1) << 24) | (buf.getUnsignedShort(ip + Ipv4Header.FRAGMENT_OFFSET) << 8)
                    | buf.getUnsignedByte(ip + 8);
        }
        return (buf.getInt(ip) & IPV6_TRAFFIC_CLASS_MASK) | buf.getUnsignedByte(ip + 7);
    }

    /** The merge conditions for a packet of flow {@code f}; sets {@link #probeIdMode}. */
    CoalesceResult canCoalesce(PacketFlow f, ByteBuf buf, int b, PacketLayout l, boolean tcp, int payload) {
        if (payload > f.segmentSize) {
            // A larger segment cannot follow: segmentation would cut it at the first one's size.
            return CoalesceResult.MISMATCH;
        }
        if (ipFields(buf, b + f.l3, f.l3Version) != f.ipFields) {
            return CoalesceResult.MISMATCH;
        }
        final boolean outer = f.tunnel != TunnelType.NONE;
        if (outer && ipFields(buf, b + f.outerL3, f.outerVersion) != f.outerIpFields) {
            return CoalesceResult.MISMATCH;
        }
        if (f.tunnel == TunnelType.VXLAN
                && (buf.getUnsignedShort(b + f.tunnelL4 + UdpHeader.CHECKSUM_OFFSET) != 0) != f.outerUdpChecksum) {
            return CoalesceResult.MISMATCH; // segmentation computes the outer checksum only if the first had one
        }
        if (!idContinues(f, buf, b, outer)) {
            return CoalesceResult.MISMATCH;
        }
        if (tcp) {
            final int t = f.l4;
            // Data offset, flags and window in one word: only CWR, FIN and PSH may differ, and a CWR flushes.
            int word = buf.getInt(b + t + TcpHeader.DATA_OFFSET_OFFSET);
            if (((f.tcpWord ^ word) & ~TCP_FLAGS_MAY_DIFFER) != 0
                    || (word & (TcpHeader.CWR << 16)) != 0
                    || f.tcpAck != buf.getInt(b + t + TcpHeader.ACK_OFFSET)
                    // The urgent pointer is not checked by the kernel; segmentation copies the first one's.
                    || f.tcpUrgent != buf.getShort(b + t + TCP_URGENT_OFFSET)
                    || buf.getUnsignedInt(b + t + TcpHeader.SEQUENCE_OFFSET) != f.nextSeq
                    || !tcpOptionsEqual(f, buf, b)) {
                return CoalesceResult.MISMATCH;
            }
        }
        if (f.count >= segmentLimit(f) || f.ipLengthWith(payload) > f.maxIpLength) {
            return CoalesceResult.FULL;
        }
        return CoalesceResult.COALESCE;
    }

    /** TCP options byte for byte (tcp_gro_receive compares them word by word). */
    private static boolean tcpOptionsEqual(PacketFlow f, ByteBuf buf, int b) {
        int n = f.l4HeaderLength - TcpHeader.MIN_LENGTH;
        if (n == 0) {
            return true;
        }
        ByteBuf head = f.head();
        int h = head.readerIndex() + f.l4 + TcpHeader.MIN_LENGTH;
        int p = b + f.l4 + TcpHeader.MIN_LENGTH;
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            if (head.getInt(h + i) != buf.getInt(p + i)) {
                return false;
            }
        }
        return i == n || ByteBufUtil.equals(head, h + i, buf, p + i, n - i);
    }

    /**
     * IPv4 IDs (inner and outer) must all increment by one per packet or all stay fixed (DF set), decided at
     * the second packet, so that segmentation with one {@link Ipv4IdMode} gives them back.
     */
    private boolean idContinues(PacketFlow f, ByteBuf buf, int b, boolean outer) {
        final boolean innerV4 = f.l3Version == 4;
        final boolean outerV4 = outer && f.outerVersion == 4;
        if (!innerV4 && !outerV4) {
            probeIdMode = PacketFlow.ID_UNDECIDED;
            return true;
        }
        int mode = f.idMode;
        if (mode == PacketFlow.ID_UNDECIDED) {
            int d = innerV4 ? (buf.getUnsignedShort(b + f.l3 + Ipv4Header.ID_OFFSET) - f.firstId) & 0xFFFF
                    : (buf.getUnsignedShort(b + f.outerL3 + Ipv4Header.ID_OFFSET) - f.firstOuterId) & 0xFFFF;
            if (d == 1) {
                mode = PacketFlow.ID_INCREMENTING;
            } else if (d == 0) {
                mode = PacketFlow.ID_FIXED;
            } else {
                return false;
            }
        }
        final int expected = mode == PacketFlow.ID_INCREMENTING ? f.count : 0;
        if (innerV4 && !idMatches(buf, b + f.l3, f.firstId, expected, mode)) {
            return false;
        }
        if (outerV4 && !idMatches(buf, b + f.outerL3, f.firstOuterId, expected, mode)) {
            return false;
        }
        probeIdMode = mode;
        return true;
    }

    private static boolean idMatches(ByteBuf buf, int ip, int firstId, int expected, int mode) {
        if (((buf.getUnsignedShort(ip + Ipv4Header.ID_OFFSET) - firstId) & 0xFFFF) != expected) {
            return false;
        }
        // A fixed ID is only allowed on atomic datagrams (RFC 6864), as in inet_gro_receive.
        return mode != PacketFlow.ID_FIXED || (buf.getUnsignedShort(ip + Ipv4Header.FRAGMENT_OFFSET) & IPV4_DF) != 0;
    }

    private void append(PacketFlow f, ByteBuf buf, int b, PacketLayout l, boolean tcp, int payload, int length) {
        if (f.count == 0) {
            if (f.l3Version == 4) {
                f.firstId = buf.getUnsignedShort(b + f.l3 + Ipv4Header.ID_OFFSET);
            }
            if (f.tunnel != TunnelType.NONE && f.outerVersion == 4) {
                f.firstOuterId = buf.getUnsignedShort(b + f.outerL3 + Ipv4Header.ID_OFFSET);
            }
            f.outerUdpChecksum = f.tunnel == TunnelType.VXLAN
                    && buf.getUnsignedShort(b + f.tunnelL4 + UdpHeader.CHECKSUM_OFFSET) != 0;
            f.ipFields = ipFields(buf, b + f.l3, f.l3Version);
            if (f.tunnel != TunnelType.NONE) {
                f.outerIpFields = ipFields(buf, b + f.outerL3, f.outerVersion);
            }
            if (tcp) {
                int t = b + f.l4;
                f.nextSeq = buf.getUnsignedInt(t + TcpHeader.SEQUENCE_OFFSET);
                f.tcpWord = buf.getInt(t + TcpHeader.DATA_OFFSET_OFFSET);
                f.tcpAck = buf.getInt(t + TcpHeader.ACK_OFFSET);
                f.tcpUrgent = buf.getShort(t + TCP_URGENT_OFFSET);
            }
        } else {
            f.idMode = probeIdMode;
        }
        int sum = (int) probePayloadSum;
        // A payload starting at an odd offset of the merged payload contributes its sum byte-swapped.
        f.payloadSum += (f.payloadTotal & 1) == 0 ? sum : ((sum & 0xFF) << 8) | (sum >>> 8);
        f.payloadTotal += payload;
        if (tcp) {
            f.nextSeq = (f.nextSeq + payload) & 0xFFFFFFFFL;
        }
        f.packets[f.count++] = buf;
        taken = true;
        f.heldBytes += length;
        heldBytes += length;
        heldPackets++;
    }

    private void remove(PacketFlow f) {
        heldBytes -= f.heldBytes;
        heldPackets -= f.count;
        f.clear();
        int i = 0;
        while (active[i] != f) {
            i++;
        }
        int n = activeCount - i - 1;
        System.arraycopy(active, i + 1, active, i, n);
        System.arraycopy(activeHashes, i + 1, activeHashes, i, n);
        active[--activeCount] = null;
        free[freeCount++] = f;
    }

    private void flush(PacketFlow f, PacketFlushReason reason, ByteBufAllocator alloc, Output out) {
        counters.flushed[reason.ordinal()]++;
        if (f.count == 1) {
            ByteBuf only = f.packets[0];
            remove(f);
            counters.lonePacketsOut++;
            out.emit(only);
            return;
        }
        GsoPacket merged;
        try {
            merged = merge(f, alloc);
        } catch (RuntimeException e) {
            // merge released every packet of the run; forget them and count the loss.
            counters.packetsDropped += f.count;
            remove(f);
            logFailure(e);
            return;
        }
        remove(f);
        counters.mergedPacketsOut++;
        out.emit(merged);
    }

    /** Builds the merged packet of a flow; takes over the flow's packet references. */
    private GsoPacket merge(PacketFlow f, ByteBufAllocator alloc) {
        final int n = f.count;
        final ByteBuf[] packets = f.packets;
        final ByteBuf head = packets[0];
        final int hl = f.headerLength;
        if (f.ipLengthWith(0) - Ipv6Header.LENGTH > Ipv6Header.MAX_PAYLOAD_LENGTH) {
            return mergeJumbo(f, alloc);
        }
        final boolean inPlace = f.owned && isOwned(head);
        CompositeByteBuf c = null;
        int added = 0;
        boolean success = false;
        try {
            c = alloc.compositeDirectBuffer(inPlace ? n : n + 1);
            if (inPlace) {
                rewriteHeaders(f, head, head.readerIndex());
                c.addComponent(true, head);
            } else {
                ByteBuf header = alloc.directBuffer(hl, hl);
                header.writeBytes(head, head.readerIndex(), hl);
                c.addComponent(true, header);
                rewriteHeaders(f, header, 0);
                head.skipBytes(hl);
                c.addComponent(true, head);
            }
            added = 1;
            for (int i = 1; i < n; i++) {
                ByteBuf p = packets[i];
                p.skipBytes(hl);
                c.addComponent(true, p);
                added++;
            }
            Ipv4IdMode mode = f.idMode == PacketFlow.ID_FIXED ? Ipv4IdMode.FIXED : Ipv4IdMode.INCREMENTING;
            GsoType type = !f.tcp ? GsoType.UDP_L4 : f.l3Version == 4 ? GsoType.TCPV4 : GsoType.TCPV6;
            GsoPacket g = new GsoPacket(c, type, f.tunnel, f.segmentSize, mode, n);
            counters.packetsMerged += n;
            success = true;
            return g;
        } finally {
            if (!success) {
                if (c != null) {
                    c.release();
                }
                for (int i = added; i < n; i++) {
                    ReferenceCountUtil.release(packets[i]);
                }
            }
        }
    }

    /**
     * Builds a BIG TCP packet: a new header buffer with a jumbo payload Hop-by-Hop header inserted after the IPv6
     * header (payload length 0, RFC 2675), then every payload.
     */
    private GsoPacket mergeJumbo(PacketFlow f, ByteBufAllocator alloc) {
        final int n = f.count;
        final ByteBuf[] packets = f.packets;
        final ByteBuf head = packets[0];
        final int hb = head.readerIndex();
        final int hl = f.headerLength;
        final int afterIp = f.l3 + Ipv6Header.LENGTH;
        final int l4 = f.l4 + JUMBO_HOP_BY_HOP_LENGTH;
        final int total = hl + JUMBO_HOP_BY_HOP_LENGTH + f.payloadTotal;
        CompositeByteBuf c = null;
        int added = 0;
        boolean success = false;
        try {
            c = alloc.compositeDirectBuffer(n + 1);
            // Filled before it is added: a component's length is fixed when it is added.
            ByteBuf h = alloc.directBuffer(hl + JUMBO_HOP_BY_HOP_LENGTH);
            try {
                h.writeBytes(head, hb, afterIp);
                h.writeByte(IpProtocol.TCP).writeByte(0).writeByte(Ipv6Header.OPTION_JUMBO)
                        .writeByte(Ipv6Header.OPTION_JUMBO_DATA_LENGTH).writeInt(total - afterIp);
                h.writeBytes(head, hb + afterIp, hl - afterIp);
            } catch (RuntimeException e) {
                h.release();
                throw e;
            }
            c.addComponent(true, h);
            h.setShort(f.l3 + Ipv6Header.PAYLOAD_LENGTH_OFFSET, 0);
            h.setByte(f.l3 + Ipv6Header.NEXT_HEADER_OFFSET, IpProtocol.HOP_BY_HOP);
            ByteBuf last = packets[n - 1];
            int lastFlags = last.getUnsignedByte(last.readerIndex() + f.l4 + TcpHeader.FLAGS_OFFSET);
            h.setByte(l4 + TcpHeader.FLAGS_OFFSET, h.getUnsignedByte(l4 + TcpHeader.FLAGS_OFFSET)
                    | (lastFlags & TCP_FLAGS_END));
            long pseudo = InternetChecksum.pseudoHeaderIpv6(h, f.l3 + Ipv6Header.SOURCE_OFFSET,
                    f.l3 + Ipv6Header.DESTINATION_OFFSET, IpProtocol.TCP, total - l4);
            int checkAt = l4 + TcpHeader.CHECKSUM_OFFSET;
            if (completeChecksum) {
                h.setShort(checkAt, 0);
                h.setShort(checkAt, InternetChecksum.finish(pseudo + InternetChecksum.sum(h, l4, f.l4HeaderLength)
                        + f.payloadSum));
            } else {
                h.setShort(checkAt, InternetChecksum.fold(pseudo));
            }
            for (int i = 0; i < n; i++) {
                ByteBuf p = packets[i];
                p.skipBytes(hl);
                c.addComponent(true, p);
                added++;
            }
            GsoPacket g = new GsoPacket(c, GsoType.TCPV6, TunnelType.NONE, f.segmentSize, Ipv4IdMode.INCREMENTING, n);
            counters.packetsMerged += n;
            success = true;
            return g;
        } finally {
            if (!success) {
                if (c != null) {
                    c.release();
                }
                for (int i = added; i < n; i++) {
                    ReferenceCountUtil.release(packets[i]);
                }
            }
        }
    }

    /** Rewrites lengths, flags and checksums of the merged packet's headers at {@code base} of {@code h}. */
    private void rewriteHeaders(PacketFlow f, ByteBuf h, int base) {
        final int total = f.headerLength + f.payloadTotal;
        final int l3 = base + f.l3;
        if (f.l3Version == 4) {
            h.setShort(l3 + Ipv4Header.TOTAL_LENGTH_OFFSET, total - f.l3);
            h.setShort(l3 + Ipv4Header.CHECKSUM_OFFSET, InternetChecksum.ipv4HeaderChecksum(h, l3, f.l3HeaderLength));
        } else {
            h.setShort(l3 + Ipv6Header.PAYLOAD_LENGTH_OFFSET, total - f.l3 - Ipv6Header.LENGTH);
        }
        final int l4 = base + f.l4;
        final int l4Length = total - f.l4;
        final int protocol = f.tcp ? IpProtocol.TCP : IpProtocol.UDP;
        final long pseudo = f.l3Version == 4
                ? InternetChecksum.pseudoHeaderIpv4(h, l3, protocol, l4Length)
                : InternetChecksum.pseudoHeaderIpv6(h, l3 + Ipv6Header.SOURCE_OFFSET, base + f.pseudoDestination,
                protocol, l4Length);
        final int checksumAt;
        if (f.tcp) {
            // FIN and PSH of the last segment go to the merged packet (tcp_gro_receive: flags of th2 |= FIN|PSH).
            ByteBuf last = f.packets[f.count - 1];
            int lastFlags = last.getUnsignedByte(last.readerIndex() + f.l4 + TcpHeader.FLAGS_OFFSET);
            h.setByte(l4 + TcpHeader.FLAGS_OFFSET, h.getUnsignedByte(l4 + TcpHeader.FLAGS_OFFSET)
                    | (lastFlags & TCP_FLAGS_END));
            checksumAt = l4 + TcpHeader.CHECKSUM_OFFSET;
        } else {
            h.setShort(l4 + UdpHeader.LENGTH_OFFSET, l4Length);
            checksumAt = l4 + UdpHeader.CHECKSUM_OFFSET;
        }
        if (completeChecksum) {
            h.setShort(checksumAt, 0);
            int check = InternetChecksum.finish(pseudo + InternetChecksum.sum(h, l4, f.l4HeaderLength) + f.payloadSum);
            h.setShort(checksumAt, check == 0 && !f.tcp ? UdpHeader.ZERO_CHECKSUM_REPLACEMENT : check);
        } else {
            h.setShort(checksumAt, InternetChecksum.fold(pseudo));
        }
        if (f.tunnel == TunnelType.NONE) {
            return;
        }
        final int o3 = base + f.outerL3;
        if (f.outerVersion == 4) {
            h.setShort(o3 + Ipv4Header.TOTAL_LENGTH_OFFSET, total - f.outerL3);
            h.setShort(o3 + Ipv4Header.CHECKSUM_OFFSET,
                    InternetChecksum.ipv4HeaderChecksum(h, o3, f.outerHeaderLength));
        } else {
            h.setShort(o3 + Ipv6Header.PAYLOAD_LENGTH_OFFSET, total - f.outerL3 - Ipv6Header.LENGTH);
        }
        if (f.tunnel == TunnelType.VXLAN) {
            final int t = base + f.tunnelL4;
            final int udpLength = total - f.tunnelL4;
            h.setShort(t + UdpHeader.LENGTH_OFFSET, udpLength);
            if (f.outerUdpChecksum) {
                // A complete inner L4 checksum makes the inner segment sum to the negated pseudo-header sum, so
                // the outer checksum needs the headers only (local checksum offload).
                h.setShort(t + UdpHeader.CHECKSUM_OFFSET, 0);
                long s = outerPseudo(h, base, f.outerL3, f.outerVersion, f.outerPseudoDestination, udpLength)
                        + InternetChecksum.sum(h, t, f.l4 - f.tunnelL4)
                        + InternetChecksum.negate(InternetChecksum.fold(pseudo));
                int check = InternetChecksum.finish(s);
                h.setShort(t + UdpHeader.CHECKSUM_OFFSET, check == 0 ? UdpHeader.ZERO_CHECKSUM_REPLACEMENT : check);
            }
        }
    }
}
