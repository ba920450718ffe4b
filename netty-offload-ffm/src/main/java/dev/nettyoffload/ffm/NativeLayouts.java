package dev.nettyoffload.ffm;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The C structures {@link Syscalls} passes to the kernel, as laid out on 64-bit Linux (LP64: pointers and
 * {@code size_t} are 8 bytes), with the byte offsets of the fields this project reads and writes.
 * <p>
 * Sources: {@code struct msghdr} and {@code struct cmsghdr} from glibc's {@code bits/socket.h}, {@code struct
 * iovec} from {@code bits/types/struct_iovec.h}, {@code struct sockaddr_in6} from {@code netinet/in.h}.
 */
public final class NativeLayouts {
    /** {@code struct iovec}: one buffer of a scatter/gather list, 16 bytes. */
    public static final StructLayout IOVEC = MemoryLayout.structLayout(
            ADDRESS.withName("iov_base"),
            JAVA_LONG.withName("iov_len"));
    public static final long IOV_BASE = IOVEC.byteOffset(groupElement("iov_base"));
    public static final long IOV_LEN = IOVEC.byteOffset(groupElement("iov_len"));

    /** {@code struct msghdr}: the argument of {@code recvmsg}/{@code sendmsg}, 56 bytes. */
    public static final StructLayout MSGHDR = MemoryLayout.structLayout(
            ADDRESS.withName("msg_name"),
            JAVA_INT.withName("msg_namelen"),
            MemoryLayout.paddingLayout(4),
            ADDRESS.withName("msg_iov"),
            JAVA_LONG.withName("msg_iovlen"),
            ADDRESS.withName("msg_control"),
            JAVA_LONG.withName("msg_controllen"),
            JAVA_INT.withName("msg_flags"),
            MemoryLayout.paddingLayout(4));
    public static final long MSG_NAME = MSGHDR.byteOffset(groupElement("msg_name"));
    public static final long MSG_NAMELEN = MSGHDR.byteOffset(groupElement("msg_namelen"));
    public static final long MSG_IOV = MSGHDR.byteOffset(groupElement("msg_iov"));
    public static final long MSG_IOVLEN = MSGHDR.byteOffset(groupElement("msg_iovlen"));
    public static final long MSG_CONTROL = MSGHDR.byteOffset(groupElement("msg_control"));
    public static final long MSG_CONTROLLEN = MSGHDR.byteOffset(groupElement("msg_controllen"));
    public static final long MSG_FLAGS = MSGHDR.byteOffset(groupElement("msg_flags"));

    /** {@code struct cmsghdr}: the header of one control message; its data starts {@link #CMSG_DATA} bytes in. */
    public static final StructLayout CMSGHDR = MemoryLayout.structLayout(
            JAVA_LONG.withName("cmsg_len"),
            JAVA_INT.withName("cmsg_level"),
            JAVA_INT.withName("cmsg_type"));
    public static final long CMSG_LEN = CMSGHDR.byteOffset(groupElement("cmsg_len"));
    public static final long CMSG_LEVEL = CMSGHDR.byteOffset(groupElement("cmsg_level"));
    public static final long CMSG_TYPE = CMSGHDR.byteOffset(groupElement("cmsg_type"));
    /** {@code CMSG_DATA(cmsg) - cmsg}: the header rounded up to {@code size_t} alignment. */
    public static final long CMSG_DATA = cmsgAlign(CMSGHDR.byteSize());

    /** {@code struct sockaddr_storage}: room for any socket address, 128 bytes. */
    public static final long SOCKADDR_STORAGE_SIZE = 128;
    /** {@code sa_family} is the first field of every socket address. */
    public static final long SA_FAMILY = 0;
    /** {@code sin_port}/{@code sin6_port}, in network byte order. */
    public static final long SIN_PORT = JAVA_SHORT.byteSize();
    /** {@code sin_addr}: the 4-byte IPv4 address. */
    public static final long SIN_ADDR = 4;
    /** {@code sin6_addr}: the 16-byte IPv6 address, after the 4-byte {@code sin6_flowinfo}. */
    public static final long SIN6_ADDR = 8;
    /** {@code sin6_scope_id}, after the address. */
    public static final long SIN6_SCOPE_ID = 24;

    /** {@code AF_INET}, from {@code include/linux/socket.h}. */
    public static final int AF_INET = 2;
    /** {@code AF_INET6}, from {@code include/linux/socket.h}. */
    public static final int AF_INET6 = 10;
    /** {@code SOL_UDP} (= {@code IPPROTO_UDP}), the level of UDP's socket options and control messages. */
    public static final int SOL_UDP = 17;
    /** {@code UDP_SEGMENT}, from {@code include/uapi/linux/udp.h}: the send-side segment size. */
    public static final int UDP_SEGMENT = 103;
    /** {@code UDP_GRO}, from {@code include/uapi/linux/udp.h}: the receive-side {@code gso_size}, an int. */
    public static final int UDP_GRO = 104;

    private NativeLayouts() {
    }

    /** {@code CMSG_ALIGN(len)}: rounds up to the alignment of {@code size_t} (8). */
    public static long cmsgAlign(long len) {
        return (len + JAVA_LONG.byteSize() - 1) & -JAVA_LONG.byteSize();
    }

    /** {@code CMSG_SPACE(dataLength)}: the room one control message with that much data takes. */
    public static long cmsgSpace(long dataLength) {
        return CMSG_DATA + cmsgAlign(dataLength);
    }
}
