package dev.nettyoffload.gso;

import dev.nettyoffload.core.packet.GreHeader;
import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.InternetChecksum;
import dev.nettyoffload.core.packet.Ipv4Header;
import dev.nettyoffload.core.packet.Ipv4IdMode;
import dev.nettyoffload.core.packet.Ipv6Header;
import dev.nettyoffload.core.packet.IpProtocol;
import dev.nettyoffload.core.packet.PacketLayout;
import dev.nettyoffload.core.packet.PacketMemory;
import dev.nettyoffload.core.packet.TcpHeader;
import dev.nettyoffload.core.packet.TunnelType;
import dev.nettyoffload.core.packet.UdpHeader;
import io.netty.buffer.ByteBuf;

/**
 * The per-segment header fields of {@link PacketSegmenter}: {@link #prepare} computes once per packet what does
 * not change between segments (the checksum parts without their per-segment fields, first IDs and sequence
 * number, offsets), {@link #write} rewrites the fields of one segment's copied headers.
 * <p>
 * A class of its own, not code inside {@code PacketSegmenter.segment}: that method was so large that C2 stopped
 * inlining (its {@code DesiredMethodLimit}) and every field write of every segment became a call. {@link #write}
 * is compiled on its own, with its writes inlined. Per-packet scratch state: one instance per segmenter.
 */
final class SegmentHeaders {
    /** Flags only the last segment keeps (tcp_gso_segment clears them on all others). */
    private static final int TCP_LAST_ONLY = TcpHeader.FIN | TcpHeader.PSH;

    private boolean fullChecksum;
    private int gso;
    private int n;
    private boolean fixedId;
    private boolean outerFixedId;
    private int cwrClears;
    private int middleClears;
    private int l3;
    private int oL4;
    private boolean tcp;
    private int l4HeaderLength;
    private boolean innerV4;
    private long ipBase;
    private int id0;
    private long pseudoBase;
    private long seq0;
    private int flags0;
    private int doffHigh;
    private long l4Base;
    private TunnelType tunnel;
    private int outerL3;
    private boolean outerV4;
    private int tunnelL4;
    private long outerIpBase;
    private int outerId0;
    private long outerPseudoBase;
    private boolean outerUdpChecksum;
    private boolean greChecksum;
    private int jumboOption;
    private boolean stripJumbo;
    private int jumboNextHeader;

    /**
     * Reads the per-packet constants of {@code packet}, parsed as {@code l}, whose content {@code in} starts at
     * {@code base}; {@code n} segments of {@code segmentSize} payload bytes.
     */
    void prepare(ByteBuf in, int base, PacketLayout l, GsoPacket packet, int n, boolean fullChecksum) {
        this.fullChecksum = fullChecksum;
        this.gso = packet.segmentSize();
        this.n = n;
        final int strip = l.strippedLength();
        fixedId = packet.ipv4IdMode() == Ipv4IdMode.FIXED;
        outerFixedId = packet.outerIpv4IdMode() == Ipv4IdMode.FIXED;
        // RFC 3168 CWR belongs to the first segment only; with AccECN it is a counter bit that every segment keeps.
        cwrClears = packet.cwrOnEverySegment() ? 0 : TcpHeader.CWR;
        middleClears = TCP_LAST_ONLY | cwrClears;
        l3 = l.l3();
        oL4 = l.l4() - strip;  // the only stripped header (Hop-by-Hop) sits between L3 and L4
        tcp = l.l4Protocol() == IpProtocol.TCP;
        l4HeaderLength = l.l4HeaderLength();

        // Per-packet constant parts of the checksums: each field that changes per segment is removed here
        // (added as its ones-complement negation) and its new value added per segment.
        innerV4 = l.l3Version() == 4;
        ipBase = 0;
        id0 = 0;
        if (innerV4) {
            id0 = in.getUnsignedShort(base + l3 + Ipv4Header.ID_OFFSET);
            ipBase = withoutIpv4VariableFields(in, base + l3, l.l3HeaderLength());
            pseudoBase = InternetChecksum.pseudoHeaderIpv4(in, base + l3, l.l4Protocol(), 0);
        } else {
            pseudoBase = InternetChecksum.pseudoHeaderIpv6(in, base + l3 + Ipv6Header.SOURCE_OFFSET,
                    base + l.pseudoDestination(), l.l4Protocol(), 0);
        }
        final int l4In = base + l.l4();
        seq0 = tcp ? in.getUnsignedInt(l4In + TcpHeader.SEQUENCE_OFFSET) : 0;
        flags0 = tcp ? in.getUnsignedByte(l4In + TcpHeader.FLAGS_OFFSET) : 0;
        doffHigh = tcp ? in.getUnsignedByte(l4In + TcpHeader.DATA_OFFSET_OFFSET) << 8 : 0;
        long sum = InternetChecksum.sum(in, l4In, l4HeaderLength);
        if (tcp) {
            sum += InternetChecksum.negate((int) (seq0 >>> 16)) + InternetChecksum.negate((int) (seq0 & 0xFFFF))
                    + InternetChecksum.negate(doffHigh | flags0)
                    + InternetChecksum.negate(in.getUnsignedShort(l4In + TcpHeader.CHECKSUM_OFFSET));
        } else {
            sum += InternetChecksum.negate(in.getUnsignedShort(l4In + UdpHeader.LENGTH_OFFSET))
                    + InternetChecksum.negate(in.getUnsignedShort(l4In + UdpHeader.CHECKSUM_OFFSET));
        }
        l4Base = sum;

        tunnel = l.tunnelType();
        outerL3 = l.outerL3();
        outerV4 = tunnel != TunnelType.NONE && l.outerL3Version() == 4;
        tunnelL4 = l.tunnelL4();
        outerIpBase = 0;
        outerId0 = 0;
        outerPseudoBase = 0;
        outerUdpChecksum = false;
        greChecksum = false;
        if (outerV4) {
            outerId0 = in.getUnsignedShort(base + outerL3 + Ipv4Header.ID_OFFSET);
            outerIpBase = withoutIpv4VariableFields(in, base + outerL3, l.outerL3HeaderLength());
        }
        if (tunnel == TunnelType.VXLAN) {
            outerUdpChecksum = in.getUnsignedShort(base + tunnelL4 + UdpHeader.CHECKSUM_OFFSET) != 0;
            outerPseudoBase = outerV4
                    ? InternetChecksum.pseudoHeaderIpv4(in, base + outerL3, IpProtocol.UDP, 0)
                    : InternetChecksum.pseudoHeaderIpv6(in, base + outerL3 + Ipv6Header.SOURCE_OFFSET,
                    base + l.outerPseudoDestination(), IpProtocol.UDP, 0);
        } else if (tunnel == TunnelType.GRE) {
            greChecksum = (in.getUnsignedShort(base + tunnelL4) & GreHeader.FLAG_C) != 0;
        }
        jumboOption = l.jumboOption();
        stripJumbo = strip != 0;
        // A stripped Hop-by-Hop header hands its Next Header to the IPv6 header.
        jumboNextHeader = jumboOption != PacketLayout.ABSENT && strip != 0 ? in.getUnsignedByte(base + l.hopByHop())
                : 0;
    }

