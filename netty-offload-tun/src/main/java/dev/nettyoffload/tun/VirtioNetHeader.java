package dev.nettyoffload.tun;

import dev.nettyoffload.core.packet.GsoType;
import io.netty.buffer.ByteBuf;

/**
 * The {@code struct virtio_net_hdr} a TUN device with {@code IFF_VNET_HDR} puts in front of every packet, read
 * and written in place in a {@link ByteBuf}. Fields are little-endian: a TUN device uses the host's byte order
 * unless {@code TUNSETVNETBE} is set, and this module runs on little-endian Linux hosts (x86_64, aarch64) only.
 * <pre>
 *  0  u8    flags        NEEDS_CSUM (1), DATA_VALID (2)
 *  1  u8    gso_type     NONE (0), TCPV4 (1), UDP (3), TCPV6 (4), UDP_L4 (5); ECN (0x80) or-ed in
 *  2  le16  hdr_len      bytes of headers (a hint; TUN reads report the linear part of the skb)
 *  4  le16  gso_size     L4 payload bytes per segment
 *  6  le16  csum_start   where the checksummed range starts (the L4 header)
 *  8  le16  csum_offset  where the checksum field is, from csum_start (16 TCP, 6 UDP)
 * 10  le16  num_buffers  only in the 12-byte form ({@code struct virtio_net_hdr_mrg_rxbuf}); 0 here
 * </pre>
 *
 * @see <a href="https://github.com/torvalds/linux/blob/master/include/uapi/linux/virtio_net.h">virtio_net.h</a>
 */
public final class VirtioNetHeader {
    /** {@code sizeof(struct virtio_net_hdr)}. */
    public static final int LENGTH = 10;
    /** {@code sizeof(struct virtio_net_hdr_mrg_rxbuf)}: the header plus {@code num_buffers}. */
    public static final int MRG_RXBUF_LENGTH = 12;

    /** {@code VIRTIO_NET_HDR_F_NEEDS_CSUM}: the checksum from {@code csum_start} is still to be completed. */
    public static final int F_NEEDS_CSUM = 1;
    /** {@code VIRTIO_NET_HDR_F_DATA_VALID}: the checksum was verified (receive side of a virtio NIC). */
    public static final int F_DATA_VALID = 2;

    /** {@code VIRTIO_NET_HDR_GSO_NONE}. */
    public static final int GSO_NONE = 0;
    /** {@code VIRTIO_NET_HDR_GSO_TCPV4}. */
    public static final int GSO_TCPV4 = 1;
    /** {@code VIRTIO_NET_HDR_GSO_UDP}: UDP fragmentation offload (UFO), removed from Linux; never requested. */
    public static final int GSO_UDP = 3;
    /** {@code VIRTIO_NET_HDR_GSO_TCPV6}. */
    public static final int GSO_TCPV6 = 4;
    /** {@code VIRTIO_NET_HDR_GSO_UDP_L4}: UDP segmentation (USO), IPv4 or IPv6. */
    public static final int GSO_UDP_L4 = 5;
    /** {@code VIRTIO_NET_HDR_GSO_ECN}: the TCP packet carries CWR (only with {@code TUN_F_TSO_ECN}). */
    public static final int GSO_ECN = 0x80;

    /** Offset of {@code flags}. */
    public static final int FLAGS_OFFSET = 0;
    /** Offset of {@code gso_type}. */
    public static final int GSO_TYPE_OFFSET = 1;
    /** Offset of {@code hdr_len}. */
    public static final int HDR_LEN_OFFSET = 2;
    /** Offset of {@code gso_size}. */
    public static final int GSO_SIZE_OFFSET = 4;
    /** Offset of {@code csum_start}. */
    public static final int CSUM_START_OFFSET = 6;
    /** Offset of {@code csum_offset}. */
    public static final int CSUM_OFFSET_OFFSET = 8;

    private VirtioNetHeader() {
    }

    /** {@code flags} of the header at {@code index}. */
    public static int flags(ByteBuf buf, int index) {
        return buf.getUnsignedByte(index + FLAGS_OFFSET);
    }

    /** {@code gso_type} of the header at {@code index}, ECN bit included. */
    public static int gsoType(ByteBuf buf, int index) {
        return buf.getUnsignedByte(index + GSO_TYPE_OFFSET);
    }

    /** {@code hdr_len} of the header at {@code index}. */
    public static int hdrLen(ByteBuf buf, int index) {
        return buf.getUnsignedShortLE(index + HDR_LEN_OFFSET);
    }

    /** {@code gso_size} of the header at {@code index}. */
    public static int gsoSize(ByteBuf buf, int index) {
        return buf.getUnsignedShortLE(index + GSO_SIZE_OFFSET);
    }

    /** {@code csum_start} of the header at {@code index}. */
    public static int csumStart(ByteBuf buf, int index) {
        return buf.getUnsignedShortLE(index + CSUM_START_OFFSET);
    }

    /** {@code csum_offset} of the header at {@code index}. */
    public static int csumOffset(ByteBuf buf, int index) {
        return buf.getUnsignedShortLE(index + CSUM_OFFSET_OFFSET);
    }

    /** Writes a header of {@code length} bytes (10 or 12) at {@code index}; the rest of a 12-byte form is zero. */
    public static void set(ByteBuf buf, int index, int length, int flags, int gsoType, int hdrLen, int gsoSize,
                           int csumStart, int csumOffset) {
        buf.setByte(index + FLAGS_OFFSET, flags);
        buf.setByte(index + GSO_TYPE_OFFSET, gsoType);
        buf.setShortLE(index + HDR_LEN_OFFSET, hdrLen);
        buf.setShortLE(index + GSO_SIZE_OFFSET, gsoSize);
        buf.setShortLE(index + CSUM_START_OFFSET, csumStart);
        buf.setShortLE(index + CSUM_OFFSET_OFFSET, csumOffset);
        if (length > LENGTH) {
            buf.setZero(index + LENGTH, length - LENGTH);
        }
    }

    /** The {@link GsoType} of a {@code gso_type} (ECN bit ignored), or {@code null} for NONE and unknown types. */
    public static GsoType toGsoType(int gsoType) {
        switch (gsoType & ~GSO_ECN) {
            case GSO_TCPV4:
                return GsoType.TCPV4;
            case GSO_TCPV6:
                return GsoType.TCPV6;
            case GSO_UDP_L4:
                return GsoType.UDP_L4;
            default:
                return null;
        }
    }

    /** The {@code gso_type} of a {@link GsoType}. */
    public static int fromGsoType(GsoType gsoType) {
        switch (gsoType) {
            case TCPV4:
                return GSO_TCPV4;
            case TCPV6:
                return GSO_TCPV6;
            case UDP_L4:
                return GSO_UDP_L4;
            default:
                throw new IllegalArgumentException("gsoType: " + gsoType);
        }
    }
}
