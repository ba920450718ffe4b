package dev.nettyoffload.tun;

import java.util.EnumSet;
import java.util.Set;

/**
 * The offloads a TUN device can take from the kernel, the {@code TUN_F_*} flags of {@code TUNSETOFFLOAD}
 * ({@code include/uapi/linux/if_tun.h}). With them the kernel hands the reader packets whose checksum is not yet
 * computed ({@link #CSUM}) and TCP/UDP super-packets up to 64 KiB ({@link #TSO4}, {@link #TSO6}, {@link #USO4},
 * {@link #USO6}); the segmentation offloads need {@link #CSUM}.
 */
public enum TunOffload {
    /** {@code TUN_F_CSUM}: checksum offload (packets may arrive with {@code VIRTIO_NET_HDR_F_NEEDS_CSUM}). */
    CSUM(0x01),
    /** {@code TUN_F_TSO4}: TCP over IPv4 super-packets. */
    TSO4(0x02),
    /** {@code TUN_F_TSO6}: TCP over IPv6 super-packets. */
    TSO6(0x04),
    /** {@code TUN_F_USO4}: UDP over IPv4 super-packets (Linux 6.2+). */
    USO4(0x20),
    /** {@code TUN_F_USO6}: UDP over IPv6 super-packets (Linux 6.2+). */
    USO6(0x40);

    private final int flag;

    TunOffload(int flag) {
        this.flag = flag;
    }

    /** The {@code TUN_F_*} bit. */
    public int flag() {
        return flag;
    }

    /** Every offload: the default request of a {@link TunChannel}. */
    public static Set<TunOffload> all() {
        return EnumSet.allOf(TunOffload.class);
    }

    /** The {@code TUN_F_*} bits of {@code offloads}. */
    static int flags(Set<TunOffload> offloads) {
        int flags = 0;
        for (TunOffload o : offloads) {
            flags |= o.flag;
        }
        return flags;
    }

    /** The offloads whose bits are in {@code flags}. */
    static Set<TunOffload> of(int flags) {
        Set<TunOffload> set = EnumSet.noneOf(TunOffload.class);
        for (TunOffload o : values()) {
            if ((flags & o.flag) != 0) {
                set.add(o);
            }
        }
        return set;
    }
}
