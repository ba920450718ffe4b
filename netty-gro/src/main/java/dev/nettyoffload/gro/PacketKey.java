package dev.nettyoffload.gro;

import dev.nettyoffload.core.packet.EthernetHeader;
import dev.nettyoffload.core.packet.InternetChecksum;
import dev.nettyoffload.core.packet.IpProtocol;
import dev.nettyoffload.core.packet.Ipv4Header;
import dev.nettyoffload.core.packet.Ipv6Header;
import dev.nettyoffload.core.packet.LinkType;
import dev.nettyoffload.core.packet.PacketLayout;
import dev.nettyoffload.core.packet.PacketMemory;
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
 * <p>
 * {@link #parse} copies the packet's first bytes into {@link #headers} with one {@code getBytes} (one range and
 * reference-count check) and everything after it reads header fields from that copy. The common shapes (IP or
 * untagged Ethernet, IPv4 without options or IPv6 without extension headers, TCP or UDP, no tunnel) are parsed
 * from the copy directly; anything else, and anything the direct parse finds odd, goes to
 * {@link PacketLayout#parse}, which decides it (and names the problem) exactly as before.
 */
final class PacketKey {
    /** Bytes copied up front: the longest header of a common shape (14 + 40 + 60) fits. */
    private static final int FIRST_COPY = 128;

    private final PacketLayout layout = new PacketLayout();
    /** Reader index of the packet's buffer: every offset below is relative to it. */
    int base;
    int length;
    /** The packet's first bytes: at least all of its headers ({@link #headerLength}) once parsed. */
    byte[] headers = new byte[FIRST_COPY];

    // Where the headers are: the PacketLayout fields the rules and the flow table read.
    TunnelType tunnel;
    int outerL3;
    int outerL3Version;
    int outerL3HeaderLength;
    int outerPseudoDestination;
    int tunnelL4;
    int innerL2;
    int l3;
    int l3Version;
    int l3HeaderLength;
    int pseudoDestination;
    int l4;
    int l4HeaderLength;
    int headerLength;
    int jumboOption;

    boolean tcp;
    /** TCP flags byte, 0 for UDP. */
    int tcpFlags;
    /** L4 payload bytes. */
    int payload;
    int hash;
    /** IPv4 source and destination addresses of the inner header, read as one long (IPv6: unused). */
    long address;
    /** The packet buffer's memory address (of index 0) when its headers were copied from raw memory, else 0. */
    long memory;
    /** Source and destination ports, read as one int. */
    int ports;
    /** Ones-complement sum of the L4 header, folded; set by {@link #sumL4}. */
    int l4HeaderSum;
    /** Ones-complement sum of the L4 payload, folded; set by {@link #sumL4}. */
    int payloadSum;

    /**
     * Parses {@code buf} (readable bytes = one packet) and fills every field but the sums.
     *
     * @throws PacketOffloadException when the headers cannot be parsed, or a tunnel does not carry TCP/UDP
     */
    void parse(ByteBuf buf, LinkType linkType, int vxlanPort) throws PacketOffloadException {
        parse(buf, buf.readableBytes(), linkType, vxlanPort);
    }

    /**
     * {@link #parse(ByteBuf, LinkType, int)} with the caller's {@code n = buf.readableBytes()}: each call on a
     * buffer is a virtual call once the JIT has seen several buffer classes.
     */
    void parse(ByteBuf buf, int n, LinkType linkType, int vxlanPort) throws PacketOffloadException {
        copyHeaders(buf, buf.readerIndex(), n);
        parseCopy(buf, linkType, vxlanPort);
    }

    /**
     * The first step of {@link #parse}: copies the first bytes of the packet ({@code n} bytes at {@code index} of
     * {@code buf}, which the caller checked lie within it) into {@link #headers}. The coalescer calls the two steps
     * itself: C2 does not inline a method whose own compiled code is large (as parse's is, with both steps in it),
     * which it had found so in a JVM that had seen several buffer classes.
     */
    void copyHeaders(ByteBuf buf, int index, int n) {
        final int b = index;
        base = b;
        length = n;
        final int copied = Math.min(n, FIRST_COPY);
        final long address = PacketMemory.address(buf);
        if (address != 0 && buf.refCnt() > 0) {
            // The range lies within the buffer (the caller's check); only liveness needs one. On JDK 24+ Netty's
            // getBytes into an array goes through a ByteBuffer view per call.
            memory = address;
            PacketMemory.copyToArray(address + b, headers, 0, copied);
        } else {
            memory = 0;
            buf.getBytes(b, headers, 0, copied);
        }
    }

    /** The second step of {@link #parse}, after {@link #copyHeaders} of the same {@code buf}. */
    void parseCopy(ByteBuf buf, LinkType linkType, int vxlanPort) throws PacketOffloadException {
        final int n = length;
        byte[] h = headers;
        if (!parseCommon(h, n, linkType, vxlanPort)) {
            final int b = base;
            // PacketLayout parses a buffer's readable bytes: a packet inside a larger buffer gets a view (rare shapes).
            final ByteBuf packet = buf.readerIndex() == b && buf.readableBytes() == n ? buf : buf.slice(b, n);
            fromLayout(layout.parse(packet, linkType, peekTunnel(buf, b, n, linkType, vxlanPort), null));
            if (headerLength > Math.min(n, FIRST_COPY)) {
                if (headerLength > h.length) {
                    // Rare (long IPv6 extension headers, tunnels): grows once to the longest seen.
                    h = new byte[Math.max(headerLength, h.length * 2)];
                    headers = h;
                }
                buf.getBytes(b, h, 0, headerLength);
            }
        }
        tcpFlags = tcp ? HeaderBytes.unsignedByte(h, l4 + TcpHeader.FLAGS_OFFSET) : 0;
        payload = n - headerLength;
        hash = hash(h);
    }

    /**
     * Parses a common shape from the copy; {@code false} (fields undefined) for any other packet and for any
     * check that fails, so that {@link PacketLayout#parse} judges it. Checks what that parser checks for these
     * shapes: lengths against the buffer, IPv4 fragments, TCP data offset, UDP length.
     */
    private boolean parseCommon(byte[] h, int n, LinkType linkType, int vxlanPort) {
        int off = 0;
        // The IP version the link header announces (0: any), which the IP header must have.
        int version = 0;
        if (linkType == LinkType.ETHERNET) {
            if (n < EthernetHeader.LENGTH) {
                return false;
            }
            int type = HeaderBytes.unsignedShort(h, EthernetHeader.ETHERTYPE_OFFSET);
            if (type == EthernetHeader.ETHERTYPE_IPV4) {
                version = 4;
            } else if (type == EthernetHeader.ETHERTYPE_IPV6) {
                version = 6;
            } else {
                return false;
            }
            off = EthernetHeader.LENGTH;
        }
        int protocol;
        int ipLength;
        if (version != 6 && n - off >= Ipv4Header.MIN_LENGTH && h[off] == 0x45) {
            if (HeaderBytes.unsignedShort(h, off + Ipv4Header.TOTAL_LENGTH_OFFSET) != n - off
                    || (HeaderBytes.unsignedShort(h, off + Ipv4Header.FRAGMENT_OFFSET)
                    & (Ipv4Header.MORE_FRAGMENTS | Ipv4Header.FRAGMENT_OFFSET_MASK)) != 0) {
                return false;
            }
            protocol = HeaderBytes.unsignedByte(h, off + Ipv4Header.PROTOCOL_OFFSET);
            ipLength = Ipv4Header.MIN_LENGTH;
            l3Version = 4;
            pseudoDestination = off + Ipv4Header.DESTINATION_OFFSET;
        } else if (version != 4 && n - off >= Ipv6Header.LENGTH && (h[off] & 0xF0) == 0x60) {
            int payloadLength = HeaderBytes.unsignedShort(h, off + Ipv6Header.PAYLOAD_LENGTH_OFFSET);
            if (payloadLength == 0 || payloadLength != n - off - Ipv6Header.LENGTH) {
                return false;
            }
            protocol = HeaderBytes.unsignedByte(h, off + Ipv6Header.NEXT_HEADER_OFFSET);
            ipLength = Ipv6Header.LENGTH;
            l3Version = 6;
            pseudoDestination = off + Ipv6Header.DESTINATION_OFFSET;
        } else {
            return false;
        }
        l3 = off;
        l3HeaderLength = ipLength;
        return parseCommonTransport(h, n, off + ipLength, protocol, vxlanPort);
    }

    /**
     * The TCP or UDP part of {@link #parseCommon}, at {@code at}: apart so that each part is small enough for the
     * JIT to inline into the coalescer (a call would also make it reload every field stored here).
     */
    private boolean parseCommonTransport(byte[] h, int n, int at, int protocol, int vxlanPort) {
        final int rest = n - at;
        if (protocol == IpProtocol.TCP) {
            if (rest < TcpHeader.MIN_LENGTH) {
                return false;
            }
            int doff = (HeaderBytes.unsignedByte(h, at + TcpHeader.DATA_OFFSET_OFFSET) >>> 4) * 4;
            if (doff < TcpHeader.MIN_LENGTH || rest < doff) {
                return false;
            }
            l4HeaderLength = doff;
            tcp = true;
        } else if (protocol == IpProtocol.UDP) {
            if (rest < UdpHeader.LENGTH || HeaderBytes.unsignedShort(h, at + UdpHeader.LENGTH_OFFSET) != rest
                    || (vxlanPort != 0 && HeaderBytes.unsignedShort(h, at + 2) == vxlanPort)) {
                return false; // the last: VXLAN, which the general parser takes
            }
            l4HeaderLength = UdpHeader.LENGTH;
            tcp = false;
        } else {
            return false;
        }
        tunnel = TunnelType.NONE;
        outerL3 = PacketLayout.ABSENT;
        outerL3Version = 0;
        outerL3HeaderLength = 0;
        outerPseudoDestination = PacketLayout.ABSENT;
        tunnelL4 = PacketLayout.ABSENT;
        innerL2 = PacketLayout.ABSENT;
        jumboOption = PacketLayout.ABSENT;
        l4 = at;
        headerLength = at + l4HeaderLength;
        return true;
    }

    private void fromLayout(PacketLayout l) {
        tunnel = l.tunnelType();
        outerL3 = l.outerL3();
        outerL3Version = l.outerL3Version();
        outerL3HeaderLength = l.outerL3HeaderLength();
        outerPseudoDestination = l.outerPseudoDestination();
        tunnelL4 = l.tunnelL4();
        innerL2 = l.innerL2();
        l3 = l.l3();
        l3Version = l.l3Version();
        l3HeaderLength = l.l3HeaderLength();
        pseudoDestination = l.pseudoDestination();
        l4 = l.l4();
        l4HeaderLength = l.l4HeaderLength();
        headerLength = l.headerLength();
        jumboOption = l.jumboOption();
        tcp = l.l4Protocol() == IpProtocol.TCP;
    }

    /**
     * Sums the L4 header and payload of {@code buf}, the buffer last {@linkplain #parse parsed} (once per packet:
     * checksum verification and the merged checksum use them). The buffer is passed, not kept: storing it in this
     * long-lived object would cost G1 a fenced write barrier per packet.
     */
    void sumL4(ByteBuf buf) {
        l4HeaderSum = InternetChecksum.fold(HeaderBytes.sum(headers, l4, l4HeaderLength));
        // By address when the header copy read raw memory (the buffer was checked live there and is held):
        // InternetChecksum.sum would make four more ByteBuf calls, virtual once several buffer classes are in use.
        payloadSum = memory != 0 && PacketMemory.isCopyAndSumSupported()
                ? PacketMemory.sum(memory + base + headerLength, payload)
                : InternetChecksum.sum(buf, base + headerLength, payload);
    }

    private int hash(byte[] h) {
        int x;
        if (l3Version == 4) {
            long a = HeaderBytes.getLong(h, l3 + Ipv4Header.SOURCE_OFFSET);
            address = a;
            x = (int) (a ^ (a >>> 32) * 31);
        } else {
            address = 0;
            x = hashAddresses(h, l3, 6);
        }
        ports = HeaderBytes.getInt(h, l4);
        x = x * 31 + ports;
        x = x * 31 + (tcp ? IpProtocol.TCP : IpProtocol.UDP);
        if (tunnel != TunnelType.NONE) {
            x = x * 31 + hashAddresses(h, outerL3, outerL3Version);
        }
        return x ^ (x >>> 16);
    }

    private static int hashAddresses(byte[] h, int ip, int version) {
        if (version == 4) {
            return HeaderBytes.getInt(h, ip + Ipv4Header.SOURCE_OFFSET) * 31
                    + HeaderBytes.getInt(h, ip + Ipv4Header.DESTINATION_OFFSET);
        }
        long x = HeaderBytes.getLong(h, ip + Ipv6Header.SOURCE_OFFSET)
                ^ HeaderBytes.getLong(h, ip + Ipv6Header.SOURCE_OFFSET + 8) * 31
                ^ HeaderBytes.getLong(h, ip + Ipv6Header.DESTINATION_OFFSET) * 961
                ^ HeaderBytes.getLong(h, ip + Ipv6Header.DESTINATION_OFFSET + 8) * 29791;
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