    /**
     * Rewrites the fields of segment {@code i} whose copied headers start at {@code hb} of {@code h} (straight to
     * memory at {@code address}, the address of index 0, unless it is 0): {@code p} payload bytes summing to
     * {@code payloadSum} (used with full checksums only), {@code segLength} bytes in all.
     */
    void write(ByteBuf h, long address, int hb, int i, int p, int segLength, int payloadSum) {
        if (jumboOption != PacketLayout.ABSENT) {
            if (stripJumbo) {
                put8(h, address, hb + l3 + Ipv6Header.NEXT_HEADER_OFFSET, jumboNextHeader);
            } else {
                // PadN of the same size keeps the other Hop-by-Hop options where they were.
                put16(h, address, hb + jumboOption, (Ipv6Header.OPTION_PADN << 8) | Ipv6Header.OPTION_JUMBO_DATA_LENGTH);
                put32(h, address, hb + jumboOption + 2, 0);
            }
        }
        final int l4Length = l4HeaderLength + p;

        // Inner IP header.
        if (innerV4) {
            int total = segLength - l3;
            int id = fixedId ? id0 : (id0 + i) & 0xFFFF;
            put16(h, address, hb + l3 + Ipv4Header.TOTAL_LENGTH_OFFSET, total);
            put16(h, address, hb + l3 + Ipv4Header.ID_OFFSET, id);
            put16(h, address, hb + l3 + Ipv4Header.CHECKSUM_OFFSET, InternetChecksum.finish(ipBase + total + id));
        } else {
            put16(h, address, hb + l3 + Ipv6Header.PAYLOAD_LENGTH_OFFSET, segLength - l3 - Ipv6Header.LENGTH);
        }

        // TCP or UDP header and checksum.
        final long pseudo = pseudoBase + l4Length;
        int check;
        if (tcp) {
            long seq = (seq0 + (long) i * gso) & 0xFFFFFFFFL;
            int flags = n == 1 ? flags0 : flags0 & ~(i == 0 ? TCP_LAST_ONLY : i == n - 1 ? cwrClears : middleClears);
            put32(h, address, hb + oL4 + TcpHeader.SEQUENCE_OFFSET, (int) seq);
            put8(h, address, hb + oL4 + TcpHeader.FLAGS_OFFSET, flags);
            if (fullChecksum) {
                check = InternetChecksum.finish(pseudo + l4Base + (seq >>> 16) + (seq & 0xFFFF) + (doffHigh | flags)
                        + payloadSum);
            } else {
                check = InternetChecksum.fold(pseudo);
            }
            put16(h, address, hb + oL4 + TcpHeader.CHECKSUM_OFFSET, check);
        } else {
            put16(h, address, hb + oL4 + UdpHeader.LENGTH_OFFSET, l4Length);
            if (fullChecksum) {
                check = InternetChecksum.finish(pseudo + l4Base + l4Length + payloadSum);
                if (check == 0) {
                    check = UdpHeader.ZERO_CHECKSUM_REPLACEMENT;
                }
            } else {
                check = InternetChecksum.fold(pseudo);
            }
            put16(h, address, hb + oL4 + UdpHeader.CHECKSUM_OFFSET, check);
        }
        if (tunnel != TunnelType.NONE) {
            writeOuter(h, address, hb, i, segLength, pseudo);
        }
    }

