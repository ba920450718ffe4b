package dev.nettyoffload.tun;

import dev.nettyoffload.core.Errno;
import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.GsoType;
import dev.nettyoffload.core.packet.IpProtocol;
import dev.nettyoffload.core.packet.Ipv4Header;
import dev.nettyoffload.core.packet.Ipv6Header;
import dev.nettyoffload.core.packet.LinkType;
import dev.nettyoffload.core.packet.PacketLayout;
import dev.nettyoffload.core.packet.PacketOffloadException;
import dev.nettyoffload.core.packet.TunnelType;
import dev.nettyoffload.ffm.Syscalls;
import dev.nettyoffload.gso.PacketSegmenter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The write path of a {@link TunChannel}: one {@code writev} per packet, of the {@code virtio_net_hdr} and the
 * packet's bytes gathered where they are ({@link TunIovecs}). A {@link GsoPacket} of a type the kernel accepted
 * as offload is written whole with a GSO header and {@code NEEDS_CSUM} (its checksum field rewritten in place to
 * the pseudo-header sum); otherwise, and after the kernel refused that type once ({@code EINVAL}, logged, then
 * software for good), it is cut with a {@link PacketSegmenter} and each segment written. {@code EAGAIN} and
 * {@code EIO} drop the packet, counted. Runs on the channel's event loop only.
 */
final class TunPacketWriter {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(TunChannel.class);
    /** {@code UDP_MAX_SEGMENTS} ({@code include/linux/udp.h}): tun.c refuses a USO packet of more segments. */
    static final int UDP_MAX_SEGMENTS = 128;

    private final TunDescriptor fd;
    private final String device;
    private final int vnetHeaderSize;
    private final TunCounters counters;
    private final TunIovecs iovecs;
    private final PacketSegmenter segmenter = new PacketSegmenter();
    private final List<Object> segments = new ArrayList<>();
    private final PacketLayout layout = new PacketLayout();
    private ByteBuf copyBuffer;
    private boolean gsoWriteTcpv4;
    private boolean gsoWriteTcpv6;
    private boolean gsoWriteUdp;

    /** A writer to {@code fd} (device {@code device}) for the offload flags the kernel {@code accepted}. */
    TunPacketWriter(TunDescriptor fd, String device, int vnetHeaderSize, int accepted, TunCounters counters) {
        this.fd = fd;
        this.device = device;
        this.vnetHeaderSize = vnetHeaderSize;
        this.counters = counters;
        this.iovecs = new TunIovecs(vnetHeaderSize);
        gsoWriteTcpv4 = (accepted & TunOffload.TSO4.flag()) != 0;
        gsoWriteTcpv6 = (accepted & TunOffload.TSO6.flag()) != 0;
        gsoWriteUdp = (accepted & TunOffload.USO4.flag()) != 0;
    }

    /**
     * Writes one packet: as it is, or, with {@code partial}, a TCP/UDP packet with {@code NEEDS_CSUM} and its
     * checksum field rewritten in place to the pseudo-header sum ({@link TunChannelOption#PARTIAL_CHECKSUM_WRITES}).
     */
    void write(ByteBuf packet, boolean partial, ByteBufAllocator alloc) throws IOException {
        if (partial && isPlainTcpOrUdp(packet)) {
            PacketLayout l;
            try {
                l = layout.parse(packet, LinkType.RAW_IP, TunnelType.NONE, null);
            } catch (PacketOffloadException e) {
                // Malformed: as it is, and the kernel judges it.
                writePacket(packet, 0, 0, 0, 0, 0, alloc);
                return;
            }
            if (!packet.isReadOnly()) {
                int csumOffset = PartialChecksum.makePartial(packet, packet.readerIndex(), l);
                if (writePacket(packet, VirtioNetHeader.F_NEEDS_CSUM, VirtioNetHeader.GSO_NONE, l.headerLength(), 0,
                        l.l4() | csumOffset << 16, alloc) > 0) {
                    counters.partialChecksumWrites++;
                }
                return;
            }
        }
        writePacket(packet, 0, 0, 0, 0, 0, alloc);
    }

    /**
     * Whether the packet is an unfragmented IPv4 packet or an IPv6 packet without extension headers that carries
     * TCP or UDP: checked on the bytes before a parse, which would throw for everything else.
     */
    private static boolean isPlainTcpOrUdp(ByteBuf p) {
        int i = p.readerIndex();
        int n = p.readableBytes();
        if (n < Ipv4Header.MIN_LENGTH) {
            return false;
        }
        int version = p.getUnsignedByte(i) >>> 4;
        int protocol;
        if (version == 4) {
            if ((p.getUnsignedShort(i + Ipv4Header.FRAGMENT_OFFSET)
                    & (Ipv4Header.MORE_FRAGMENTS | Ipv4Header.FRAGMENT_OFFSET_MASK)) != 0) {
                return false;
            }
            protocol = p.getUnsignedByte(i + Ipv4Header.PROTOCOL_OFFSET);
        } else if (version == 6 && n >= Ipv6Header.LENGTH) {
            protocol = p.getUnsignedByte(i + Ipv6Header.NEXT_HEADER_OFFSET);
        } else {
            return false;
        }
        return protocol == IpProtocol.TCP || protocol == IpProtocol.UDP;
    }

