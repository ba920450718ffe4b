package dev.nettyoffload.gso;

import dev.nettyoffload.core.SocketPacing;
import dev.nettyoffload.core.Transport;
import dev.nettyoffload.testkit.Prerequisites;
import dev.nettyoffload.testkit.UdpSink;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GsoEncoderPacingTest {
    private static final InetSocketAddress V4 = new InetSocketAddress("127.0.0.1", 9999);

    @Test
    void sendsLeaveNoFasterThanTheRate() {
        // 1 MB/s: one 1000-byte datagram per millisecond; a 1 ms bucket.
        GsoEncoder encoder = new GsoEncoder(GsoConfig.newBuilder().segmentSize(1000).mode(GsoMode.KERNEL)
                .pacingRate(1_000_000).build());
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.freezeTime();
        ch.pipeline().addLast(encoder);
        ByteBuf payload = GsoEncoderTest.sequence(66_000);
        ChannelFuture write = ch.writeAndFlush(new DatagramPacket(payload, V4));
        int sent = ch.outboundMessages().size();
        assertTrue(sent <= 2, "at once: the bucket (1000 B) plus one overdraw, got " + sent);
        for (int ms = 10; ms <= 60; ms += 10) {
            ch.advanceTimeBy(10, TimeUnit.MILLISECONDS);
            ch.runScheduledPendingTasks();
            sent = ch.outboundMessages().size();
            // After t ms at most 2 + t datagrams may have left; pacing must not starve either.
            assertTrue(sent <= 2 + ms && sent >= ms - 1, "after " + ms + " ms: " + sent);
        }
        assertFalse(write.isDone(), "66 datagrams take 64 ms or more");
        ch.advanceTimeBy(10, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertTrue(write.isSuccess());
        List<DatagramPacket> out = GsoEncoderTest.readAll(ch);
        try {
            assertEquals(66, out.size());
            for (DatagramPacket p : out) {
                assertFalse(p instanceof SegmentedDatagramPacket, "at 1 MB/s a send carries one segment");
            }
            GsoEncoderTest.assertConcatenationEquals(payload, out);
        } finally {
            GsoEncoderTest.releaseAll(out);
        }
        assertTrue(encoder.counters().pacedSends() > 60, encoder.counters().toString());
        assertFalse(ch.finish());
    }

    @Test
    void kernelSendsCarryAboutAMillisecondOfData() {
        // 100 MB/s: 100 KB per millisecond, so sends of min(128, 100_000 / 1000) = 100 segments; 65493-byte cap.
        // At 20 MB/s: 20 segments per send.
        GsoEncoder encoder = new GsoEncoder(GsoConfig.newBuilder().segmentSize(1000).mode(GsoMode.KERNEL)
                .pacingRate(20_000_000).build());
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.freezeTime();
        ch.pipeline().addLast(encoder);
        ch.writeAndFlush(new DatagramPacket(GsoEncoderTest.sequence(60_000), V4));
        ch.advanceTimeBy(1, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
        List<DatagramPacket> out = GsoEncoderTest.readAll(ch);
        try {
            assertEquals(3, out.size(), GsoEncoderTest.describe(out));
            for (DatagramPacket p : out) {
                assertInstanceOf(SegmentedDatagramPacket.class, p);
                assertEquals(20_000, p.content().readableBytes());
            }
        } finally {
            GsoEncoderTest.releaseAll(out);
        }
        assertFalse(ch.finish());
    }

    @Test
    void closeReleasesWhatThePacerHolds() {
        GsoEncoder encoder = new GsoEncoder(GsoConfig.newBuilder().segmentSize(1000).mode(GsoMode.SOFTWARE)
                .pacingRate(1000).build());
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.freezeTime();
        ch.pipeline().addLast(encoder);
        ByteBuf payload = GsoEncoderTest.sequence(50_000);
        ch.writeAndFlush(new DatagramPacket(payload, V4));
        ch.close();
        ch.finishAndReleaseAll();
        assertEquals(0, payload.refCnt());
    }

    @Test
    void pacingRateIsChecked() {
        assertThrows(IllegalArgumentException.class, () -> GsoConfig.newBuilder().pacingRate(-1));
        assertEquals(0, GsoConfig.DEFAULT.pacingRate());
        assertTrue(GsoConfig.newBuilder().pacingRate(5).build().toString().contains("pacingRate=5 B/s"));
    }

    /**
     * A 1 MB stream at 5 MB/s over real loopback sockets takes about 200 ms; only the lower bound is checked
     * (a busy machine makes it slower, never faster), and the receiver must get every byte.
     */
    @ParameterizedTest
    @EnumSource(value = Transport.class, names = {"EPOLL", "IO_URING", "NIO"})
    void aMegabyteAtFiveMegabytesPerSecondTakesAFifthOfASecond(Transport transport) throws Exception {
        Prerequisites.requireTransport(transport.displayName(), transport.unavailabilityCause());
        long rate = 5_000_000;
        int writes = 16;
        int writeSize = 65_536;
        EventLoopGroup group = transport.newEventLoopGroup(1);
        try (UdpSink sink = new UdpSink(new InetSocketAddress("127.0.0.1", 0))) {
            GsoEncoder encoder = new GsoEncoder(GsoConfig.newBuilder().segmentSize(1316).pacingRate(rate).build());
            Channel ch = new Bootstrap().group(group).channel(transport.datagramChannelClass()).handler(encoder)
                    .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
            if (transport != Transport.NIO) {
                assertEquals(rate, SocketPacing.maxPacingRate(ch), "SO_MAX_PACING_RATE");
            }
            byte[] bytes = GsoEncoderSocketTest.pattern(writes * writeSize, 3);
            long start = System.nanoTime();
            ChannelFuture last = null;
            for (int i = 0; i < writes; i++) {
                last = ch.writeAndFlush(new DatagramPacket(
                        Unpooled.directBuffer(writeSize).writeBytes(bytes, i * writeSize, writeSize),
                        sink.localAddress()));
            }
            assertTrue(last.await(10, TimeUnit.SECONDS) && last.isSuccess(), String.valueOf(last.cause()));
            long millis = (System.nanoTime() - start) / 1_000_000;
            UdpSink.Summary got = sink.receive(300, 10_000);
            ch.close().sync();
            long expectedMillis = (long) writes * writeSize * 1000 / rate; // 209 ms
            assertTrue(millis >= expectedMillis * 3 / 4, "took " + millis + " ms, expected about " + expectedMillis);
            assertEquals(UdpSink.sha256Hex(bytes), got.sha256, "bytes arrived in order");
            assertTrue(encoder.counters().pacedSends() > 0);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
