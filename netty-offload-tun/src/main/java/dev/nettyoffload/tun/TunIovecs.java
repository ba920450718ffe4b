package dev.nettyoffload.tun;

import dev.nettyoffload.ffm.NativeLayouts;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The native memory of a {@link TunChannel}'s writes: an iovec array of {@link #MAX_IOVECS} entries and, behind
 * it, the {@code virtio_net_hdr} that iovec 0 always points at. {@link #gather} points the following iovecs at a
 * packet's bytes where they are (a {@link CompositeByteBuf}'s components, a direct buffer), so that one
 * {@code writev} hands the kernel header and packet without a copy. Runs on the channel's event loop only.
 */
final class TunIovecs {
    /** iovecs per write: the header plus the components of one packet; a packet of more pieces is copied. */
    static final int MAX_IOVECS = 64;
    private static final long IOVEC_SIZE = NativeLayouts.IOVEC.byteSize();
    private static final long HEADER_OFFSET = MAX_IOVECS * IOVEC_SIZE;
    private static final long AREA_SIZE = HEADER_OFFSET + 16;

    private final Arena arena;
    private final MemorySegment area;
    /** A view of the header bytes, for {@link VirtioNetHeader}'s setters. */
    private final ByteBuf header;

    /** Allocates the area and points iovec 0 at the {@code vnetHeaderSize} header bytes. */
    TunIovecs(int vnetHeaderSize) {
        arena = Arena.ofShared();
        area = arena.allocate(AREA_SIZE, JAVA_LONG.byteSize());
        header = Unpooled.wrappedBuffer(area.asSlice(HEADER_OFFSET, VirtioNetHeader.MRG_RXBUF_LENGTH).asByteBuffer());
        header.clear();
        setIovec(0, area.address() + HEADER_OFFSET, vnetHeaderSize);
    }

    /** The header iovec 0 points at, to be filled before each write. */
    ByteBuf header() {
        return header;
    }

    /** The iovec array, for {@code writev}. */
    MemorySegment iovecs() {
        return area;
    }

    /**
     * Fills iovecs from index {@code first} on with the readable bytes of {@code buf}; returns the iovec count,
     * or -1 when the bytes are not all in native memory or need more than {@link #MAX_IOVECS} iovecs.
     */
    int gather(ByteBuf buf, int first) {
        int count = first;
        if (buf instanceof CompositeByteBuf c && c.readerIndex() == 0 && c.writerIndex() == c.capacity()) {
            int components = c.numComponents();
            if (first + components > MAX_IOVECS) {
                return -1;
            }
            for (int i = 0; i < components; i++) {
                ByteBuf component = c.internalComponent(i);
                count = addIovec(count, component, component.readerIndex(), component.readableBytes());
                if (count < 0) {
                    return -1;
                }
            }
            return count;
        }
        if (buf.nioBufferCount() == 1) {
            return addIovec(count, buf, buf.readerIndex(), buf.readableBytes());
        }
        ByteBuffer[] nio = buf.nioBuffers(buf.readerIndex(), buf.readableBytes());
        if (first + nio.length > MAX_IOVECS) {
            return -1;
        }
        for (ByteBuffer b : nio) {
            if (!b.isDirect()) {
                return -1;
            }
            if (b.hasRemaining()) {
                setIovec(count++, MemorySegment.ofBuffer(b).address(), b.remaining());
            }
        }
        return count;
    }

    private int addIovec(int index, ByteBuf buf, int offset, int length) {
        if (length == 0) {
            return index;
        }
        if (index >= MAX_IOVECS) {
            return -1;
        }
        long address;
        if (buf.hasMemoryAddress()) {
            address = buf.memoryAddress() + offset;
        } else if (buf.isDirect() && buf.nioBufferCount() == 1) {
            address = MemorySegment.ofBuffer(buf.internalNioBuffer(offset, length)).address();
        } else {
            return -1;
        }
        setIovec(index, address, length);
        return index + 1;
    }

    private void setIovec(int index, long address, long length) {
        long base = index * IOVEC_SIZE;
        area.set(JAVA_LONG, base + NativeLayouts.IOV_BASE, address);
        area.set(JAVA_LONG, base + NativeLayouts.IOV_LEN, length);
    }

    /** Frees the native memory; called when the channel closes. */
    void release() {
        arena.close();
    }
}
