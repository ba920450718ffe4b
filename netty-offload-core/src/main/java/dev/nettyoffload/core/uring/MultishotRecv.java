package dev.nettyoffload.core.uring;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import io.netty.channel.uring.IoUringIoOps;

import java.net.InetSocketAddress;

/**
 * The multishot RECVMSG of a multishot reader and the layout of what it writes into each provided buffer.
 * <p>
 * The kernel reads the {@code msghdr} once, at submission: only {@code msg_namelen} and {@code msg_controllen}
 * matter, as the sizes of the name and control areas it reserves at the start of every buffer it selects
 * ({@code io_uring/net.c}, {@code io_recvmsg_prep_multishot}). {@code msg_iovlen} 0 lets the payload take the rest
 * of the buffer. Each buffer then holds:
 * <pre>
 *   0  struct io_uring_recvmsg_out   namelen 0 (the sender's real length), controllen 4 (bytes used),
 *                                    payloadlen 8 (the datagram's real length), flags 12 (msg_flags: MSG_TRUNC)
 *  16  name area ({@value #NAME_SIZE} bytes: sockaddr_in or sockaddr_in6)
 *  48  control area ({@value #CONTROL_SIZE} bytes, 8-aligned for cmsghdr)
 * 176  payload
 * </pre>
 * and the completion's result is the bytes written from offset 0: header areas plus the payload kept.
 */
final class MultishotRecv {
    /** sizeof(struct io_uring_recvmsg_out). */
    static final int OUT_SIZE = 16;
    /** Room for a sockaddr_in6 (28 bytes), rounded up to 8 so that the control area is aligned. */
    static final int NAME_SIZE = 32;
    /** The same room for control messages as the single-shot form ({@link RecvMsgMemory#CONTROL_SIZE}). */
    static final int CONTROL_SIZE = RecvMsgMemory.CONTROL_SIZE;
    static final int NAME_OFFSET = OUT_SIZE;
    static final int CONTROL_OFFSET = NAME_OFFSET + NAME_SIZE;
    static final int PAYLOAD_OFFSET = CONTROL_OFFSET + CONTROL_SIZE;

    private static final int OUT_NAMELEN = 0;
    private static final int OUT_CONTROLLEN = 4;
    private static final int OUT_PAYLOADLEN = 8;
    private static final int OUT_FLAGS = 12;
    // The msghdr, then areas its name and control pointers point at: the kernel writes neither in multishot
    // mode, but a pointer that is not NULL keeps each length from being read as 0.
    private static final int MSGHDR_NAME_AREA = RecvMsgMemory.MSGHDR_SIZE;
    private static final int MSGHDR_CONTROL_AREA = MSGHDR_NAME_AREA + NAME_SIZE;
    private static final int MSGHDR_MEMORY = MSGHDR_CONTROL_AREA + CONTROL_SIZE;

    private final ByteBuf msghdr;
    private final SenderParser senders = new SenderParser();

    private MultishotRecv(ByteBuf msghdr) {
        this.msghdr = msghdr;
        long address = msghdr.memoryAddress();
        msghdr.setZero(0, MSGHDR_MEMORY);
        msghdr.setLongLE(RecvMsgMemory.MSG_NAME, address + MSGHDR_NAME_AREA);
        msghdr.setIntLE(RecvMsgMemory.MSG_NAMELEN, NAME_SIZE);
        msghdr.setLongLE(RecvMsgMemory.MSG_CONTROL, address + MSGHDR_CONTROL_AREA);
        msghdr.setLongLE(RecvMsgMemory.MSG_CONTROLLEN, CONTROL_SIZE);
    }

    /** A request with its {@code msghdr} in fresh memory from {@code allocator}; {@link #release()} frees it. */
    static MultishotRecv allocate(ByteBufAllocator allocator) {
        ByteBuf buf = allocator.directBuffer(MSGHDR_MEMORY);
        if (!buf.hasMemoryAddress()) {
            buf.release();
            throw new IllegalStateException("direct buffers have no memory address (sun.misc.Unsafe unavailable)");
        }
        return new MultishotRecv(buf);
    }

    /** The SQE: RECVMSG on {@code fd}, multishot, a buffer from {@code group} for each datagram or batch. */
    IoUringIoOps op(int fd, short group, short data) {
        return new IoUringIoOps(UringConstants.IORING_OP_RECVMSG, UringConstants.IOSQE_BUFFER_SELECT,
                UringConstants.IORING_RECV_MULTISHOT, fd, 0L, msghdr.memoryAddress(), 0, 0, data, group, (short) 0,
                0, 0L);
    }

    /**
     * The message in provided buffer {@code id} of {@code buffers}, whose completion wrote {@code result} bytes,
     * counted in {@code counters}: a {@link SegmentedDatagramPacket} when UDP_GRO coalesced several datagrams, else
     * a {@link DatagramPacket}; its content a {@link ProvidedBuf} over the payload. A batch cut by MSG_TRUNC keeps
     * its whole segments; a datagram cut short gives {@code null} (the caller provides the buffer again).
     */
    DatagramPacket message(ProvidedBuffers buffers, int id, int result, boolean udpGro, InetSocketAddress recipient,
                           ReaderCounters counters, Object reader) {
        ByteBuf region = buffers.region();
        int base = buffers.offset(id);
        int length = result - PAYLOAD_OFFSET;
        if (length < 0) {
            return null; // cannot happen: every completion carries the header areas
        }
        int flags = region.getIntLE(base + OUT_FLAGS);
        int segmentSize = udpGro ? ControlMessages.udpGroSegmentSize(region, base + CONTROL_OFFSET,
                Math.min(region.getIntLE(base + OUT_CONTROLLEN), CONTROL_SIZE)) : 0;
        long sent = region.getIntLE(base + OUT_PAYLOADLEN) & 0xFFFFFFFFL;
        if ((flags & UringConstants.MSG_TRUNC) != 0 || sent > length) {
            counters.truncated(reader, buffers.entrySize() - PAYLOAD_OFFSET, length);
            length = segmentSize > 0 ? length - length % segmentSize : 0;
            if (length == 0) {
                return null;
            }
        }
        InetSocketAddress sender = senders.parse(region, base + NAME_OFFSET,
                Math.min(region.getIntLE(base + OUT_NAMELEN), NAME_SIZE));
        ByteBuf content = buffers.handOut(id, PAYLOAD_OFFSET, length);
        counters.delivered(length, segmentSize);
        return segmentSize > 0 && length > segmentSize
                ? new SegmentedDatagramPacket(content, segmentSize, recipient, sender)
                : new DatagramPacket(content, recipient, sender);
    }

    /** Frees the {@code msghdr}; only when the RECVMSG is no longer in flight. */
    void release() {
        msghdr.release();
    }
}
