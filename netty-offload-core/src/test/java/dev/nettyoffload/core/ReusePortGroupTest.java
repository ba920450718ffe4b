package dev.nettyoffload.core;

import dev.nettyoffload.testkit.Prerequisites;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link ReusePortGroup} on loopback: one port, one channel per loop, flows spread and none lost. */
class ReusePortGroupTest {
    private static final int SENDERS = 16;
    private static final int PER_SENDER = 20;

    @ParameterizedTest
    @EnumSource(Transport.class)
    void flowsSpreadAcrossTheChannelsOfOnePort(Transport transport) throws Exception {
        Prerequisites.requireTransport(transport.displayName(), transport.unavailabilityCause());
        EventLoopGroup group = transport.newEventLoopGroup(2);
        Map<Channel, AtomicLong> counts = new ConcurrentHashMap<>();
        ChannelHandler counter = new Counter(counts);
        Bootstrap b = new Bootstrap().group(group).channel(transport.datagramChannelClass()).handler(counter);
        DatagramChannelTuning.apply(b, transport);
        List<java.nio.channels.DatagramChannel> senders = new ArrayList<>();
        try (ReusePortGroup rp = ReusePortGroup.bind(b, transport, new InetSocketAddress("127.0.0.1", 0), 2)) {
            assertEquals(2, rp.channels().size());
            Channel a = rp.channels().get(0);
            Channel c = rp.channels().get(1);
            assertNotSame(a.eventLoop(), c.eventLoop(), "one channel per event loop");
            assertEquals(a.localAddress(), c.localAddress());
            for (Channel ch : rp.channels()) {
                DatagramReaders.whenStarted(ch).await(5, TimeUnit.SECONDS);
            }
            // 16 flows (source ports): the kernel's hash leaves all on one socket with probability 2^-15.
            for (int s = 0; s < SENDERS; s++) {
                java.nio.channels.DatagramChannel tx = java.nio.channels.DatagramChannel.open();
                senders.add(tx);
                tx.bind(new InetSocketAddress("127.0.0.1", 0));
                for (int i = 0; i < PER_SENDER; i++) {
                    tx.send(ByteBuffer.allocate(100), rp.localAddress());
                }
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (total(counts) < SENDERS * PER_SENDER && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(SENDERS * PER_SENDER, total(counts), counts.toString());
            Set<Channel> used = new HashSet<>(counts.keySet());
            assertEquals(2, used.size(), "flows on both channels: " + counts);
        } finally {
            for (java.nio.channels.DatagramChannel tx : senders) {
                tx.close();
            }
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).sync();
        }
    }

    @ParameterizedTest
    @EnumSource(value = Transport.class, names = "NIO")
    void rejectsBadCounts(Transport transport) {
        Bootstrap b = new Bootstrap();
        assertThrows(IllegalArgumentException.class,
                () -> ReusePortGroup.bind(b, transport, new InetSocketAddress(0), 0));
        assertThrows(IllegalArgumentException.class,
                () -> ReusePortGroup.bind(b, transport, new InetSocketAddress(0), 1));
    }

    private static long total(Map<Channel, AtomicLong> counts) {
        long n = 0;
        for (AtomicLong c : counts.values()) {
            n += c.get();
        }
        return n;
    }

    @ChannelHandler.Sharable
    private static final class Counter extends ChannelInboundHandlerAdapter {
        private final Map<Channel, AtomicLong> counts;

        Counter(Map<Channel, AtomicLong> counts) {
            this.counts = counts;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof DatagramPacket) {
                    counts.computeIfAbsent(ctx.channel(), k -> new AtomicLong())
                            .addAndGet(SegmentedDatagramSplitter.segmentCount((DatagramPacket) msg));
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }
    }
}
