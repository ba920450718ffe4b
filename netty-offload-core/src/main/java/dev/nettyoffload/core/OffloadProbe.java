package dev.nettyoffload.core;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.Errors;
import io.netty.channel.unix.SegmentedDatagramPacket;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Probes UDP_SEGMENT and UDP_GRO the only reliable way: by using them on loopback.
 * <p>
 * A kernel that lacks UDP_SEGMENT or limits it to 64 segments refuses a larger send with EINVAL
 * ({@code udp_send_skb}), so the probe sends {@value UdpLimits#MODERN_MAX_SEGMENTS} tiny segments, then
 * {@value UdpLimits#LEGACY_MAX_SEGMENTS}, and checks that the receiver got every datagram.
 */
final class OffloadProbe {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(OffloadProbe.class);
    private static final int PROBE_SEGMENT_SIZE = 8;
    private static final long TIMEOUT_MILLIS = 2000;

    private OffloadProbe() {
    }

    static OffloadCapabilities run() {
        Map<Transport, String> problems = new EnumMap<>(Transport.class);
        for (Transport t : Transport.values()) {
            Throwable cause = t.unavailabilityCause();
            if (cause != null) {
                problems.put(t, describe(cause));
            }
        }
        Transport nativeTransport = !problems.containsKey(Transport.EPOLL) ? Transport.EPOLL
                : !problems.containsKey(Transport.IO_URING) ? Transport.IO_URING : null;

        int maxSegments = 0;
        String segmentProblem;
        boolean groSupported = false;
        String groProblem;
        if (nativeTransport == null) {
            segmentProblem = "no native transport (epoll or io_uring) is available";
            groProblem = segmentProblem;
        } else {
            EventLoopGroup group = nativeTransport.newEventLoopGroup(1);
            try {
                String problem = null;
                for (int segments : new int[] {UdpLimits.MODERN_MAX_SEGMENTS, UdpLimits.LEGACY_MAX_SEGMENTS}) {
                    problem = trySegmentedSend(group, nativeTransport, segments);
                    if (problem == null) {
                        maxSegments = segments;
                        break;
                    }
                }
                segmentProblem = maxSegments > 0 ? null : problem;
                if (nativeTransport == Transport.EPOLL) {
                    groProblem = tryUdpGro(group);
                    groSupported = groProblem == null;
                } else {
                    groProblem = "Netty has no UDP_GRO receive path on " + nativeTransport.displayName();
                }
            } finally {
                group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).syncUninterruptibly();
            }
        }
        return new OffloadCapabilities(kernelRelease(), problems, maxSegments, segmentProblem,
                groSupported, groProblem);
    }

    /** Returns {@code null} when a send of {@code segments} segments arrived whole, else what went wrong. */
    private static String trySegmentedSend(EventLoopGroup group, Transport transport, int segments) {
        if (!transport.isSegmentedDatagramPacketSupported()) {
            return "Netty's " + transport.displayName() + " transport does not implement UDP_SEGMENT sends here";
        }
        CountDownLatch received = new CountDownLatch(segments);
        Channel receiver = null;
        Channel sender = null;
        try {
            InetAddress loopback = InetAddress.getLoopbackAddress();
            receiver = new Bootstrap().group(group).channel(transport.datagramChannelClass())
                    .handler(new SimpleChannelInboundHandler<DatagramPacket>() {
                        @Override
                        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket msg) {
                            if (msg.content().readableBytes() == PROBE_SEGMENT_SIZE) {
                                received.countDown();
                            }
                        }
                    })
                    .bind(new InetSocketAddress(loopback, 0)).sync().channel();
            sender = new Bootstrap().group(group).channel(transport.datagramChannelClass())
                    .handler(new io.netty.channel.ChannelInboundHandlerAdapter())
                    .bind(new InetSocketAddress(loopback, 0)).sync().channel();
            byte[] payload = new byte[segments * PROBE_SEGMENT_SIZE];
            ChannelFuture write = sender.writeAndFlush(new SegmentedDatagramPacket(
                    Unpooled.wrappedBuffer(payload), PROBE_SEGMENT_SIZE,
                    (InetSocketAddress) receiver.localAddress()));
            if (!write.await(TIMEOUT_MILLIS)) {
                return "a segmented send did not complete within " + TIMEOUT_MILLIS + " ms";
            }
            if (!write.isSuccess()) {
                return "the kernel refused a send of " + segments + " segments: " + describe(write.cause());
            }
            if (!received.await(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)) {
                return "a send of " + segments + " segments arrived as " + (segments - received.getCount())
                        + " datagrams";
            }
            return null;
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            logger.debug("UDP_SEGMENT probe failed", e);
            return "probe failed: " + describe(e);
        } finally {
            close(sender);
            close(receiver);
        }
    }

    private static String tryUdpGro(EventLoopGroup group) {
        Channel ch = null;
        try {
            ch = new Bootstrap().group(group).channel(Transport.EPOLL.datagramChannelClass())
                    .handler(new io.netty.channel.ChannelInboundHandlerAdapter())
                    .option(EpollChannelOption.UDP_GRO, true)
                    .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
            return Boolean.TRUE.equals(ch.config().getOption(EpollChannelOption.UDP_GRO))
                    ? null : "the kernel did not keep UDP_GRO enabled on a socket";
        } catch (Exception e) {
            logger.debug("UDP_GRO probe failed", e);
            return "setsockopt(UDP_GRO) failed: " + describe(e);
        } finally {
            close(ch);
        }
    }

    private static void close(Channel ch) {
        if (ch != null) {
            ch.close().awaitUninterruptibly(TIMEOUT_MILLIS);
        }
    }

    static String describe(Throwable t) {
        if (t instanceof Errors.NativeIoException) {
            return Errno.name(-((Errors.NativeIoException) t).expectedErr()) + " (" + t.getMessage() + ")";
        }
        String message = t.getMessage();
        return message == null ? t.getClass().getSimpleName() : t.getClass().getSimpleName() + ": " + message;
    }

    private static String kernelRelease() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/osrelease"), StandardCharsets.US_ASCII).trim();
        } catch (IOException | RuntimeException e) {
            return System.getProperty("os.name") + " " + System.getProperty("os.version");
        }
    }
}
