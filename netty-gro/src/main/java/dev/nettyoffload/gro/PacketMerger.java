package dev.nettyoffload.gro;

import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.GsoType;
import dev.nettyoffload.core.packet.InternetChecksum;
import dev.nettyoffload.core.packet.IpProtocol;
import dev.nettyoffload.core.packet.Ipv4Header;
import dev.nettyoffload.core.packet.Ipv4IdMode;
import dev.nettyoffload.core.packet.Ipv6Header;
import dev.nettyoffload.core.packet.TcpHeader;
import dev.nettyoffload.core.packet.TunnelType;
import dev.nettyoffload.core.packet.UdpHeader;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Builds the merged {@link GsoPacket} of a run from the buffer its packets were copied into ({@link PacketFlow#run}):
 * lengths and checksums of the first packet's headers are rewritten there so that the merged packet is valid on
 * its own; an IPv6 TCP run beyond 65535 bytes gets a jumbo payload Hop-by-Hop header (BIG TCP), written into the
 * spare bytes in front. Stateless apart from its settings.
 */
final class PacketMerger {
    private final boolean completeChecksum;

    PacketMerger(MergedChecksum mergedChecksum) {
        completeChecksum = mergedChecksum == MergedChecksum.COMPLETE;
    }

    /**
     * The merged packet of the (two or more) packets of {@code f}, whose run buffer it takes over. On failure
     * the buffer is released and the exception thrown.
     */
    GsoPacket merge(PacketFlow f, ByteBufAllocator alloc) {
        final ByteBuf run = f.takeHeld();
        final int hl = f.headerLength;
        final int spare = PacketFlow.SPARE;
        boolean success = false;
        try {
            int start = spare;
            if (f.ipLengthWith(0) - Ipv6Header.LENGTH > Ipv6Header.MAX_PAYLOAD_LENGTH) {
                writeJumboHeaders(f, run, alloc);
                start = spare - PacketRules.JUMBO_HOP_BY_HOP_LENGTH;
            } else {
                rewriteHeaders(f, run, spare);
            }
            run.setIndex(start, spare + hl + f.payloadTotal);
            Ipv4IdMode mode = f.idSequence == IdSequence.FIXED ? Ipv4IdMode.FIXED : Ipv4IdMode.INCREMENTING;
            Ipv4IdMode outerMode = f.outerIdSequence == IdSequence.FIXED ? Ipv4IdMode.FIXED : Ipv4IdMode.INCREMENTING;
            GsoType type = !f.tcp ? GsoType.UDP_L4 : f.l3Version == 4 ? GsoType.TCPV4 : GsoType.TCPV6;
            // A run is CWR throughout or not at all: like tcp_gro_complete (SKB_GSO_TCP_ACCECN when th->cwr),
            // mark it so that segmentation puts CWR back on every segment.
            boolean cwrOnEverySegment = f.tcp && (f.tcpWord & (TcpHeader.CWR << 16)) != 0;
            GsoPacket g = new GsoPacket(run, type, f.tunnel, f.segmentSize, mode, outerMode, cwrOnEverySegment,
                    f.count);
            success = true;
            return g;
        } finally {
            if (!success) {
                run.release();
            }
        }
    }

    /**
     * Rewrites the BIG TCP headers in {@code run}: the first packet's (at {@link PacketFlow#SPARE}) move forward
     * into the spare bytes, with a jumbo payload Hop-by-Hop header inserted after the IPv6 header (payload length
     * 0, RFC 2675). Built in a small buffer first, as source and destination overlap.
     */
    private void writeJumboHeaders(PacketFlow f, ByteBuf run, ByteBufAllocator alloc) {
        final int hb = PacketFlow.SPARE;
        final int hl = f.headerLength;
        final int jumbo = PacketRules.JUMBO_HOP_BY_HOP_LENGTH;
        final int afterIp = f.l3 + Ipv6Header.LENGTH;
        final int l4 = f.l4 + jumbo;
        final int total = hl + jumbo + f.payloadTotal;
        ByteBuf h = alloc.heapBuffer(hl + jumbo);
        try {
            h.writeBytes(run, hb, afterIp);
            h.writeByte(IpProtocol.TCP).writeByte(0).writeByte(Ipv6Header.OPTION_JUMBO)
                    .writeByte(Ipv6Header.OPTION_JUMBO_DATA_LENGTH).writeInt(total - afterIp);
            h.writeBytes(run, hb + afterIp, hl - afterIp);
            h.setShort(f.l3 + Ipv6Header.PAYLOAD_LENGTH_OFFSET, 0);
            h.setByte(f.l3 + Ipv6Header.NEXT_HEADER_OFFSET, IpProtocol.HOP_BY_HOP);
            orLastFlags(f, h, l4);
            long pseudo = InternetChecksum.pseudoHeaderIpv6(h, f.l3 + Ipv6Header.SOURCE_OFFSET,
                    f.l3 + Ipv6Header.DESTINATION_OFFSET, IpProtocol.TCP, total - l4);
            writeL4Checksum(h, l4, l4 + TcpHeader.CHECKSUM_OFFSET, f.l4HeaderLength, pseudo, f.payloadSum, true);
            run.setBytes(hb - jumbo, h, 0, hl + jumbo);
        } finally {
            h.release();
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
        final long pseudo = PacketRules.pseudoHeader(h, base, f.l3, f.l3Version, f.pseudoDestination,
                f.tcp ? IpProtocol.TCP : IpProtocol.UDP, l4Length);
        if (f.tcp) {
            orLastFlags(f, h, l4);
            writeL4Checksum(h, l4, l4 + TcpHeader.CHECKSUM_OFFSET, f.l4HeaderLength, pseudo, f.payloadSum, true);
        } else {
            h.setShort(l4 + UdpHeader.LENGTH_OFFSET, l4Length);
            writeL4Checksum(h, l4, l4 + UdpHeader.CHECKSUM_OFFSET, f.l4HeaderLength, pseudo, f.payloadSum, false);
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
                long s = PacketRules.pseudoHeader(h, base, f.outerL3, f.outerVersion, f.outerPseudoDestination,
                        IpProtocol.UDP, udpLength)
                        + InternetChecksum.sum(h, t, f.l4 - f.tunnelL4)
                        + InternetChecksum.negate(InternetChecksum.fold(pseudo));
                int check = InternetChecksum.finish(s);
                h.setShort(t + UdpHeader.CHECKSUM_OFFSET, check == 0 ? UdpHeader.ZERO_CHECKSUM_REPLACEMENT : check);
            }
        }
    }

    /** FIN and PSH of the last segment go to the merged packet (tcp_gro_receive: flags of th2 |= FIN|PSH). */
    private static void orLastFlags(PacketFlow f, ByteBuf h, int l4) {
        h.setByte(l4 + TcpHeader.FLAGS_OFFSET, h.getUnsignedByte(l4 + TcpHeader.FLAGS_OFFSET)
                | (f.lastTcpFlags & PacketRules.TCP_FLAGS_END));
    }

    /**
     * The complete L4 checksum (headers at {@code l4} plus the payloads' sum), or with partial checksums the
     * folded pseudo-header sum only. A computed UDP checksum of 0 is sent as 0xFFFF (RFC 768).
     */
    private void writeL4Checksum(ByteBuf h, int l4, int checksumAt, int l4HeaderLength, long pseudo,
                                 long payloadSum, boolean tcp) {
        if (completeChecksum) {
            h.setShort(checksumAt, 0);
            int check = InternetChecksum.finish(pseudo + InternetChecksum.sum(h, l4, l4HeaderLength) + payloadSum);
            h.setShort(checksumAt, check == 0 && !tcp ? UdpHeader.ZERO_CHECKSUM_REPLACEMENT : check);
        } else {
            h.setShort(checksumAt, InternetChecksum.fold(pseudo));
        }
    }
}
