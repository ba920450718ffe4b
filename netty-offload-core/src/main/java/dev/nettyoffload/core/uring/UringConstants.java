package dev.nettyoffload.core.uring;

/**
 * Kernel numbers the io_uring reader needs and Netty keeps package-private. Opcodes and flags are from
 * {@code include/uapi/linux/io_uring.h}, socket numbers from {@code include/linux/socket.h} and
 * {@code include/uapi/linux/udp.h}, errno values from {@code include/uapi/asm-generic/errno-base.h} and
 * {@code errno.h} (x86_64 and arm64 share them).
 */
final class UringConstants {
    /** IORING_OP_NOP (Linux 5.1). */
    static final byte IORING_OP_NOP = 0;
    /** IORING_OP_RECVMSG (Linux 5.3). */
    static final byte IORING_OP_RECVMSG = 10;
    /** IORING_OP_ASYNC_CANCEL (Linux 5.5): cancels the request whose user_data is in {@code addr}. */
    static final byte IORING_OP_ASYNC_CANCEL = 14;
    /** IORING_OP_PROVIDE_BUFFERS (Linux 5.7). */
    static final byte IORING_OP_PROVIDE_BUFFERS = 31;
    /** IORING_OP_REMOVE_BUFFERS (Linux 5.7). */
    static final byte IORING_OP_REMOVE_BUFFERS = 32;

    /** IOSQE_BUFFER_SELECT: pick the receive buffer from the group in {@code buf_group}. */
    static final byte IOSQE_BUFFER_SELECT = 1 << 5;
    /** IORING_RECV_MULTISHOT, set in {@code ioprio} of a RECV/RECVMSG (Linux 6.0). */
    static final short IORING_RECV_MULTISHOT = 1 << 1;
    /** IORING_CQE_F_BUFFER: the upper 16 bits of the CQE flags hold the selected buffer's id. */
    static final int IORING_CQE_F_BUFFER = 1;
    /** IORING_CQE_F_MORE: the request stays armed and more completions follow. */
    static final int IORING_CQE_F_MORE = 1 << 1;
    /** IORING_CQE_BUFFER_SHIFT. */
    static final int IORING_CQE_BUFFER_SHIFT = 16;

    /** MSG_CTRUNC: the control buffer was too small for all control messages. */
    static final int MSG_CTRUNC = 0x08;
    /** MSG_TRUNC: the datagram (or GRO batch) was larger than the buffer and its tail was discarded. */
    static final int MSG_TRUNC = 0x20;

    static final int AF_INET = 2;
    static final int AF_INET6 = 10;
    /** SOL_UDP. */
    static final int SOL_UDP = 17;
    /** UDP_GRO: as a control message, the segment size of the batch (an {@code int}). */
    static final int UDP_GRO = 104;


    private UringConstants() {
    }
}
