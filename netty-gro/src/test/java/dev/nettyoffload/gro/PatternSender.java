package dev.nettyoffload.gro;

import dev.nettyoffload.core.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * A test sender to run inside a network namespace: sends ROUNDS rounds of PER_ROUND datagrams of SIZE bytes
 * plus one of TAIL bytes, carrying {@link GroLoopbackTest#patternAt} of their stream offset, either as one
 * USO write per round ({@code uso}) or as plain datagrams flushed together ({@code plain}), pausing
 * PAUSE_MILLIS between rounds. Prints {@code SENT BYTES} at the end.
 * <p>
 * Usage: {@code PatternSender uso|plain HOST PORT SIZE PER_ROUND TAIL ROUNDS PAUSE_MILLIS}
 */
public final class PatternSender {
    private PatternSender() {
    }

    public static void main(String[] args) throws Exception {
        boolean uso = args[0].equals("uso");
        InetSocketAddress to = new InetSocketAddress(InetAddress.getByName(args[1]), Integer.parseInt(args[2]));
        int size = Integer.parseInt(args[3]);
        int perRound = Integer.parseInt(args[4]);
        int tail = Integer.parseInt(args[5]);
        int rounds = Integer.parseInt(args[6]);
        long pause = Long.parseLong(args[7]);
        Transport t = Transport.best();
        EventLoopGroup group = t.newEventLoopGroup(1);
        try {
            Channel ch = new Bootstrap().group(group).channel(t.datagramChannelClass())
                    .handler(new ChannelInboundHandlerAdapter())
                    .bind(new InetSocketAddress(0)).sync().channel();
            long offset = 0;
            for (int r = 0; r < rounds; r++) {
                int roundBytes = perRound * size + tail;
                ByteBuf payload = Unpooled.directBuffer(roundBytes).writeBytes(GroLoopbackTest.pattern(offset, roundBytes));
                offset += roundBytes;
                if (uso) {
                    ch.writeAndFlush(new SegmentedDatagramPacket(payload, size, to)).sync();
                } else {
                    while (payload.isReadable()) {
                        ch.write(new DatagramPacket(payload.readRetainedSlice(Math.min(size, payload.readableBytes())),
                                to));
                    }
                    payload.release();
                    ch.flush();
                }
                Thread.sleep(pause);
            }
            ch.close().sync();
            System.out.println("SENT " + offset);
        } finally {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).sync();
        }
    }
}
