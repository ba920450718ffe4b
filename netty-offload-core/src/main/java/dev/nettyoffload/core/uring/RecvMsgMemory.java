package dev.nettyoffload.core.uring;

import io.netty.buffer.ByteBuf;

import java.net.InetSocketAddress;
import java.nio.ByteOrder;

/**
 * The {@code msghdr}, {@code iovec}, {@code sockaddr_storage} and control buffer of one {@code recvmsg}, laid
 * out in one direct buffer for the kernel to read and write. Layout of the LP64 Linux ABI (x86_64, arm64),
 * little-endian:
 * <pre>
 *   0  struct msghdr (56 bytes)      msg_name 0, msg_namelen 8, msg_iov 16, msg_iovlen 24,
 *                                    msg_control 32, msg_controllen 40, msg_flags 48
 *  56  struct iovec (16 bytes)       iov_base 0, iov_len 8
 *  72  struct sockaddr_storage (128) the sender: sockaddr_in or sockaddr_in6
 * 200  control buffer ({@value #CONTROL_SIZE} bytes, 8-aligned for cmsghdr)
 * </pre>
 * The pointers (msg_name, msg_iov, msg_control) never change; {@link #prepare} resets the lengths the kernel
 * overwrites and points the iovec at the next payload buffer. Not thread-safe: one op in flight at a time.
 */
final class RecvMsgMemory {
    static final int MSGHDR_SIZE = 56;
    static final int IOVEC_OFFSET = MSGHDR_SIZE;
    static final int IOVEC_SIZE = 16;
    static final int SOCKADDR_OFFSET = IOVEC_OFFSET + IOVEC_SIZE;
    /** sizeof(struct sockaddr_storage). */
    static final int SOCKADDR_SIZE = 128;
    static final int CONTROL_OFFSET = SOCKADDR_OFFSET + SOCKADDR_SIZE;
    /**
     * Room for the UDP_GRO control message (CMSG_SPACE(sizeof(int)) = 24) and a few others an application may
     * have turned on (IP_PKTINFO is 32, IPV6_PKTINFO 32, a timestamp 32).
     */
    static final int CONTROL_SIZE = 128;
    static final int SIZE = CONTROL_OFFSET + CONTROL_SIZE;

    static final int MSG_NAME = 0;
    static final int MSG_NAMELEN = 8;
    static final int MSG_IOV = 16;
    static final int MSG_IOVLEN = 24;
    static final int MSG_CONTROL = 32;
    static final int MSG_CONTROLLEN = 40;
    static final int MSG_FLAGS = 48;

    /** sizeof(struct cmsghdr): cmsg_len (size_t) 0, cmsg_level 8, cmsg_type 12, data from 16. */
    static final int CMSGHDR_SIZE = ControlMessages.CMSGHDR_SIZE;

    private final ByteBuf memory;
    private final long address;

    private final SenderParser senders = new SenderParser();

    /**
     * Takes ownership of {@code memory}: at least {@link #SIZE} bytes of direct memory with a
     * {@link ByteBuf#memoryAddress() memory address}. {@link #release()} releases it.
     */
    RecvMsgMemory(ByteBuf memory) {
        if (!memory.hasMemoryAddress() || memory.capacity() < SIZE) {
            throw new IllegalArgumentException("memory: need " + SIZE + " bytes of direct memory with an address, got "
                    + memory);
        }
        this.memory = memory;
        this.address = memory.memoryAddress();
        memory.setZero(0, SIZE);
        memory.setLongLE(MSG_NAME, address + SOCKADDR_OFFSET);
        memory.setLongLE(MSG_IOV, address + IOVEC_OFFSET);
        memory.setLongLE(MSG_IOVLEN, 1);
        memory.setLongLE(MSG_CONTROL, address + CONTROL_OFFSET);
    }

    /** Whether this platform has the layout above (64-bit little-endian Linux). */
    static boolean isLayoutSupported() {
        String arch = System.getProperty("os.arch", "");
        return ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN
                && ("amd64".equals(arch) || "x86_64".equals(arch) || "aarch64".equals(arch))
                && System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux");
    }

    /** The address of the {@code msghdr} to pass to IORING_OP_RECVMSG. */
    long msghdrAddress() {
        return address;
    }

    /** Readies the header for the next receive into {@code length} bytes at {@code payloadAddress}. */
    void prepare(long payloadAddress, int length) {
        memory.setLongLE(IOVEC_OFFSET, payloadAddress);
        memory.setLongLE(IOVEC_OFFSET + 8, length);
        memory.setIntLE(MSG_NAMELEN, SOCKADDR_SIZE);
        memory.setLongLE(MSG_CONTROLLEN, CONTROL_SIZE);
        memory.setIntLE(MSG_FLAGS, 0);
    }

    /** The {@code msg_flags} the kernel returned ({@link UringConstants#MSG_TRUNC}, ...). */
    int msgFlags() {
        return memory.getIntLE(MSG_FLAGS);
    }

    /**
     * The segment size from the UDP_GRO control message, or 0 when there is none (the datagram was not
     * coalesced, or UDP_GRO is off).
     */
    int segmentSize() {
        long controlLength = memory.getLongLE(MSG_CONTROLLEN);
        return ControlMessages.udpGroSegmentSize(memory, CONTROL_OFFSET,
                (int) Math.min(Math.max(controlLength, 0), CONTROL_SIZE));
    }

    /**
     * The sender the kernel wrote into the {@code sockaddr_storage}, or {@code null} when it is neither
     * {@code sockaddr_in} nor {@code sockaddr_in6}. Returns the previous instance when the address repeats.
     */
    InetSocketAddress sender() {
        return senders.parse(memory, SOCKADDR_OFFSET, memory.getIntLE(MSG_NAMELEN));
    }

    /** Releases the memory; call only when no operation that uses it is in flight. */
    void release() {
        memory.release();
    }
}
