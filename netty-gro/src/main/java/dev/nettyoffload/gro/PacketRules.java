package dev.nettyoffload.gro;

import dev.nettyoffload.core.packet.InternetChecksum;
import dev.nettyoffload.core.packet.IpProtocol;
import dev.nettyoffload.core.packet.Ipv4Header;
import dev.nettyoffload.core.packet.Ipv6Header;
import dev.nettyoffload.core.packet.PacketLayout;
import dev.nettyoffload.core.packet.TcpHeader;
import dev.nettyoffload.core.packet.TunnelType;
import dev.nettyoffload.core.packet.UdpHeader;
import io.netty.buffer.ByteBuf;

import java.util.Arrays;

/**
 * The merge rules of the Linux kernel ({@code inet_gro_receive}, {@code ipv6_gro_receive},
 * {@code tcp_gro_receive}, {@code udp_gro_receive_segment}) as functions of a {@link PacketKey} and, for a packet
 * of a held run, its {@link PacketFlow}. They read the packet and the flow and change neither; outcomes are
 * enums ({@code null} where a reason is asked for and there is none).
 */
final class PacketRules {
    /**
     * Largest merged IP datagram: {@code skb_gro_receive} refuses to grow a packet to 65536 bytes or more
     * (net/core/gro.c), so that the 16-bit IPv4 total length stays exact.
     */
    static final int MAX_MERGED_IP_LENGTH = 65535;
    /** A Hop-by-Hop header holding only the jumbo payload option: next header, length, type, length, value. */
    static final int JUMBO_HOP_BY_HOP_LENGTH = 8;
    /** TCP flags that end a run: the kernel flushes after a PSH or FIN segment (tcp_gro_receive). */
    static final int TCP_FLAGS_END = TcpHeader.PSH | TcpHeader.FIN;
    /**
     * TCP flags that may differ along a run: FIN and PSH, which end it. CWR must be equal like the other flags,
     * as in AccECN kernels (tcp_gro_receive after "gro: flushing when CWR is set negatively affects AccECN"): a
     * CWR segment ends the run before it and starts one that only CWR segments join.
     */
    private static final int TCP_FLAGS_MAY_DIFFER = (TcpHeader.FIN | TcpHeader.PSH) << 16;
    /** TCP flags that are never merged: the kernel flushes a SYN, RST or URG segment at once. */
    private static final int TCP_FLAGS_NEVER = TcpHeader.SYN | TcpHeader.RST | TcpHeader.URG;
    /** Offset of the TCP urgent pointer. */
    static final int TCP_URGENT_OFFSET = 18;
    private static final int IPV6_TRAFFIC_CLASS_MASK = 0x0FF00000;

    private PacketRules() {
    }

    /**
     * Why a parsed packet can never be held, judged on its headers alone, or {@code null} when it may be (its
     * checksums are {@link #checksumReason checked} next).
     */
    static PacketPassReason holdReason(PacketKey k) {
        if (k.jumboOption != PacketLayout.ABSENT) {
            return PacketPassReason.JUMBOGRAM;
        }
        if ((k.l3Version == 4 && k.l3HeaderLength != Ipv4Header.MIN_LENGTH)
                || (k.tunnel != TunnelType.NONE && k.outerL3Version == 4
                && k.outerL3HeaderLength != Ipv4Header.MIN_LENGTH)) {
            // inet_gro_receive only merges 20-byte IPv4 headers.
            return PacketPassReason.IP_OPTIONS;
        }
        if (k.payload <= 0) {
            return PacketPassReason.NO_PAYLOAD;
        }
        if ((k.tcpFlags & TCP_FLAGS_NEVER) != 0) {
            return PacketPassReason.TCP_FLAGS;
        }
        if (!k.tcp && HeaderBytes.unsignedShort(k.headers, k.l4 + UdpHeader.CHECKSUM_OFFSET) == 0) {
            return PacketPassReason.UDP_ZERO_CHECKSUM;
        }
        return null;
    }