    /** The tunnel's outer headers of segment {@code i}, whose inner pseudo-header sum is {@code pseudo}. */
    private void writeOuter(ByteBuf h, long address, int hb, int i, int segLength, long pseudo) {
        // Once the inner checksum is complete, the inner L4 segment sums to the negated pseudo-header sum, so
        // outer checksums need only the headers (local checksum offload).
        final int innerL4Sum = InternetChecksum.negate(InternetChecksum.fold(pseudo));
        if (outerV4) {
            int total = segLength - outerL3;
            int id = outerFixedId ? outerId0 : (outerId0 + i) & 0xFFFF;
            put16(h, address, hb + outerL3 + Ipv4Header.TOTAL_LENGTH_OFFSET, total);
            put16(h, address, hb + outerL3 + Ipv4Header.ID_OFFSET, id);
            put16(h, address, hb + outerL3 + Ipv4Header.CHECKSUM_OFFSET,
                    InternetChecksum.finish(outerIpBase + total + id));
        } else {
            put16(h, address, hb + outerL3 + Ipv6Header.PAYLOAD_LENGTH_OFFSET,
                    segLength - outerL3 - Ipv6Header.LENGTH);
        }
        if (tunnel == TunnelType.VXLAN) {
            int udpLength = segLength - tunnelL4;
            put16(h, address, hb + tunnelL4 + UdpHeader.LENGTH_OFFSET, udpLength);
            if (outerUdpChecksum) {
                put16(h, address, hb + tunnelL4 + UdpHeader.CHECKSUM_OFFSET, 0);
                long sum = outerPseudoBase + udpLength + InternetChecksum.sum(h, hb + tunnelL4, oL4 - tunnelL4)
                        + innerL4Sum;
                int c = InternetChecksum.finish(sum);
                put16(h, address, hb + tunnelL4 + UdpHeader.CHECKSUM_OFFSET,
                        c == 0 ? UdpHeader.ZERO_CHECKSUM_REPLACEMENT : c);
            }
        } else if (greChecksum) {
            put16(h, address, hb + tunnelL4 + GreHeader.CHECKSUM_OFFSET, 0);
            long sum = InternetChecksum.sum(h, hb + tunnelL4, oL4 - tunnelL4) + innerL4Sum;
            put16(h, address, hb + tunnelL4 + GreHeader.CHECKSUM_OFFSET, InternetChecksum.finish(sum));
        }
    }

    /**
     * Writes a big-endian 16-bit {@code value} at {@code index} of {@code h}: straight to memory at {@code address}
     * (the address of index 0, range already checked) unless it is 0, else through {@link ByteBuf#setShort}.
     */
    private static void put16(ByteBuf h, long address, int index, int value) {
        if (address != 0) {
            PacketMemory.putShort(address + index, value);
        } else {
            h.setShort(index, value);
        }
    }

    /** Like {@link #put16} for 32 bits. */
    private static void put32(ByteBuf h, long address, int index, int value) {
        if (address != 0) {
            PacketMemory.putInt(address + index, value);
        } else {
            h.setInt(index, value);
        }
    }

    /** Like {@link #put16} for one byte. */
    private static void put8(ByteBuf h, long address, int index, int value) {
        if (address != 0) {
            PacketMemory.putByte(address + index, value);
        } else {
            h.setByte(index, value);
        }
    }

    /** The header sum of an IPv4 header without its total length, identification and checksum. */
    private static long withoutIpv4VariableFields(ByteBuf in, int index, int headerLength) {
        return InternetChecksum.sum(in, index, headerLength)
                + InternetChecksum.negate(in.getUnsignedShort(index + Ipv4Header.TOTAL_LENGTH_OFFSET))
                + InternetChecksum.negate(in.getUnsignedShort(index + Ipv4Header.ID_OFFSET))
                + InternetChecksum.negate(in.getUnsignedShort(index + Ipv4Header.CHECKSUM_OFFSET));
    }
}
