package dev.nettyoffload.tun;

import dev.nettyoffload.core.packet.InternetChecksum;
import dev.nettyoffload.core.packet.IpProtocol;
import dev.nettyoffload.core.packet.Ipv6Header;
import dev.nettyoffload.core.packet.PacketLayout;
import dev.nettyoffload.core.packet.TcpHeader;
import dev.nettyoffload.core.packet.UdpHeader;
import io.netty.buffer.ByteBuf;

/**
 * The two directions of checksum offload ({@code CHECKSUM_PARTIAL}, {@code VIRTIO_NET_HDR_F_NEEDS_CSUM}): the
 * field at {@code csum_start + csum_offset} holds the folded pseudo-header sum, not complemented, and whoever
 * completes it sums from {@code csum_start} to the end of the packet (Linux
 * {@code Documentation/networking/checksum-offloads.rst}).
 */
final class PartialChecksum {
    private PartialChecksum() {
    }

    /**
     * Completes the partial checksum of the packet of {@code length} bytes at {@code index}; false (and nothing
     * written) when the range lies outside the packet.
     */
    static boolean complete(ByteBuf buf, int index, int length, int csumStart, int csumOffset) {
        int field = csumStart + csumOffset;
        if (csumStart >= length || field + 2 > length) {
            return false;
        }
        // The field is part of the range: it contributes the pseudo-header sum the sender left in it.
        int check = InternetChecksum.finish(InternetChecksum.sum(buf, index + csumStart, length - csumStart));
        if (check == 0 && csumOffset == UdpHeader.CHECKSUM_OFFSET) {
            // RFC 768: a computed zero is sent as all ones (zero means "no checksum").
            check = UdpHeader.ZERO_CHECKSUM_REPLACEMENT;
        }
        buf.setShort(index + field, check);
        return true;
    }

    /**
     * Turns the TCP/UDP checksum of the parsed packet at {@code index} into the partial form: the folded
     * pseudo-header sum over the whole L4 length. Whatever the field held before (a complete checksum, another
     * partial one) is overwritten; returns the field's offset from the L4 header (csum_offset).
     */
    static int makePartial(ByteBuf buf, int index, PacketLayout l) {
        int l4 = index + l.l4();
        int l4Length = l.length() - l.l4();
        long pseudo;
        if (l.l3Version() == 4) {
            pseudo = InternetChecksum.pseudoHeaderIpv4(buf, index + l.l3(), l.l4Protocol(), l4Length);
        } else {
            pseudo = InternetChecksum.pseudoHeaderIpv6(buf, index + l.l3() + Ipv6Header.SOURCE_OFFSET,
                    index + l.pseudoDestination(), l.l4Protocol(), l4Length);
        }
        int offset = l.l4Protocol() == IpProtocol.TCP ? TcpHeader.CHECKSUM_OFFSET : UdpHeader.CHECKSUM_OFFSET;
        buf.setShort(l4 + offset, InternetChecksum.fold(pseudo));
        return offset;
    }
}