    /**
     * {@link PacketPassReason#BAD_CHECKSUM} when any checksum the kernel validates before merging does not
     * verify (IPv4 headers, TCP/UDP, the outer UDP of VXLAN when present), else {@code null}. Needs the sums of
     * {@link PacketKey#sumL4}.
     */
    static PacketPassReason checksumReason(PacketKey k) {
        final byte[] h = k.headers;
        if (ipv4HeaderChecksumReason(k) != null) {
            return PacketPassReason.BAD_CHECKSUM;
        }
        final int l4 = k.l4;
        final int protocol = k.tcp ? IpProtocol.TCP : IpProtocol.UDP;
        final long pseudo = pseudoHeader(h, k.l3, k.l3Version, k.pseudoDestination, protocol, k.length - l4);
        final long l4Sum = (long) k.l4HeaderSum + k.payloadSum;
        if (!InternetChecksum.verifies(pseudo + l4Sum)) {
            return PacketPassReason.BAD_CHECKSUM;
        }
        if (k.tunnel == TunnelType.VXLAN
                && HeaderBytes.unsignedShort(h, k.tunnelL4 + UdpHeader.CHECKSUM_OFFSET) != 0) {
            // The inner L4 bytes are already summed: add the headers between the outer UDP and the inner L4.
            final int tunnelL4 = k.tunnelL4;
            long s = pseudoHeader(h, k.outerL3, k.outerL3Version, k.outerPseudoDestination, IpProtocol.UDP,
                    k.length - tunnelL4)
                    + HeaderBytes.sum(h, tunnelL4, l4 - tunnelL4) + l4Sum;
            if (!InternetChecksum.verifies(s)) {
                return PacketPassReason.BAD_CHECKSUM;
            }
        }
        return null;
    }

    /**
     * {@link PacketPassReason#BAD_CHECKSUM} when an IPv4 header checksum (the only one, or inner or outer of a
     * tunnel) does not verify, else {@code null}: all that is checked with
     * {@link PacketGroConfig#trustL4Checksums()}.
     */
    static PacketPassReason ipv4HeaderChecksumReason(PacketKey k) {
        final byte[] h = k.headers;
        if (k.l3Version == 4 && !InternetChecksum.verifies(HeaderBytes.sum(h, k.l3, Ipv4Header.MIN_LENGTH))) {
            return PacketPassReason.BAD_CHECKSUM;
        }
        if (k.tunnel != TunnelType.NONE && k.outerL3Version == 4
                && !InternetChecksum.verifies(HeaderBytes.sum(h, k.outerL3, Ipv4Header.MIN_LENGTH))) {
            return PacketPassReason.BAD_CHECKSUM;
        }
        return null;
    }

    /**
     * {@link PacketPassReason#PSH_FIN} for a TCP segment with PSH or FIN that starts no run: tcp_gro_receive
     * flushes it at once, so held alone it would leave alone anyway. Else {@code null}.
     */
    static PacketPassReason startReason(PacketKey k) {
        return (k.tcpFlags & TCP_FLAGS_END) != 0 ? PacketPassReason.PSH_FIN : null;
    }

    /**
     * How the IPv4 ID of the header in front of the transport (the only one, or the inner one of a tunnel)
     * continues with packet {@code k}: it must increment by one per packet or stay fixed, decided at the second
     * packet ({@code inet_gro_flush}); UNDECIDED for IPv6. DF is not asked for: the kernel merges fixed IDs with
     * DF clear too (gro.h since "net: gro: remove unnecessary df checks"), since GSO restores them before any
     * fragmentation.
     */
    static IdSequence idSequence(PacketFlow f, PacketKey k) {
        return f.l3Version != 4 ? IdSequence.UNDECIDED
                : continues(HeaderBytes.unsignedShort(k.headers, f.l3 + Ipv4Header.ID_OFFSET), f.firstId, f.idSequence,
                f.count);
    }

