package dev.nettyoffload.tun;

import dev.nettyoffload.core.Errno;
import dev.nettyoffload.ffm.Syscalls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The system calls that create and configure a TUN device: {@code open("/dev/net/tun")}, the {@code TUNSET*}
 * ioctls of {@code include/uapi/linux/if_tun.h} and {@code SIOCSIFMTU} on a socket. Numbers are those of 64-bit
 * Linux ({@code _IOW('T', nr, int)} = {@code 0x400454xx}).
 */
final class TunDevice {
    /** {@code TUNSETIFF = _IOW('T', 202, int)}: attaches the descriptor to a (new) device. */
    static final long TUNSETIFF = 0x400454caL;
    /** {@code TUNSETOFFLOAD = _IOW('T', 208, unsigned int)}: the {@code TUN_F_*} flags, passed by value. */
    static final long TUNSETOFFLOAD = 0x400454d0L;
    /** {@code TUNSETVNETHDRSZ = _IOW('T', 216, int)}: the size of the header in front of each packet. */
    static final long TUNSETVNETHDRSZ = 0x400454d8L;
    /** {@code SIOCSIFMTU} ({@code include/uapi/linux/sockios.h}). */
    static final long SIOCSIFMTU = 0x8922;

    /** {@code IFF_TUN}: an IP-level device (no Ethernet header). */
    static final int IFF_TUN = 0x0001;
    /** {@code IFF_MULTI_QUEUE}: each descriptor attached to the device is one queue. */
    static final int IFF_MULTI_QUEUE = 0x0100;
    /** {@code IFF_NO_PI}: no 4-byte packet information in front of the packet. */
    static final int IFF_NO_PI = 0x1000;
    /** {@code IFF_VNET_HDR}: a {@code virtio_net_hdr} in front of every packet. */
    static final int IFF_VNET_HDR = 0x4000;

    /** {@code sizeof(struct ifreq)} on 64-bit Linux: a 16-byte name and a 24-byte union. */
    static final int IFREQ_SIZE = 40;
    /** {@code IFNAMSIZ}. */
    static final int IFNAMSIZ = 16;
    /** Offset of {@code ifr_flags} and {@code ifr_mtu} in the union. */
    static final int IFR_UNION = 16;

    private static final int AF_INET = 2;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_CLOEXEC = 0x80000;

    /** The segmentation offloads: dropped together when the kernel refuses the request. */
    private static final int SEGMENTATION = TunOffload.TSO4.flag() | TunOffload.TSO6.flag()
            | TunOffload.USO4.flag() | TunOffload.USO6.flag();
    private static final int USO = TunOffload.USO4.flag() | TunOffload.USO6.flag();

    private TunDevice() {
    }

    /**
     * Opens {@code /dev/net/tun} non-blocking and attaches it to the device {@code name} with {@code IFF_TUN |
     * IFF_NO_PI | IFF_VNET_HDR} (and {@code IFF_MULTI_QUEUE}); returns the descriptor and writes the device's
     * name (the kernel's pick for a {@code %d} pattern) into {@code nameOut[0]}.
     */
    static int open(String name, boolean multiQueue, int vnetHeaderSize, String[] nameOut) throws IOException {
        int fd = Syscalls.open("/dev/net/tun", Syscalls.O_RDWR | Syscalls.O_NONBLOCK | Syscalls.O_CLOEXEC, 0);
        if (fd < 0) {
            throw new IOException("open(/dev/net/tun) failed: errno " + -fd);
        }
        boolean success = false;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ifr = ifreq(arena, name);
            int flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR | (multiQueue ? IFF_MULTI_QUEUE : 0);
            ifr.set(JAVA_SHORT, IFR_UNION, (short) flags);
            int r = Syscalls.ioctl(fd, TUNSETIFF, ifr);
            if (r < 0) {
                throw new IOException("ioctl(TUNSETIFF, " + name + ") failed: errno " + -r);
            }
            nameOut[0] = ifr.getString(0, StandardCharsets.US_ASCII);
            MemorySegment size = arena.allocate(JAVA_INT);
            size.set(JAVA_INT, 0, vnetHeaderSize);
            r = Syscalls.ioctl(fd, TUNSETVNETHDRSZ, size);
            if (r < 0) {
                throw new IOException("ioctl(TUNSETVNETHDRSZ, " + vnetHeaderSize + ") failed: errno " + -r);
            }
            success = true;
            return fd;
        } finally {
            if (!success) {
                Syscalls.close(fd);
            }
        }
    }

    /**
     * Asks for the offloads {@code requested} ({@code TUN_F_*} bits) and returns the ones set. The kernel answers
     * {@code EINVAL} to any bit it does not know (USO before Linux 6.2, and USO4 without USO6): each refusal
     * steps down, first without USO, then without segmentation, then without checksum offload.
     */
    static int setOffload(int fd, int requested) throws IOException {
        int csum = TunOffload.CSUM.flag();
        // Segmentation needs checksum offload; the kernel ignores TSO bits without it (if_tun.h).
        int flags = (requested & csum) == 0 ? 0 : requested;
        if ((flags & USO) != USO) {
            // USO4 and USO6 are one device feature (NETIF_F_GSO_UDP_L4): tun.c refuses one without the other.
            flags &= ~USO;
        }
        int[] ladder = {flags, flags & ~USO, flags & ~SEGMENTATION, 0};
        int last = -1;
        int errno = 0;
        for (int attempt : ladder) {
            if (attempt == last) {
                continue;
            }
            last = attempt;
            int r = Syscalls.ioctl(fd, TUNSETOFFLOAD, (long) attempt);
            if (r == 0) {
                return attempt;
            }
            errno = -r;
            if (errno != Errno.EINVAL) {
                break;
            }
        }
        throw new IOException("ioctl(TUNSETOFFLOAD) failed: errno " + errno);
    }

    /** Sets the MTU of interface {@code name} with {@code SIOCSIFMTU} on a throwaway socket. */
    static void setMtu(String name, int mtu) throws IOException {
        int sock = Syscalls.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (sock < 0) {
            throw new IOException("socket(AF_INET) failed: errno " + -sock);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ifr = ifreq(arena, name);
            ifr.set(JAVA_INT, IFR_UNION, mtu);
            int r = Syscalls.ioctl(sock, SIOCSIFMTU, ifr);
            if (r < 0) {
                throw new IOException("ioctl(SIOCSIFMTU, " + name + ", " + mtu + ") failed: errno " + -r);
            }
        } finally {
            Syscalls.close(sock);
        }
    }

    private static MemorySegment ifreq(Arena arena, String name) {
        MemorySegment ifr = arena.allocate(IFREQ_SIZE, 8);
        byte[] bytes = name.getBytes(StandardCharsets.US_ASCII);
        if (bytes.length >= IFNAMSIZ) {
            throw new IllegalArgumentException("name: " + name + " (expected: at most " + (IFNAMSIZ - 1) + " bytes)");
        }
        MemorySegment.copy(bytes, 0, ifr, ValueLayout.JAVA_BYTE, 0, bytes.length);
        return ifr;
    }
}
