package dev.nettyoffload.tun;

import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.GsoType;
import dev.nettyoffload.core.packet.Ipv4IdMode;
import dev.nettyoffload.core.packet.TunnelType;
import dev.nettyoffload.ffm.Syscalls;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.lang.foreign.MemorySegment;

/**
 * The read path of a {@link TunChannel}: one {@code read} of the device into a buffer with room for the largest
 * packet, and the message it makes. A packet with a GSO header becomes a {@link GsoPacket} that keeps the read
 * buffer (the next read gets a new one); a packet of at most {@link #COPY_THRESHOLD} bytes is copied out, so the
 * buffer serves the next read; a larger one is handed on in the buffer itself. A checksum the kernel left
 * partial ({@code NEEDS_CSUM}) is completed, except a super-packet's unless the channel asks for complete
 * checksums. Runs on the channel's event loop only.
 */
final class TunPacketReader {
    /**
     * Room for one read: the header and the largest packet a TUN device hands over (its {@code gso_max_size} is
     * 64 KiB; an IPv6 packet may have 65535 payload bytes after its 40-byte header).
     */
    static final int READ_BUFFER_SIZE = VirtioNetHeader.MRG_RXBUF_LENGTH + 40 + 65535;
    /** Reads up to this many bytes are copied out, so that the large read buffer serves the next read. */
    static final int COPY_THRESHOLD = 2048;

    private final int vnetHeaderSize;
    private final TunCounters counters;
    private ByteBuf readBuffer;
    private MemorySegment readSegment;

    TunPacketReader(int vnetHeaderSize, TunCounters counters) {
        this.vnetHeaderSize = vnetHeaderSize;
        this.counters = counters;
    }

    /** One {@code read} of {@code fd} into the read buffer: the bytes read, or the negated errno. */
    long read(int fd, ByteBufAllocator alloc) {
        if (readBuffer == null) {
            readBuffer = alloc.directBuffer(READ_BUFFER_SIZE, READ_BUFFER_SIZE);
            readSegment = segmentOf(readBuffer, READ_BUFFER_SIZE);
        }
        return Syscalls.read(fd, readSegment, READ_BUFFER_SIZE);
    }

    /**
     * The message for the last {@link #read} of {@code n} bytes, or null when it was dropped (counted as
     * malformed).
     */
    Object packet(int n, boolean completeGso, ByteBufAllocator alloc) {
        ByteBuf buf = readBuffer;
        int hdr = vnetHeaderSize;
        int length = n - hdr;
        if (length <= 0) {
            counters.malformedReads++;
            return null;
        }
        int flags = VirtioNetHeader.flags(buf, 0);
        int gsoType = VirtioNetHeader.gsoType(buf, 0);
        int gsoSize = VirtioNetHeader.gsoSize(buf, 0);
        int csumStart = VirtioNetHeader.csumStart(buf, 0);
        int csumOffset = VirtioNetHeader.csumOffset(buf, 0);
        GsoType type = gsoSize == 0 ? null : VirtioNetHeader.toGsoType(gsoType);
        boolean needsChecksum = (flags & VirtioNetHeader.F_NEEDS_CSUM) != 0;
        if (needsChecksum && (type == null || completeGso)) {
            if (!PartialChecksum.complete(buf, hdr, length, csumStart, csumOffset)) {
                counters.malformedReads++;
                return null;
            }
            counters.checksumsCompleted++;
        }
        counters.reads++;
        counters.bytesRead += length;
        if (type != null) {
            int payload = length - csumStart - l4HeaderLength(buf, hdr + csumStart, type, length - csumStart);
            counters.gsoReads++;
            counters.segmentsRead += payload <= 0 ? 1 : (payload + gsoSize - 1) / gsoSize;
            return new GsoPacket(handOn(hdr, n), type, TunnelType.NONE, gsoSize, Ipv4IdMode.INCREMENTING, 0);
        }
        counters.segmentsRead++;
        if (length <= COPY_THRESHOLD) {
            counters.copiedReads++;
            ByteBuf copy = alloc.directBuffer(length, length);
            copy.writeBytes(buf, hdr, length);
            return copy;
        }
        return handOn(hdr, n);
    }

    /** The read buffer with the packet readable, given away: the next read allocates another. */
    private ByteBuf handOn(int from, int to) {
        ByteBuf buf = readBuffer;
        buf.setIndex(from, to);
        readBuffer = null;
        readSegment = null;
        return buf;
    }

    /** Releases the read buffer; called when the channel closes. */
    void release() {
        if (readBuffer != null) {
            readBuffer.release();
            readBuffer = null;
            readSegment = null;
        }
    }

    /** The TCP or UDP header length at {@code l4}, for counting segments; 0 when it cannot be read. */
    private static int l4HeaderLength(ByteBuf buf, int l4, GsoType type, int available) {
        if (type == GsoType.UDP_L4) {
            return 8;
        }
        return available > 12 ? (buf.getUnsignedByte(l4 + 12) >>> 4) * 4 : 0;
    }

    /** A native segment over the first {@code length} bytes of a direct buffer. */
    @SuppressWarnings("restricted")
    private static MemorySegment segmentOf(ByteBuf buf, int length) {
        if (buf.hasMemoryAddress()) {
            return MemorySegment.ofAddress(buf.memoryAddress()).reinterpret(length);
        }
        return MemorySegment.ofBuffer(buf.internalNioBuffer(0, length));
    }
}
