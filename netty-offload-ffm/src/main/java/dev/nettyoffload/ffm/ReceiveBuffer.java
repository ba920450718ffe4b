package dev.nettyoffload.ffm;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.epoll.EpollDatagramChannel;

import java.lang.foreign.MemorySegment;

/**
 * The direct buffer {@link EpollBatchReader}'s {@code recvmsg} writes into. A read of at least
 * {@link EpollBatchReaderConfig#copyThreshold()} bytes is handed on in the buffer itself, and the next read gets
 * a new one; a shorter read is copied to a buffer of its size and the buffer is kept, so that small datagrams do
 * not each hold {@link EpollBatchReaderConfig#receiveBufferSize()} bytes. Allocates from the channel's current
 * allocator. Used on the reader's event loop only.
 */
final class ReceiveBuffer {
    private final EpollDatagramChannel channel;
    private final EpollBatchReaderConfig config;
    private ByteBuf buffer;
    private long copiedReads;

    ReceiveBuffer(EpollDatagramChannel channel, EpollBatchReaderConfig config) {
        this.channel = channel;
        this.config = config;
    }

    /**
     * The buffer to read into, allocated (and its address written into the iovec of {@code message}) when the
     * last one was handed on.
     */
    ByteBuf current(RecvmsgMessage message) {
        ByteBuf current = buffer;
        if (current == null) {
            int size = config.receiveBufferSize();
            ByteBufAllocator alloc = channel.config().getAllocator();
            current = alloc.directBuffer(size, size);
            long address = current.hasMemoryAddress()
                    ? current.memoryAddress()
                    : MemorySegment.ofBuffer(current.internalNioBuffer(0, size)).address();
            message.receiveInto(address, size);
            buffer = current;
        }
        return current;
    }

    /** Hands on a copy of a short read and keeps the buffer, or hands on the buffer itself. */
    ByteBuf take(int length) {
        ByteBuf current = buffer;
        current.setIndex(0, length);
        if (length < config.copyThreshold()) {
            copiedReads++;
            ByteBuf copy = channel.config().getAllocator().directBuffer(length, length);
            copy.writeBytes(current, 0, length);
            current.clear();
            return copy;
        }
        buffer = null;
        return current;
    }

    /** Reads copied because they were shorter than the copy threshold. */
    long copiedReads() {
        return copiedReads;
    }

    /** Releases the kept buffer, if any. */
    void release() {
        if (buffer != null) {
            buffer.release();
            buffer = null;
        }
    }
}
