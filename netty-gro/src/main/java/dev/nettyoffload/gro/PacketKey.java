package dev.nettyoffload.gro;

import dev.nettyoffload.core.packet.EthernetHeader;
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
 * What the coalescer knows about the packet being added: its layout, flow hash and the fields the flow table
 * and the merge rules read more than once. One instance is reused for every packet (no allocation per packet);
 * {@link #parse} fills it and {@link #sumL4} adds the L4 sums once the packet is known to be holdable. It is
 * passed explicitly to the flow table, the rules and the flow; none of them keeps it.
 */
final class PacketKey {
    final PacketLayout layout = new PacketLayout();
    ByteBuf buf;
    /** Reader index of {@link #buf}: every offset of the layout is relative to it. */
    int base;
    int length;
    boolean tcp;
    /** TCP flags byte, 0 for UDP. */
    int tcpFlags;
    /** L4 payload bytes. */
    int payload;
    int hash;
    /** IPv4 source and destination addresses of the inner header, read as one long (IPv6: unused). */
    long address;
    /** Source and destination ports, read as one int. */
    int ports;
    /** Ones-complement sum of the L4 header, unfolded; set by {@link #sumL4}. */
    int l4HeaderSum;
    /** Ones-complement sum of the L4 payload, unfolded; set by {@link #sumL4}. */
    int payloadSum;

    /**
     * Parses {@code buf} (readable bytes = one packet) and fills every field but the sums.
     *
     * @throws PacketOffloadException when the headers cannot be parsed, or a tunnel does not carry TCP/UDP
     */
    void parse(ByteBuf buf, LinkType linkType, int vxlanPort) throws PacketOffloadException {
        this.buf = buf;
        base = buf.readerIndex();
        length = buf.readableBytes();
        PacketLayout l = layout.parse(buf, linkType, peekTunnel(buf, base, length, linkType, vxlanPort), null);
        tcp = l.l4Protocol() == IpProtocol.TCP;
        tcpFlags = tcp ? buf.getUnsignedByte(base + l.l4() + TcpHeader.FLAGS_OFFSET) : 0;
        payload = l.payloadLength();
        hash = hash(buf, base, l);
    }

    /** Sums the L4 header and payload (once per packet: checksum verification and the merged checksum use them). */
    void sumL4() {
        l4HeaderSum = InternetChecksum.sum(buf, base + layout.l4(), layout.l4HeaderLength());
        payloadSum = InternetChecksum.sum(buf, base + layout.headerLength(), payload);
    }

    /** Forgets the packet (not its layout), so that no buffer is kept reachable between packets. */
    void clear() {
        buf = null;
    }

    private int hash(ByteBuf buf, int b, PacketLayout l) {
        int h;
        if (l.l3Version() == 4) {
            long a = buf.getLong(b + l.l3() + Ipv4Header.SOURCE_OFFSET);
            address = a;
            h = (int) (a ^ (a >>> 32) * 31);
        } else {
            address = 0;
            h = hashAddresses(buf, b + l.l3(), 6);
        }
        ports = buf.getInt(b + l.l4());
        h = h * 31 + ports;
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

    /** Which tunnel the outer headers announce (IP in IP, or UDP to the VXLAN port); NONE when unsure. */
    static TunnelType peekTunnel(ByteBuf buf, int b, int n, LinkType linkType, int vxlanPort) {
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
}
