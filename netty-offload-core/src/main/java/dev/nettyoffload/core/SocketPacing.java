package dev.nettyoffload.core;

import io.netty.channel.Channel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Caps the rate at which the kernel sends a socket's packets (SO_MAX_PACING_RATE), for epoll and io_uring
 * channels, UDP or TCP.
 * <p>
 * The rate is in <b>bytes</b> per second. The fq qdisc enforces it for any socket
 * ({@code tc qdisc replace dev DEV root fq}); TCP also paces by itself without fq. Other qdiscs ignore it for
 * UDP. fq paces whole packets: a UDP_SEGMENT send is one packet for fq however many segments it has, so the
 * segments of one send still leave back to back. Keep each send to about a millisecond of data at the rate
 * ({@link #maxSegmentsPerSend}) so that a burst is spread, the way TCP sizes its TSO packets under pacing.
 * {@link dev.nettyoffload.core.linux.Qdisc#isFqAttached} tells whether a device has fq.
 * <p>
 * The kernel takes the option as a 32-bit value (bytes per second, {@code ~0U} meaning unlimited) or, on 64-bit
 * kernels, as a 64-bit one ({@code sock_setsockopt}); rates up to {@value #MAX_32_BIT_RATE} B/s use the
 * 32-bit form that every kernel since 3.13 accepts, larger ones the 64-bit form.
 */
public final class SocketPacing {
    /** The value meaning "no cap", as {@link #maxPacingRate(Channel)} returns it. */
    public static final long UNLIMITED = Long.MAX_VALUE;
    /** The largest rate the 32-bit form of the option expresses; {@code 0xFFFFFFFF} means unlimited. */
    public static final long MAX_32_BIT_RATE = 0xFFFF_FFFEL;
    /** How long one send may last at the paced rate, like TCP's {@code sk_pacing_shift} of 10 (~1 ms). */
    public static final long DEFAULT_SEND_NANOS = 1_000_000;


    private SocketPacing() {
    }

    /** Whether {@code channel}'s transport can set socket options by number (epoll and io_uring). */
    public static boolean isSupported(Channel channel) {
        return Transport.of(channel.getClass()) != Transport.NIO;
    }

    /**
     * Caps {@code channel}'s sending rate at {@code bytesPerSecond}, or removes the cap for {@link #UNLIMITED}.
     *
     * @throws IllegalArgumentException      when {@code bytesPerSecond} is not positive
     * @throws UnsupportedOperationException when the channel is not an epoll or io_uring channel
     * @throws io.netty.channel.ChannelException when the kernel rejects the option
     */
    public static void setMaxPacingRate(Channel channel, long bytesPerSecond) {
        if (bytesPerSecond <= 0) {
            throw new IllegalArgumentException("bytesPerSecond: " + bytesPerSecond + " (expected > 0)");
        }
        checkSupported(channel);
        if (bytesPerSecond == UNLIMITED) {
            channel.config().setOption(OffloadChannelOption.SO_MAX_PACING_RATE, -1); // ~0U: the kernel stores ~0UL
        } else if (bytesPerSecond <= MAX_32_BIT_RATE) {
            // The kernel reads the int as unsigned, so rates above 2^31 - 1 pass as negative ints.
            channel.config().setOption(OffloadChannelOption.SO_MAX_PACING_RATE, (int) bytesPerSecond);
        } else {
            ByteBuffer value = ByteBuffer.allocate(Long.BYTES).order(ByteOrder.nativeOrder());
            value.putLong(0, bytesPerSecond);
            channel.config().setOption(OffloadChannelOption.SO_MAX_PACING_RATE_U64, value);
        }
    }

    /** The current cap of {@code channel} in bytes per second, or {@link #UNLIMITED}. */
    public static long maxPacingRate(Channel channel) {
        checkSupported(channel);
        ByteBuffer value = channel.config().getOption(OffloadChannelOption.SO_MAX_PACING_RATE_U64).order(ByteOrder.nativeOrder());
        long rate = value.getLong(0);
        // ~0UL is "unlimited"; a 32-bit kernel answers ~0U in the first four bytes and leaves the rest zero.
        return rate == -1L || rate == 0xFFFF_FFFFL ? UNLIMITED : rate;
    }

    /**
     * How many segments of {@code segmentSize} bytes one UDP_SEGMENT send should carry at most so that it lasts
     * about {@link #DEFAULT_SEND_NANOS} at {@code bytesPerSecond}: at least 1, at most {@code maxSegments}.
     */
    public static int maxSegmentsPerSend(long bytesPerSecond, int segmentSize, int maxSegments) {
        if (segmentSize <= 0) {
            throw new IllegalArgumentException("segmentSize: " + segmentSize + " (expected > 0)");
        }
        if (maxSegments <= 0) {
            throw new IllegalArgumentException("maxSegments: " + maxSegments + " (expected > 0)");
        }
        if (bytesPerSecond <= 0 || bytesPerSecond == UNLIMITED) {
            return maxSegments;
        }
        long bytesPerSend = bytesPerSecond / (1_000_000_000L / DEFAULT_SEND_NANOS);
        long segments = bytesPerSend / segmentSize;
        return (int) Math.max(1, Math.min(maxSegments, segments));
    }

    private static void checkSupported(Channel channel) {
        if (!isSupported(channel)) {
            throw new UnsupportedOperationException("SO_MAX_PACING_RATE needs an epoll or io_uring channel, not "
                    + channel.getClass().getSimpleName());
        }
    }
}
