package dev.nettyoffload.core.uring;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The struct layout, written here the way the kernel writes it, and read back. */
class RecvMsgMemoryTest {
    private ByteBuf buf;
    private RecvMsgMemory memory;

    @BeforeEach
    void setUp() {
        assumeTrue(RecvMsgMemory.isLayoutSupported(), "64-bit little-endian Linux");
        buf = PooledByteBufAllocator.DEFAULT.directBuffer(RecvMsgMemory.SIZE);
        assumeTrue(buf.hasMemoryAddress(), "direct buffers with a memory address");
        memory = new RecvMsgMemory(buf);
    }

    @AfterEach
    void tearDown() {
        if (memory != null) {
            memory.release();
        }
    }

    @Test
    void pointersAndLengthsAreWhereTheKernelLooks() {
        long base = buf.memoryAddress();
        memory.prepare(0x1234_5678_9000L, 65536);
        assertEquals(56, RecvMsgMemory.MSGHDR_SIZE);
        assertEquals(base, memory.msghdrAddress());
        assertEquals(base + 72, buf.getLongLE(0), "msg_name -> sockaddr_storage");
        assertEquals(128, buf.getIntLE(8), "msg_namelen");
        assertEquals(base + 56, buf.getLongLE(16), "msg_iov");
        assertEquals(1, buf.getLongLE(24), "msg_iovlen");
        assertEquals(base + 200, buf.getLongLE(32), "msg_control");
        assertEquals(128, buf.getLongLE(40), "msg_controllen");
        assertEquals(0, buf.getIntLE(48), "msg_flags");
        assertEquals(0x1234_5678_9000L, buf.getLongLE(56), "iov_base");
        assertEquals(65536, buf.getLongLE(64), "iov_len");
        assertEquals(0, (base + RecvMsgMemory.CONTROL_OFFSET) % 8, "cmsghdr alignment");
    }

    @Test
    void segmentSizeFromTheUdpGroControlMessage() {
        memory.prepare(0, 1);
        assertEquals(0, memory.segmentSize(), "no control message");
        // A 32-byte IP_PKTINFO-like message first, then UDP_GRO.
        int off = cmsg(RecvMsgMemory.CONTROL_OFFSET, 28, 0, 8);
        off = cmsg(off, 20, UringConstants.SOL_UDP, UringConstants.UDP_GRO);
        buf.setIntLE(off - 8, 1448);
        buf.setLongLE(RecvMsgMemory.MSG_CONTROLLEN, off - RecvMsgMemory.CONTROL_OFFSET - 4);
        assertEquals(1448, memory.segmentSize());
    }

    @Test
    void cutOrMalformedControlMessagesGiveNoSegmentSize() {
        memory.prepare(0, 1);
        int off = cmsg(RecvMsgMemory.CONTROL_OFFSET, 20, UringConstants.SOL_UDP, UringConstants.UDP_GRO);
        buf.setIntLE(off - 8, 1200);
        buf.setLongLE(RecvMsgMemory.MSG_CONTROLLEN, 16); // MSG_CTRUNC: the data did not fit
        assertEquals(0, memory.segmentSize());
        buf.setLongLE(RecvMsgMemory.MSG_CONTROLLEN, 24);
        buf.setLongLE(RecvMsgMemory.CONTROL_OFFSET, 8); // cmsg_len below sizeof(cmsghdr)
        assertEquals(0, memory.segmentSize());
        buf.setLongLE(RecvMsgMemory.CONTROL_OFFSET, 1L << 40);
        assertEquals(0, memory.segmentSize());
    }

    @Test
    void ipv4Sender() throws Exception {
        memory.prepare(0, 1);
        sockaddrIn(InetAddress.getByName("192.0.2.7"), 40000);
        InetSocketAddress sender = memory.sender();
        assertEquals(new InetSocketAddress("192.0.2.7", 40000), sender);
        assertSame(sender, memory.sender(), "a repeated sender is reused");
        sockaddrIn(InetAddress.getByName("192.0.2.7"), 40001);
        assertEquals(40001, memory.sender().getPort());
    }

    @Test
    void ipv6SenderWithScopeAndMappedIpv4() throws Exception {
        memory.prepare(0, 1);
        byte[] linkLocal = InetAddress.getByName("fe80::1").getAddress();
        sockaddrIn6(linkLocal, 443, 3);
        InetSocketAddress sender = memory.sender();
        Inet6Address a = assertInstanceOf(Inet6Address.class, sender.getAddress());
        assertEquals(3, a.getScopeId());
        assertEquals(443, sender.getPort());

        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xFF;
        mapped[11] = (byte) 0xFF;
        mapped[12] = 127;
        mapped[15] = 1;
        sockaddrIn6(mapped, 9, 0);
        sender = memory.sender();
        assertInstanceOf(Inet4Address.class, sender.getAddress(), "a dual-stack socket's IPv4 sender");
        assertEquals(new InetSocketAddress("127.0.0.1", 9), sender);
    }

    @Test
    void unknownFamilyHasNoSender() {
        memory.prepare(0, 1);
        buf.setShortLE(RecvMsgMemory.SOCKADDR_OFFSET, 1); // AF_UNIX
        assertNull(memory.sender());
        buf.setShortLE(RecvMsgMemory.SOCKADDR_OFFSET, UringConstants.AF_INET6);
        buf.setIntLE(RecvMsgMemory.MSG_NAMELEN, 16); // too short for sockaddr_in6
        assertNull(memory.sender());
    }

    @Test
    void flags() {
        memory.prepare(0, 1);
        buf.setIntLE(RecvMsgMemory.MSG_FLAGS, UringConstants.MSG_TRUNC);
        assertTrue((memory.msgFlags() & UringConstants.MSG_TRUNC) != 0);
        memory.prepare(0, 1);
        assertEquals(0, memory.msgFlags());
    }

    /** Writes a cmsghdr with {@code length} = cmsg_len at {@code off}; returns the next aligned offset. */
    private int cmsg(int off, int length, int level, int type) {
        buf.setLongLE(off, length);
        buf.setIntLE(off + 8, level);
        buf.setIntLE(off + 12, type);
        return off + ((length + 7) & ~7);
    }

    private void sockaddrIn(InetAddress address, int port) {
        buf.setShortLE(RecvMsgMemory.SOCKADDR_OFFSET, UringConstants.AF_INET);
        buf.setShort(RecvMsgMemory.SOCKADDR_OFFSET + 2, port);
        buf.setBytes(RecvMsgMemory.SOCKADDR_OFFSET + 4, address.getAddress());
        buf.setIntLE(RecvMsgMemory.MSG_NAMELEN, 16);
    }

    private void sockaddrIn6(byte[] address, int port, int scope) {
        buf.setShortLE(RecvMsgMemory.SOCKADDR_OFFSET, UringConstants.AF_INET6);
        buf.setShort(RecvMsgMemory.SOCKADDR_OFFSET + 2, port);
        buf.setIntLE(RecvMsgMemory.SOCKADDR_OFFSET + 4, 0);
        buf.setBytes(RecvMsgMemory.SOCKADDR_OFFSET + 8, address);
        buf.setIntLE(RecvMsgMemory.SOCKADDR_OFFSET + 24, scope);
        buf.setIntLE(RecvMsgMemory.MSG_NAMELEN, 28);
    }
}