    /**
     * The same for a tunnel's outer IPv4 header, decided on its own: the kernel keeps one {@code ip_fixedid} bit
     * per header and GSO restores each ({@code SKB_GSO_TCP_FIXEDID}, {@code SKB_GSO_TCP_FIXEDID_INNER}).
     */
    static IdSequence outerIdSequence(PacketFlow f, PacketKey k) {
        return f.tunnel == TunnelType.NONE || f.outerVersion != 4 ? IdSequence.UNDECIDED
                : continues(HeaderBytes.unsignedShort(k.headers, f.outerL3 + Ipv4Header.ID_OFFSET), f.firstOuterId,
                f.outerIdSequence, f.count);
    }

    /** Whether ID {@code id} of packet number {@code count} (0-based) continues {@code mode} from {@code firstId}. */
    private static IdSequence continues(int id, int firstId, IdSequence mode, int count) {
        final int d = (id - firstId) & 0xFFFF;
        if (mode == IdSequence.UNDECIDED) {
            return d == 1 ? IdSequence.INCREMENTING : d == 0 ? IdSequence.FIXED : IdSequence.BROKEN;
        }
        return d == (mode == IdSequence.INCREMENTING ? (count & 0xFFFF) : 0) ? mode : IdSequence.BROKEN;
    }

    /**
     * Whether a packet of flow {@code f} may join its run, given its {@link #idSequence}, its
     * {@link #outerIdSequence} and {@code segmentLimit}, the most packets a run may hold
     * ({@link PacketGroConfig#maxSegmentsPerPacket()}).
     */
    static CoalesceResult canCoalesce(PacketFlow f, PacketKey k, IdSequence ids, IdSequence outerIds,
                                      int segmentLimit) {
        final byte[] h = k.headers;
        if (k.payload > f.segmentSize) {
            // A larger segment cannot follow: segmentation would cut it at the first one's size.
            return CoalesceResult.MISMATCH;
        }
        if (ipFields(h, f.l3, f.l3Version) != f.ipFields) {
            return CoalesceResult.MISMATCH;
        }
        if (f.tunnel != TunnelType.NONE && ipFields(h, f.outerL3, f.outerVersion) != f.outerIpFields) {
            return CoalesceResult.MISMATCH;
        }
        if (f.tunnel == TunnelType.VXLAN
                && (HeaderBytes.unsignedShort(h, f.tunnelL4 + UdpHeader.CHECKSUM_OFFSET) != 0) != f.outerUdpChecksum) {
            return CoalesceResult.MISMATCH; // segmentation computes the outer checksum only if the first had one
        }
        if (ids == IdSequence.BROKEN || outerIds == IdSequence.BROKEN) {
            return CoalesceResult.MISMATCH;
        }
        if (f.tcp) {
            final int t = f.l4;
            // Data offset, flags and window in one word: only FIN and PSH may differ.
            int word = HeaderBytes.getInt(h, t + TcpHeader.DATA_OFFSET_OFFSET);
            if (((f.tcpWord ^ word) & ~TCP_FLAGS_MAY_DIFFER) != 0
                    || f.tcpAck != HeaderBytes.getInt(h, t + TcpHeader.ACK_OFFSET)
                    // The urgent pointer is not checked by the kernel; segmentation copies the first one's.
                    || f.tcpUrgent != HeaderBytes.getShort(h, t + TCP_URGENT_OFFSET)
                    || HeaderBytes.unsignedInt(h, t + TcpHeader.SEQUENCE_OFFSET) != f.nextSeq
                    || !tcpOptionsEqual(f, h)) {
                return CoalesceResult.MISMATCH;
            }
        }
        if (f.count >= segmentLimit || f.ipLengthWith(k.payload) > f.maxIpLength) {
            return CoalesceResult.FULL;
        }
        return CoalesceResult.COALESCE;
    }

