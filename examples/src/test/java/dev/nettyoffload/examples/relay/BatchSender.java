package dev.nettyoffload.examples.relay;

import dev.nettyoffload.core.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.unix.SegmentedDatagramPacket;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * Test sender (run in a namespace or in-process): ROUNDS USO writes of SEGMENTS x SIZE bytes of
 * {@link #patternAt} to HOST:PORT, PAUSE_MILLIS apart; prints {@code SENT BYTES}.
 * Usage: {@code BatchSender HOST PORT SIZE SEGMENTS ROUNDS PAUSE_MILLIS}
 */
public final class BatchSender {
    private BatchSender() {
    }

    static byte patternAt(long i) {
        return (byte) (i * 13 + (i >>> 9));
    }

    static byte[] pattern(int length) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = patternAt(i);
        }
        return b;
    }

    static long send(InetSocketAddress to, int size, int segments, int rounds, long pauseMillis) throws Exception {
        Transport t = Transport.best();
        EventLoopGroup group = t.newEventLoopGroup(1);
        try {
            Channel ch = new Bootstrap().group(group).channel(t.datagramChannelClass())
                    .handler(new ChannelInboundHandlerAdapter())
                    .bind(new InetSocketAddress(0)).sync().channel();
            long offset = 0;
            for (int r = 0; r < rounds; r++) {
                byte[] bytes = new byte[size * segments];
                for (int i = 0; i < bytes.length; i++) {
                    bytes[i] = patternAt(offset + i);
                }
                ByteBuf payload = Unpooled.directBuffer(bytes.length).writeBytes(bytes);
                offset += size * segments;
                ch.writeAndFlush(new SegmentedDatagramPacket(payload, size, to)).sync();
                Thread.sleep(pauseMillis);
            }
            ch.close().sync();
            return offset;
        } finally {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).sync();
        }
    }

    public static void main(String[] args) throws Exception {
        long sent = send(new InetSocketAddress(InetAddress.getByName(args[0]), Integer.parseInt(args[1])),
                Integer.parseInt(args[2]), Integer.parseInt(args[3]), Integer.parseInt(args[4]),
                Long.parseLong(args[5]));
        System.out.println("SENT " + sent);
    }
}
