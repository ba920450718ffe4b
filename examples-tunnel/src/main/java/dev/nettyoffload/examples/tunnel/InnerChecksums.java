package dev.nettyoffload.examples.tunnel;

import dev.nettyoffload.core.packet.InternetChecksum;
import dev.nettyoffload.core.packet.IpProtocol;
import dev.nettyoffload.core.packet.Ipv4Header;
import dev.nettyoffload.core.packet.Ipv6Header;
import dev.nettyoffload.core.packet.LinkType;
import dev.nettyoffload.core.packet.PacketLayout;
import dev.nettyoffload.core.packet.PacketOffloadException;
import dev.nettyoffload.core.packet.TcpHeader;
import dev.nettyoffload.core.packet.TunnelType;
import dev.nettyoffload.core.packet.UdpHeader;
import io.netty.buffer.ByteBuf;

/**
 * How the tunnel treats the TCP/UDP checksums of the packets it carries.
 * <p>
 * <b>PARTIAL</b> (the default): the kernel hands a TSO/USO super-packet over with its checksum still to do
 * ({@code NEEDS_CSUM}); the sender cuts it with {@code ChecksumMode.PARTIAL} (each segment's field holds only the
 * pseudo-header sum, no payload byte is summed) and marks those datagrams
 * {@link TunnelHeader#FLAG_PARTIAL_CHECKSUM}. The receiver merges them with {@code trustL4Checksums} (no payload
 * sum) and writes them into TUN with {@code NEEDS_CSUM}, so the receiving kernel takes them as
 * {@code CHECKSUM_PARTIAL} and delivers them without a checksum pass, as it does for packets its own stack sent
 * through a veth. Every other TCP/UDP packet (no flag: a packet the sender's TUN handed over with a complete
 * checksum, e.g. one it forwards) is {@link #verifies verified} by the receiver before it is merged or written,
 * and dropped when it does not verify: the end-to-end checksum of a packet that has one is never skipped.
 * <p>
 * Why trusting the flagged packets is safe: between the two endpoints each inner packet travels as the payload
 * of one UDP datagram, and the UDP checksum covers the whole payload; Linux verifies it (or the NIC does) and
 * drops a datagram that fails ({@code Udp InCsumErrors}) before the socket sees it, also inside a
 * {@code UDP_GRO} batch. A flagged packet was never summed by anyone before the sender's kernel computed the
 * outer checksum over it, exactly as a packet a host sends with {@code CHECKSUM_PARTIAL} is summed only by the
 * NIC. The one gap is IPv4's zero UDP checksum ("none", RFC 768), which the receiving kernel accepts unverified:
 * our sender never sends it (Linux computes the UDP checksum of every {@code UDP_SEGMENT} send, and refuses one on
 * a socket with {@code SO_NO_CHECK}), and the endpoint's socket drops any that arrive with a
 * {@link ZeroChecksumFilter} (IPv6 drops them itself). A sealed tunnel ({@code --key}) authenticates every byte
 * with its Poly1305 tag in any case.
 * <p>
 * <b>COMPLETE</b> ({@code --inner-checksums complete}): the sender computes every segment's checksum, the
 * receiver's GRO verifies every packet: the inner checksums protect the packets independently of the outer one,
 * for one pass over every byte on each side. A COMPLETE receiver that gets a flagged datagram from a PARTIAL peer
 * {@link #complete completes} its checksum before GRO; each combination of the two modes delivers correct packets.
 * <p>
 * One instance per endpoint, used on its event loop only (the layout is reused).
 */
final class InnerChecksums {
    /** The two modes; see the class comment. */
    enum Mode { PARTIAL, COMPLETE }

    private final PacketLayout layout = new PacketLayout();

    /**
     * Whether the TCP/UDP checksum of the packet (the readable bytes of {@code buf}) verifies; true for
     * anything that is not TCP/UDP the tunnel parses (other protocols, fragments, malformed headers: nothing
     * merges or writes those with {@code NEEDS_CSUM}, so the kernel verifies them itself), and for an IPv4 UDP
     * datagram without checksum.
     */
    boolean verifies(ByteBuf buf) {
        int index = buf.readerIndex();
        int length = buf.readableBytes();
        PacketLayout l = parse(buf, index, length);
        if (l == null) {
            return true;
        }
        int l4 = index + l.l4();
        if (l.l4Protocol() == IpProtocol.UDP && l.l3Version() == 4
                && buf.getUnsignedShort(l4 + UdpHeader.CHECKSUM_OFFSET) == 0) {
            return true;
        }
        return InternetChecksum.verifies(pseudoHeader(buf, index, l) + InternetChecksum.sum(buf, l4, length - l.l4()));
    }

    /** Computes the TCP/UDP checksum of the packet (whatever its field held); other packets stay as they are. */
    void complete(ByteBuf buf) {
        int index = buf.readerIndex();
        int length = buf.readableBytes();
        PacketLayout l = parse(buf, index, length);
        if (l == null) {
            return;
        }
        int l4 = index + l.l4();
        boolean tcp = l.l4Protocol() == IpProtocol.TCP;
        int field = l4 + (tcp ? TcpHeader.CHECKSUM_OFFSET : UdpHeader.CHECKSUM_OFFSET);
        buf.setShort(field, 0);
        int check = InternetChecksum.finish(pseudoHeader(buf, index, l) + InternetChecksum.sum(buf, l4,
                length - l.l4()));
        // RFC 768: a computed zero goes out as all ones (zero means "no checksum").
        buf.setShort(field, check == 0 && !tcp ? UdpHeader.ZERO_CHECKSUM_REPLACEMENT : check);
    }

    /**
     * The layout of the readable bytes as a TCP/UDP packet, or null for anything else; no exception for the common
     * other cases.
     */
    private PacketLayout parse(ByteBuf buf, int index, int length) {
        if (length < Ipv4Header.MIN_LENGTH) {
            return null;
        }
        int version = buf.getUnsignedByte(index) >>> 4;
        int next;
        if (version == 4) {
            next = buf.getUnsignedByte(index + Ipv4Header.PROTOCOL_OFFSET);
        } else if (version == 6 && length >= Ipv6Header.LENGTH) {
            next = buf.getUnsignedByte(index + Ipv6Header.NEXT_HEADER_OFFSET);
            if (next == IpProtocol.HOP_BY_HOP || next == IpProtocol.ROUTING
                    || next == IpProtocol.DESTINATION_OPTIONS) {
                // Extension headers: let the parser find the transport.
                next = IpProtocol.TCP;
            }
        } else {
            return null;
        }
        if (next != IpProtocol.TCP && next != IpProtocol.UDP) {
            return null;
        }
        try {
            return layout.parse(buf, LinkType.RAW_IP, TunnelType.NONE, null);
        } catch (PacketOffloadException e) {
            return null;
        }
    }

    private static long pseudoHeader(ByteBuf buf, int index, PacketLayout l) {
        int l4Length = l.length() - l.l4();
        if (l.l3Version() == 4) {
            return InternetChecksum.pseudoHeaderIpv4(buf, index + l.l3(), l.l4Protocol(), l4Length);
        }
        return InternetChecksum.pseudoHeaderIpv6(buf, index + l.l3() + Ipv6Header.SOURCE_OFFSET,
                index + l.pseudoDestination(), l.l4Protocol(), l4Length);
    }
}
