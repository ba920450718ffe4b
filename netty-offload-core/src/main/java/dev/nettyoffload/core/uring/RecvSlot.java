package dev.nettyoffload.core.uring;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.uring.IoUringIoOps;

/**
 * One of the reader's RECVMSG requests: the {@link RecvMsgMemory} the kernel reads the {@code msghdr} from and
 * writes the sender and control messages into, the payload buffer the iovec points at, and the id of the request
 * while the kernel holds them. The slot's index travels in the op's {@code data} field, so a completion finds its
 * slot. Event loop only.
 */
final class RecvSlot {
    private final short index;
    private final RecvMsgMemory memory;
    private ByteBuf payload;
    /** The id {@code IoRegistration.submit} returned for the RECVMSG in flight; 0 when none is. */
    private long id;

    private RecvSlot(short index, RecvMsgMemory memory) {
        this.index = index;
        this.memory = memory;
    }

    /** A slot with fresh {@link RecvMsgMemory} from {@code allocator}; its payload buffer comes with the first receive. */
    static RecvSlot allocate(int index, ByteBufAllocator allocator) {
        if (index < 0 || index > Short.MAX_VALUE) {
            throw new IllegalArgumentException("index: " + index);
        }
        ByteBuf buf = allocator.directBuffer(RecvMsgMemory.SIZE);
        try {
            return new RecvSlot((short) index, new RecvMsgMemory(buf));
        } catch (Throwable t) {
            buf.release();
            throw t;
        }
    }

    /** The index carried in the op's {@code data} field. */
    short index() {
        return index;
    }

    /** The header memory of the last receive: flags, segment size, sender. */
    RecvMsgMemory memory() {
        return memory;
    }

    boolean isInFlight() {
        return id != 0;
    }

    /** The id of the RECVMSG in flight, for IORING_OP_ASYNC_CANCEL. */
    long id() {
        return id;
    }

    /**
     * Readies the next RECVMSG on {@code fd} into a {@code bufferSize}-byte payload buffer (kept from an earlier
     * receive that delivered nothing, else new from {@code allocator}) and returns the op to submit.
     *
     * @throws IllegalStateException when the allocator's direct buffers have no memory address
     */
    IoUringIoOps prepare(int fd, ByteBufAllocator allocator, int bufferSize) {
        if (payload == null) {
            ByteBuf buf = allocator.directBuffer(bufferSize);
            if (!buf.hasMemoryAddress()) {
                buf.release();
                throw new IllegalStateException("direct buffers have no memory address (sun.misc.Unsafe unavailable)");
            }
            payload = buf;
        }
        payload.clear();
        memory.prepare(payload.memoryAddress(), bufferSize);
        return new IoUringIoOps(UringConstants.IORING_OP_RECVMSG, (byte) 0, (short) 0, fd, 0L,
                memory.msghdrAddress(), 1, 0, index, (short) 0, (short) 0, 0, 0L);
    }

    /** Records that the op from {@link #prepare} was submitted as {@code id} (non-zero). */
    void submitted(long id) {
        this.id = id;
    }

    /** Records the RECVMSG's completion: the kernel no longer touches the memory or the payload buffer. */
    void completed() {
        id = 0;
    }

    /** Hands the payload buffer, holding {@code length} received bytes, to the caller; the next receive gets a new one. */
    ByteBuf takePayload(int length) {
        ByteBuf buf = payload;
        payload = null;
        return buf.writerIndex(length);
    }

    /** Releases the memory and payload buffer; only when no RECVMSG of this slot is in flight. */
    void release() {
        memory.release();
        if (payload != null) {
            payload.release();
            payload = null;
        }
    }
}