    /** Writes a super-packet whole when the kernel takes it, else its segments. */
    void write(GsoPacket packet, ByteBufAllocator alloc) throws IOException {
        ByteBuf content = packet.content();
        if (packet.tunnelType() == TunnelType.NONE && !content.isReadOnly() && gsoWriteAllowed(packet.gsoType())) {
            PacketLayout l = packet.layout(LinkType.RAW_IP);
            int segmentCount = packet.segmentsFor(l.payloadLength());
            boolean fits = l.jumboOption() == PacketLayout.ABSENT && l.strippedLength() == 0
                    && (packet.gsoType() != GsoType.UDP_L4 || segmentCount <= UDP_MAX_SEGMENTS);
            if (fits) {
                int csumOffset = PartialChecksum.makePartial(content, content.readerIndex(), l);
                int result = writePacket(content, VirtioNetHeader.F_NEEDS_CSUM,
                        VirtioNetHeader.fromGsoType(packet.gsoType()), l.headerLength(), packet.segmentSize(),
                        l.l4() | csumOffset << 16, alloc);
                if (result != -Errno.EINVAL) {
                    if (result >= 0) {
                        counters.gsoWrites++;
                    }
                    return;
                }
                counters.gsoWriteRefusals++;
                disableGsoWrites(packet.gsoType());
            }
        }
        segments.clear();
        try {
            int n = segmenter.segment(packet, alloc, segments);
            counters.segmentedWrites++;
            for (int i = 0; i < n; i++) {
                writePacket((ByteBuf) segments.get(i), 0, 0, 0, 0, 0, alloc);
                counters.segmentsWritten++;
            }
        } finally {
            for (int i = 0; i < segments.size(); i++) {
                ReferenceCountUtil.release(segments.get(i));
            }
            segments.clear();
        }
    }

    private boolean gsoWriteAllowed(GsoType type) {
        return switch (type) {
            case TCPV4 -> gsoWriteTcpv4;
            case TCPV6 -> gsoWriteTcpv6;
            default -> gsoWriteUdp;
        };
    }

    private void disableGsoWrites(GsoType type) {
        logger.info("{}: the kernel refused a {} super-packet (EINVAL); segmenting {} in software from now on",
                device, type, type);
        switch (type) {
            case TCPV4 -> gsoWriteTcpv4 = false;
            case TCPV6 -> gsoWriteTcpv6 = false;
            default -> gsoWriteUdp = false;
        }
    }

    /**
     * Writes {@code buf}'s readable bytes behind a header; {@code csum} packs csum_start (low 16 bits) and
     * csum_offset. Returns the bytes written, {@code -EINVAL} for a refused GSO header (the caller falls back),
     * or 0 for a packet dropped on {@code EAGAIN} or {@code EIO}; throws for other errors.
     */
    private int writePacket(ByteBuf buf, int flags, int gsoType, int hdrLen, int gsoSize, int csum,
                            ByteBufAllocator alloc) throws IOException {
        int length = buf.readableBytes();
        VirtioNetHeader.set(iovecs.header(), 0, vnetHeaderSize, flags, gsoType, hdrLen, gsoSize, csum & 0xFFFF,
                csum >>> 16);
        int count = iovecs.gather(buf, 1);
        if (count < 0) {
            ByteBuf copy = copyBuffer(alloc);
            copy.clear().writeBytes(buf, buf.readerIndex(), length);
            count = iovecs.gather(copy, 1);
        }
        for (;;) {
            long r = Syscalls.writev(fd.intValue(), iovecs.iovecs(), count);
            if (r >= 0) {
                counters.writes++;
                counters.bytesWritten += length;
                return (int) r;
            }
            int errno = (int) -r;
            if (errno == Errno.EINTR) {
                continue;
            }
            if (errno == Errno.EAGAIN || errno == Errno.EIO) {
                // No room in the queue, or the interface is down (tun.c answers EIO): a NIC drops those too.
                counters.writesDropped++;
                return 0;
            }
            if (errno == Errno.EINVAL && gsoType != VirtioNetHeader.GSO_NONE) {
                return -errno;
            }
            throw new IOException("writev to " + device + " failed: errno " + errno);
        }
    }

    private ByteBuf copyBuffer(ByteBufAllocator alloc) {
        if (copyBuffer == null) {
            copyBuffer = alloc.directBuffer(TunPacketReader.READ_BUFFER_SIZE, TunPacketReader.READ_BUFFER_SIZE);
        }
        return copyBuffer;
    }

    /** Releases the native memory and the copy buffer; called when the channel closes. */
    void release() {
        if (copyBuffer != null) {
            copyBuffer.release();
            copyBuffer = null;
        }
        iovecs.release();
    }
}
