package dev.nettyoffload.testkit;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Sends a byte stream of {@link #patternAt} as UDP datagrams over epoll, in rounds: each round is PER_ROUND
 * datagrams of SIZE bytes plus one of TAIL bytes (none when 0), sent as one USO write ({@link Mode#USO}) or as
 * plain datagrams flushed together ({@link Mode#PLAIN}), with PAUSE_MILLIS between rounds. A receiver checks
 * order and loss by comparing what it got with {@link #pattern}{@code (0, total)}.
 * <p>
 * Runs in the caller's JVM ({@link #send}) or as a process, for example in a {@link NetNs}, where it prints
 * {@code SENT BYTES} at the end. Usage: {@code PatternSender uso|plain HOST PORT SIZE PER_ROUND TAIL ROUNDS
 * PAUSE_MILLIS}
 */
public final class PatternSender {
    /** How each round leaves the socket. */
    public enum Mode {
        /** One {@link SegmentedDatagramPacket} per round: the kernel cuts it (or the NIC does). */
        USO,
        /** One datagram per segment, written and then flushed together. */
        PLAIN
    }

    private PatternSender() {
    }

    /** The byte at stream offset {@code i}: it depends on the position, so reordering or loss shows. */
    public static byte patternAt(long i) {
        return (byte) (i * 31 + (i >>> 8) * 7);
    }

    /**
     * {@code length} bytes of the stream from offset {@code from}. Callers copy them into a buffer with one bulk
     * write: paranoid leak detection records every single-byte access.
     */
    public static byte[] pattern(long from, int length) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = patternAt(from + i);
        }
        return bytes;
    }

    /** Sends {@code rounds} rounds to {@code to} and returns the number of payload bytes sent. */
    public static long send(Mode mode, InetSocketAddress to, int size, int perRound, int tail, int rounds,
                            long pauseMillis) throws InterruptedException {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            Channel ch = new Bootstrap().group(group).channel(EpollDatagramChannel.class)
                    .handler(new ChannelInboundHandlerAdapter())
                    .bind(new InetSocketAddress(0)).sync().channel();
            int roundBytes = perRound * size + tail;
            long offset = 0;
            for (int r = 0; r < rounds; r++) {
                ByteBuf payload = Unpooled.directBuffer(roundBytes).writeBytes(pattern(offset, roundBytes));
                offset += roundBytes;
                if (mode == Mode.USO) {
                    ch.writeAndFlush(new SegmentedDatagramPacket(payload, size, to)).sync();
                } else {
                    while (payload.isReadable()) {
                        ByteBuf datagram = payload.readRetainedSlice(Math.min(size, payload.readableBytes()));
                        ch.write(new DatagramPacket(datagram, to));
                    }
                    payload.release();
                    ch.flush();
                }
                Thread.sleep(pauseMillis);
            }
            ch.close().sync();
            return offset;
        } finally {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).sync();
        }
    }

    public static void main(String[] args) throws Exception {
        Mode mode = Mode.valueOf(args[0].toUpperCase(Locale.ROOT));
        InetSocketAddress to = new InetSocketAddress(InetAddress.getByName(args[1]), Integer.parseInt(args[2]));
        long sent = send(mode, to, Integer.parseInt(args[3]), Integer.parseInt(args[4]), Integer.parseInt(args[5]),
                Integer.parseInt(args[6]), Long.parseLong(args[7]));
        System.out.println("SENT " + sent);
    }
}
