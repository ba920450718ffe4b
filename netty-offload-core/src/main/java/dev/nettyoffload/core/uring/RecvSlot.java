package dev.nettyoffload.core.uring;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import io.netty.channel.uring.IoUringIoOps;

import java.net.InetSocketAddress;

/**
 * One of the reader's RECVMSG requests: the {@link RecvMsgMemory} the kernel reads the {@code msghdr} from and
 * writes the sender and control messages into, the payload buffer the iovec points at, and the id of the request
 * while the kernel holds them. The slot's index travels in the op's {@code data} field, so a completion finds its
 * slot. Event loop only.
 * <p>
 * Order with several slots in flight on one socket: the kernel does not fill them in submission order (a waiting
 * receive sits on the socket's wait queue, where io_uring adds at the head, and the data goes to whichever woken
 * receive runs its {@code recvmsg} first), but each receive takes its datagram or batch off the socket and queues
 * its completion in one step on the submitting thread's task work (or inline at submission), so the completion
 * queue is in the order the data left the socket. Netty dispatches completions in queue order, and the reader
 * delivers each as it comes, whatever its slot.
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

    /**
     * The message of a RECVMSG that completed with {@code length} bytes, counted in {@code counters}: a
     * {@link SegmentedDatagramPacket} when UDP_GRO ({@code udpGro}) coalesced several datagrams, else a plain
     * {@link DatagramPacket}, owning the payload buffer (the next receive gets a new one). A batch cut by MSG_TRUNC
     * keeps its whole segments; a datagram cut short is dropped and {@code null} returned, the buffer kept.
     */
    DatagramPacket message(int length, boolean udpGro, InetSocketAddress recipient, ReaderCounters counters,
                           Object reader) {
        int segmentSize = udpGro ? memory.segmentSize() : 0;
        if ((memory.msgFlags() & UringConstants.MSG_TRUNC) != 0) {
            counters.truncated(reader, payload.capacity(), length);
            length = segmentSize > 0 ? length - length % segmentSize : 0;
            if (length == 0) {
                return null;
            }
        }
        ByteBuf buf = payload;
        payload = null;
        buf.writerIndex(length);
        InetSocketAddress sender = memory.sender();
        counters.delivered(length, segmentSize);
        return segmentSize > 0 && length > segmentSize
                ? new SegmentedDatagramPacket(buf, segmentSize, recipient, sender)
                : new DatagramPacket(buf, recipient, sender);
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
