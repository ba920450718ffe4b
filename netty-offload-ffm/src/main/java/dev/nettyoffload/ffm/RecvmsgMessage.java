package dev.nettyoffload.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteOrder;

import static dev.nettyoffload.ffm.NativeLayouts.AF_INET;
import static dev.nettyoffload.ffm.NativeLayouts.AF_INET6;
import static dev.nettyoffload.ffm.NativeLayouts.CMSG_DATA;
import static dev.nettyoffload.ffm.NativeLayouts.CMSG_LEN;
import static dev.nettyoffload.ffm.NativeLayouts.CMSG_LEVEL;
import static dev.nettyoffload.ffm.NativeLayouts.CMSG_TYPE;
import static dev.nettyoffload.ffm.NativeLayouts.IOV_BASE;
import static dev.nettyoffload.ffm.NativeLayouts.IOV_LEN;
import static dev.nettyoffload.ffm.NativeLayouts.MSG_CONTROL;
import static dev.nettyoffload.ffm.NativeLayouts.MSG_CONTROLLEN;
import static dev.nettyoffload.ffm.NativeLayouts.MSG_FLAGS;
import static dev.nettyoffload.ffm.NativeLayouts.MSG_IOV;
import static dev.nettyoffload.ffm.NativeLayouts.MSG_IOVLEN;
import static dev.nettyoffload.ffm.NativeLayouts.MSG_NAME;
import static dev.nettyoffload.ffm.NativeLayouts.MSG_NAMELEN;
import static dev.nettyoffload.ffm.NativeLayouts.SA_FAMILY;
import static dev.nettyoffload.ffm.NativeLayouts.SIN6_ADDR;
import static dev.nettyoffload.ffm.NativeLayouts.SIN6_SCOPE_ID;
import static dev.nettyoffload.ffm.NativeLayouts.SIN_ADDR;
import static dev.nettyoffload.ffm.NativeLayouts.SIN_PORT;
import static dev.nettyoffload.ffm.NativeLayouts.SOCKADDR_STORAGE_SIZE;
import static dev.nettyoffload.ffm.NativeLayouts.SOL_UDP;
import static dev.nettyoffload.ffm.NativeLayouts.UDP_GRO;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The native memory of {@link EpollBatchReader}'s {@code recvmsg} calls, and the reading of what the kernel
 * wrote into it: one segment, allocated once per reader, holding the {@code msghdr}, its single {@code iovec},
 * the sender's {@code sockaddr}, a copy of the previous sender's, and the control messages. The pointers between
 * them are written once; {@link #reset()} restores the lengths the kernel overwrites on every call.
 * Used on the reader's event loop only.
 */
final class RecvmsgMessage {
    private static final long IOVEC_OFFSET = NativeLayouts.MSGHDR.byteSize();
    private static final long NAME_OFFSET = IOVEC_OFFSET + NativeLayouts.IOVEC.byteSize();
    /** The last sender's address, to build a new {@link InetSocketAddress} only when the sender changes. */
    private static final long LAST_NAME_OFFSET = NAME_OFFSET + SOCKADDR_STORAGE_SIZE;
    private static final long CONTROL_OFFSET = LAST_NAME_OFFSET + SOCKADDR_STORAGE_SIZE;
    /** Room for the UDP_GRO int and a few other messages (timestamps) a user may have turned on. */
    private static final long CONTROL_SIZE = 128;
    private static final long AREA_SIZE = CONTROL_OFFSET + CONTROL_SIZE;

    private static final int SOCKADDR_IN_SIZE = 16;
    private static final int SOCKADDR_IN6_SIZE = 28;
    /** Ports are in network byte order. */
    private static final ValueLayout.OfShort PORT = JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN);

    private final Arena arena;
    private final MemorySegment msg;
    private InetSocketAddress lastSender;
    private int lastNameLength;

    RecvmsgMessage() {
        arena = Arena.ofShared();
        try {
            msg = arena.allocate(AREA_SIZE, JAVA_LONG.byteSize());
        } catch (Throwable t) {
            arena.close();
            throw t;
        }
        msg.set(JAVA_LONG, MSG_NAME, msg.address() + NAME_OFFSET);
        msg.set(JAVA_LONG, MSG_IOV, msg.address() + IOVEC_OFFSET);
        msg.set(JAVA_LONG, MSG_IOVLEN, 1);
        msg.set(JAVA_LONG, MSG_CONTROL, msg.address() + CONTROL_OFFSET);
    }

    /** The {@code msghdr} to pass to {@code recvmsg}. */
    MemorySegment msghdr() {
        return msg;
    }

    /** Points the iovec at the receive buffer's memory. */
    void receiveInto(long address, int size) {
        msg.set(JAVA_LONG, IOVEC_OFFSET + IOV_BASE, address);
        msg.set(JAVA_LONG, IOVEC_OFFSET + IOV_LEN, size);
    }

    /** Restores the name and control lengths and clears the flags, all of which the last call overwrote. */
    void reset() {
        msg.set(JAVA_INT, MSG_NAMELEN, (int) SOCKADDR_STORAGE_SIZE);
        msg.set(JAVA_LONG, MSG_CONTROLLEN, CONTROL_SIZE);
        msg.set(JAVA_INT, MSG_FLAGS, 0);
    }

    /** The {@code msg_flags} of the last read ({@code MSG_TRUNC}, {@code MSG_CTRUNC}). */
    int flags() {
        return msg.get(JAVA_INT, MSG_FLAGS);
    }

    /** The gso_size of a UDP_GRO control message, or 0 when the read carries none. */
    int segmentSize() {
        long controlLength = msg.get(JAVA_LONG, MSG_CONTROLLEN);
        long offset = 0;
        while (offset + CMSG_DATA <= controlLength) {
            long base = CONTROL_OFFSET + offset;
            long cmsgLength = msg.get(JAVA_LONG, base + CMSG_LEN);
            if (cmsgLength < CMSG_DATA || offset + cmsgLength > controlLength) {
                break;
            }
            if (msg.get(JAVA_INT, base + CMSG_LEVEL) == SOL_UDP && msg.get(JAVA_INT, base + CMSG_TYPE) == UDP_GRO
                    && cmsgLength >= CMSG_DATA + JAVA_INT.byteSize()) {
                return msg.get(JAVA_INT, base + CMSG_DATA);
            }
            offset += NativeLayouts.cmsgAlign(cmsgLength);
        }
        return 0;
    }

    /** The sender of the last read; the previous object when its address bytes are unchanged. */
    InetSocketAddress sender() {
        int nameLength = msg.get(JAVA_INT, MSG_NAMELEN);
        if (nameLength == lastNameLength && lastSender != null && MemorySegment.mismatch(
                msg, NAME_OFFSET, NAME_OFFSET + nameLength, msg, LAST_NAME_OFFSET, LAST_NAME_OFFSET + nameLength) < 0) {
            return lastSender;
        }
        InetSocketAddress sender = decode(nameLength);
        if (sender != null) {
            MemorySegment.copy(msg, NAME_OFFSET, msg, LAST_NAME_OFFSET, nameLength);
            lastNameLength = nameLength;
            lastSender = sender;
        }
        return sender;
    }

    private InetSocketAddress decode(int nameLength) {
        if (nameLength < JAVA_SHORT.byteSize()) {
            return null;
        }
        int family = msg.get(JAVA_SHORT, NAME_OFFSET + SA_FAMILY);
        int port = Short.toUnsignedInt(msg.get(PORT, NAME_OFFSET + SIN_PORT));
        try {
            if (family == AF_INET && nameLength >= SOCKADDR_IN_SIZE) {
                byte[] address = msg.asSlice(NAME_OFFSET + SIN_ADDR, 4).toArray(JAVA_BYTE);
                return new InetSocketAddress(InetAddress.getByAddress(address), port);
            }
            if (family == AF_INET6 && nameLength >= SOCKADDR_IN6_SIZE) {
                byte[] address = msg.asSlice(NAME_OFFSET + SIN6_ADDR, 16).toArray(JAVA_BYTE);
                int scope = msg.get(JAVA_INT, NAME_OFFSET + SIN6_SCOPE_ID);
                InetAddress inet = scope == 0
                        ? InetAddress.getByAddress(address)
                        : Inet6Address.getByAddress(null, address, scope);
                return new InetSocketAddress(inet, port);
            }
        } catch (UnknownHostException e) {
            // Only thrown for an address of the wrong length, which the checks above exclude.
            throw new IllegalStateException(e);
        }
        return null;
    }

    /** Frees the memory; the reader must not call {@code recvmsg} with it afterwards. */
    void close() {
        arena.close();
    }
}
