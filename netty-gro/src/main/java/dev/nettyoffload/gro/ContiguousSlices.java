package dev.nettyoffload.gro;

import io.netty.buffer.ByteBuf;

/**
 * Where a buffer's readable bytes lie in memory, to recognise the per-datagram slices Netty cuts from one
 * kernel GRO batch and to join adjacent slices back into one without copying.
 */
final class ContiguousSlices {
    /** Returned by the position methods when the position cannot be known. */
    static final long UNKNOWN = Long.MIN_VALUE;

    private ContiguousSlices() {
    }

    /**
     * The start of {@code buf}'s readable bytes as an absolute address (direct buffers with a memory address)
     * or as an offset into {@link ByteBuf#array()} (heap buffers), or {@link #UNKNOWN}.
     */
    static long readerPosition(ByteBuf buf) {
        if (buf.hasMemoryAddress()) {
            return buf.memoryAddress() + buf.readerIndex();
        }
        if (buf.hasArray()) {
            return buf.arrayOffset() + buf.readerIndex();
        }
        return UNKNOWN;
    }

    /** The array {@code buf}'s {@link #readerPosition} is relative to, or {@code null} for addresses. */
    static Object positionBase(ByteBuf buf) {
        return !buf.hasMemoryAddress() && buf.hasArray() ? buf.array() : null;
    }

    /**
     * The buffer both slices were cut from when each is a slice (one level of {@link ByteBuf#unwrap()}) of
     * the same root buffer, that root is not itself derived or wrapped, and {@code next}'s readable bytes
     * start exactly where {@code prev}'s end; otherwise {@code null}.
     * <p>
     * A leak-tracked allocation never qualifies: its slices unwrap to per-slice wrappers, and slicing its root
     * directly would bypass the tracker.
     */
    static ByteBuf commonRootIfAdjacent(ByteBuf prev, ByteBuf next) {
        ByteBuf root = prev.unwrap();
        if (root == null || root != next.unwrap() || root.unwrap() != null) {
            return null;
        }
        long end = readerPosition(prev);
        long start = readerPosition(next);
        if (end == UNKNOWN || start == UNKNOWN || positionBase(prev) != positionBase(next)) {
            return null;
        }
        return end + prev.readableBytes() == start ? root : null;
    }

    /** The index in {@code root} of {@code slice}'s first readable byte, or -1 when it cannot be known. */
    static int indexIn(ByteBuf root, ByteBuf slice) {
        long rootStart;
        if (root.hasMemoryAddress() && slice.hasMemoryAddress()) {
            rootStart = root.memoryAddress();
        } else if (root.hasArray() && slice.hasArray() && root.array() == slice.array()) {
            rootStart = root.arrayOffset();
        } else {
            return -1;
        }
        long index = readerPosition(slice) - rootStart;
        if (index < 0 || index + slice.readableBytes() > root.capacity()) {
            return -1;
        }
        return (int) index;
    }

    /** The bottom of {@code buf}'s {@link ByteBuf#unwrap()} chain: the buffer that owns the memory. */
    static ByteBuf bottom(ByteBuf buf) {
        ByteBuf b = buf;
        for (int i = 0; i < 8; i++) {
            ByteBuf inner = b.unwrap();
            if (inner == null) {
                return b;
            }
            b = inner;
        }
        return b;
    }

    /**
     * Whether {@code buf}'s readable bytes end exactly at the end of the buffer that owns its memory: the
     * mark of a datagram (or kernel GRO batch) the kernel truncated to fit the receive buffer.
     */
    static boolean fillsOwningBuffer(ByteBuf buf) {
        ByteBuf owner = bottom(buf);
        if (owner == buf) {
            return buf.writerIndex() == buf.capacity() && buf.isReadable();
        }
        int index = indexIn(owner, buf);
        if (index < 0) {
            return false;
        }
        return buf.isReadable() && index + buf.readableBytes() == owner.capacity();
    }
}