    /**
     * Why a run must be emitted right after packet {@code k} joined it, or {@code null} while it may grow. Nothing
     * may follow a short segment: segmentation would cut the next one at the wrong place. A run stays open while
     * a segment of any size could still fit, as in the kernel, which flushes a run only when the next segment does
     * not fit (skb_gro_receive's {@code -E2BIG}): a last, smaller segment may bring the datagram to exactly
     * {@value #MAX_MERGED_IP_LENGTH} bytes.
     */
    static PacketFlushReason flushAfterJoin(PacketFlow f, PacketKey k, int segmentLimit) {
        if (k.payload < f.segmentSize) {
            return PacketFlushReason.SHORT_SEGMENT;
        }
        if ((k.tcpFlags & TCP_FLAGS_END) != 0) {
            return PacketFlushReason.PSH_FIN;
        }
        if (f.count >= segmentLimit || f.ipLengthWith(1) > f.maxIpLength) {
            return PacketFlushReason.FULL;
        }
        return null;
    }

    /**
     * Largest IP datagram a run started by {@code k} may grow to. BIG TCP, like Linux (which inserts the
     * Hop-by-Hop header in ipv6_gro_complete), applies to plain IPv6 TCP only.
     */
    static int maxIpLength(PacketKey k, int bigTcpMaxSize) {
        return bigTcpMaxSize != 0 && k.tcp && k.tunnel == TunnelType.NONE && k.l3Version == 6
                && k.l3HeaderLength == Ipv6Header.LENGTH ? bigTcpMaxSize - JUMBO_HOP_BY_HOP_LENGTH
                : MAX_MERGED_IP_LENGTH;
    }

    /** TCP options byte for byte (tcp_gro_receive compares them word by word). */
    private static boolean tcpOptionsEqual(PacketFlow f, byte[] h) {
        int from = f.l4 + TcpHeader.MIN_LENGTH;
        int to = f.l4 + f.l4HeaderLength;
        return from == to || Arrays.equals(f.headers, from, to, h, from, to);
    }

    /**
     * The fields of an IP header that must match along a run (inet_gro_receive, ipv6_gro_receive): IPv4 TOS (with
     * ECN), flags and TTL; IPv6 traffic class (with ECN) and hop limit. Packed into one int for comparison.
     */
    static int ipFields(byte[] h, int ip, int version) {
        if (version == 4) {
            return (HeaderBytes.unsignedByte(h, ip + 1) << 24)
                    | (HeaderBytes.unsignedShort(h, ip + Ipv4Header.FRAGMENT_OFFSET) << 8)
                    | HeaderBytes.unsignedByte(h, ip + 8);
        }
        return (HeaderBytes.getInt(h, ip) & IPV6_TRAFFIC_CLASS_MASK) | HeaderBytes.unsignedByte(h, ip + 7);
    }

    /**
     * The unfolded pseudo-header sum of the IP header at {@code l3} of {@code buf} (offsets relative to {@code b});
     * {@code pseudoDestination} is where the IPv6 destination the checksum uses is (a routing header may move it).
     */
    static long pseudoHeader(byte[] h, int l3, int version, int pseudoDestination, int protocol, int l4Length) {
        return version == 4
                ? HeaderBytes.pseudoHeaderIpv4(h, l3, protocol, l4Length)
                : HeaderBytes.pseudoHeaderIpv6(h, l3 + Ipv6Header.SOURCE_OFFSET, pseudoDestination, protocol, l4Length);
    }

    /** Like {@link #pseudoHeader(byte[], int, int, int, int, int)} on a buffer (offsets relative to {@code b}). */
    static long pseudoHeader(ByteBuf buf, int b, int l3, int version, int pseudoDestination, int protocol,
                             int l4Length) {
        return version == 4
                ? InternetChecksum.pseudoHeaderIpv4(buf, b + l3, protocol, l4Length)
                : InternetChecksum.pseudoHeaderIpv6(buf, b + l3 + Ipv6Header.SOURCE_OFFSET, b + pseudoDestination,
                protocol, l4Length);
    }
}
