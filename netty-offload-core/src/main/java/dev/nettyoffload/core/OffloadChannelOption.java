package dev.nettyoffload.core;

import io.netty.channel.ChannelOption;
import io.netty.channel.unix.IntegerUnixChannelOption;
import io.netty.channel.unix.RawUnixChannelOption;

/**
 * Socket options this project sets that Netty does not declare, for epoll and io_uring channels (as
 * {@code EpollChannelOption} does for epoll). Options Netty already has are used from Netty:
 * {@code EpollChannelOption.UDP_GRO}, {@code EpollChannelOption.TCP_NOTSENT_LOWAT},
 * {@code IoUringChannelOption.TCP_NOTSENT_LOWAT}.
 */
public final class OffloadChannelOption {
    /** SOL_SOCKET ({@code include/uapi/asm-generic/socket.h}). */
    public static final int SOL_SOCKET = 1;
    /** SOL_UDP, the UDP protocol number ({@code include/uapi/linux/in.h}). */
    public static final int SOL_UDP = 17;
    /** SO_MAX_PACING_RATE ({@code include/uapi/asm-generic/socket.h}; Linux 3.13). */
    public static final int SO_MAX_PACING_RATE_OPTNAME = 47;
    /** UDP_SEGMENT ({@code include/uapi/linux/udp.h}; Linux 4.18). */
    public static final int UDP_SEGMENT_OPTNAME = 103;
    /** UDP_GRO ({@code include/uapi/linux/udp.h}; Linux 5.0). */
    public static final int UDP_GRO_OPTNAME = 104;

    /**
     * The socket's pacing cap in bytes per second, 32-bit form ({@code 0xFFFFFFFF} = unlimited). Rates above
     * 4 GB/s need {@link #SO_MAX_PACING_RATE_U64}; {@link SocketPacing} picks the form for you.
     */
    public static final ChannelOption<Integer> SO_MAX_PACING_RATE = new IntegerUnixChannelOption(
            OffloadChannelOption.class.getName() + "#SO_MAX_PACING_RATE", SOL_SOCKET, SO_MAX_PACING_RATE_OPTNAME);
    /** The 64-bit form of {@link #SO_MAX_PACING_RATE} (an 8-byte native-order value; 64-bit kernels). */
    public static final RawUnixChannelOption SO_MAX_PACING_RATE_U64 = new RawUnixChannelOption(
            OffloadChannelOption.class.getName() + "#SO_MAX_PACING_RATE_U64", SOL_SOCKET, SO_MAX_PACING_RATE_OPTNAME,
            Long.BYTES);
    /**
     * A socket-wide segment size: every send larger than it is cut by the kernel (UDP_SEGMENT on the socket rather
     * than per send). 0 turns it off.
     */
    public static final ChannelOption<Integer> UDP_SEGMENT = new IntegerUnixChannelOption(
            OffloadChannelOption.class.getName() + "#UDP_SEGMENT", SOL_UDP, UDP_SEGMENT_OPTNAME);
    /**
     * Kernel receive coalescing for the socket (1 on, 0 off), for io_uring, whose channel has no such option;
     * on epoll use {@code EpollChannelOption.UDP_GRO}.
     */
    public static final ChannelOption<Integer> UDP_GRO = new IntegerUnixChannelOption(
            OffloadChannelOption.class.getName() + "#UDP_GRO", SOL_UDP, UDP_GRO_OPTNAME);

    private OffloadChannelOption() {
    }
}
