package dev.nettyoffload.examples.tunnel;

import io.netty.channel.unix.RawUnixChannelOption;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A classic BPF socket filter for the tunnel's UDP socket that drops every datagram whose UDP checksum field is
 * zero, IPv4's "no checksum" (RFC 768), which the kernel accepts without verifying anything. With it, every
 * datagram the endpoint reads had its checksum verified by the kernel (or a NIC), which is what lets the
 * receiver trust inner packets left partial ({@link InnerChecksums}); IPv6 drops zero checksums already. Our
 * sender never sends a zero checksum, so only other senders' datagrams are lost.
 * <p>
 * A socket filter of a UDP socket sees the datagram from its UDP header on ({@code udp_queue_rcv_one_skb}
 * runs it before the header is pulled), so the checksum is the half-word at offset 6. A {@code UDP_GRO} batch is
 * filtered once, by its first datagram's header; GRO merges only datagrams of one flow (the same addresses and
 * ports), that is of the peer's socket. Set through Netty's {@link RawUnixChannelOption} (epoll).
 */
final class ZeroChecksumFilter {
    /** {@code SOL_SOCKET}, {@code SO_ATTACH_FILTER} (asm-generic/socket.h), {@code sizeof(struct sock_fprog)}. */
    static final RawUnixChannelOption SO_ATTACH_FILTER = new RawUnixChannelOption("SO_ATTACH_FILTER", 1, 26, 16);

    // Opcodes of linux/filter.h.
    private static final int BPF_LD_H_ABS = 0x28;
    private static final int BPF_JMP_JEQ_K = 0x15;
    private static final int BPF_RET_K = 0x06;
    /** The UDP checksum field, from the start of the UDP header. */
    private static final int UDP_CHECKSUM_OFFSET = 6;
    private static final int INSTRUCTIONS = 4;

    private ZeroChecksumFilter() {
    }

    /**
     * The program: {@link Program#fprog()} is the {@code struct sock_fprog} value for {@link #SO_ATTACH_FILTER}.
     * It holds only the address of {@link Program#code()}: keep the Program reachable until the
     * {@code setsockopt} returned (the kernel copies the instructions).
     */
    static Program program() {
        ByteBuffer code = ByteBuffer.allocateDirect(INSTRUCTIONS * 8).order(ByteOrder.nativeOrder());
        instruction(code, BPF_LD_H_ABS, 0, 0, UDP_CHECKSUM_OFFSET);
        // Zero: fall through to "drop"; otherwise skip it.
        instruction(code, BPF_JMP_JEQ_K, 0, 1, 0);
        instruction(code, BPF_RET_K, 0, 0, 0);
        instruction(code, BPF_RET_K, 0, 0, -1);
        // ofBuffer starts the segment at the position.
        code.flip();
        ByteBuffer fprog = ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder());
        fprog.putShort(0, (short) INSTRUCTIONS);
        fprog.putLong(8, MemorySegment.ofBuffer(code).address());
        return new Program(fprog, code);
    }

    /** A {@code struct sock_fprog} and the instructions it points at. */
    record Program(ByteBuffer fprog, ByteBuffer code) {
    }

    private static void instruction(ByteBuffer b, int code, int jt, int jf, int k) {
        b.putShort((short) code).put((byte) jt).put((byte) jf).putInt(k);
    }
}
