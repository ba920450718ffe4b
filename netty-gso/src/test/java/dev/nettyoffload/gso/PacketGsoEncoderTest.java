package dev.nettyoffload.gso;

import dev.nettyoffload.core.Errno;
import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.GsoType;
import dev.nettyoffload.core.packet.LinkType;
import dev.nettyoffload.core.packet.PacketOffloadException;
import dev.nettyoffload.testkit.TestPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PacketGsoEncoder hands {@link GsoPacket}s to the packet segmenter and its segments down in wire order. */
class PacketGsoEncoderTest {
    private static final int MSS = 1448;

    private static byte[] payload() {
        return GsoEncoderSocketTest.pattern(10_000, 5);
    }

    private static void assertWireSegments(TestPacket spec, byte[] payload, List<ByteBuf> out) {
        int count = (payload.length + MSS - 1) / MSS;
        assertEquals(count, out.size());
        for (int i = 0; i < count; i++) {
            int from = i * MSS;
            byte[] part = Arrays.copyOfRange(payload, from, Math.min(payload.length, from + MSS));
            byte[] want = spec.build(part, spec.segment(i, count, MSS, false, false)).bytes;
            assertArrayEquals(want, ByteBufUtil.getBytes(out.get(i)), "segment " + i);
        }
    }

    @Test
    void tcpv4PacketLeavesAsTheSegmentsANicWouldSend() {
        TestPacket spec = new TestPacket();
        byte[] payload = payload();
        PacketGsoEncoder encoder = new PacketGsoEncoder();
        // Placed after GsoEncoder, as the javadoc asks: the segments pass through it untouched.
        EmbeddedChannel ch = new EmbeddedChannel(new GsoEncoder(), encoder);
        ByteBuf in = Unpooled.wrappedBuffer(spec.build(payload, spec.original()).bytes);
        ChannelFuture f = ch.writeOneOutbound(new GsoPacket(in, GsoType.TCPV4, MSS));
        ch.flushOutbound();
        assertTrue(f.isSuccess(), String.valueOf(f.cause()));
        List<ByteBuf> out = new ArrayList<>();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            out.add((ByteBuf) o);
        }
        try {
            assertWireSegments(spec, payload, out);
        } finally {
            out.forEach(ByteBuf::release);
        }
        assertEquals(1, encoder.counters().packets());
        assertEquals(7, encoder.counters().segments());
        assertEquals("PacketGsoCounters(packets=1, segments=7, invalid=0)", encoder.counters().snapshot().toString());
        assertEquals(0, in.refCnt());
        assertFalse(ch.finish());
    }

    @Test
    void unsegmentablePacketFailsThePromiseAndIsReleased() {
        PacketGsoEncoder encoder = new PacketGsoEncoder(PacketSegmenterConfig.newBuilder()
                .linkType(LinkType.RAW_IP).build());
        EmbeddedChannel ch = new EmbeddedChannel(encoder);
        ByteBuf garbage = Unpooled.wrappedBuffer(new byte[] {0x45, 0, 0, 3});
        ChannelFuture f = ch.writeOneOutbound(new GsoPacket(garbage, GsoType.TCPV4, 1000));
        ch.flushOutbound();
        assertInstanceOf(PacketOffloadException.class, f.cause());
        assertEquals(0, garbage.refCnt());
        assertEquals(1, encoder.counters().invalid());
        assertEquals(0, encoder.counters().packets());
        assertFalse(ch.finish());
    }

    /**
     * A packet whose content was released before the write fails its promise with a message that says so, not
     * with Netty's bare "refCnt: 0, decrement: 1" from a second release.
     */
    @Test
    void releasedPacketFailsThePromiseWithAClearMessage() {
        PacketGsoEncoder encoder = new PacketGsoEncoder();
        EmbeddedChannel ch = new EmbeddedChannel(encoder);
        TestPacket spec = new TestPacket();
        GsoPacket packet = new GsoPacket(Unpooled.wrappedBuffer(spec.build(payload(), spec.original()).bytes),
                GsoType.TCPV4, MSS);
        packet.release();
        ChannelFuture f = ch.writeOneOutbound(packet);
        ch.flushOutbound();
        PacketOffloadException e = assertInstanceOf(PacketOffloadException.class, f.cause());
        assertEquals("GsoPacket(TCPV4, segmentSize 1448, INCREMENTING, segmentCount 0, content released, refCnt 0): "
                + "the content was already released", e.getMessage());
        assertEquals(0, e.getSuppressed().length);
        assertEquals(1, encoder.counters().invalid());
        assertEquals(0, packet.refCnt());
        assertFalse(ch.finish());
    }

    @Test
    void otherMessagesPassThroughUntouched() {
        EmbeddedChannel ch = new EmbeddedChannel(new PacketGsoEncoder());
        ByteBuf plain = Unpooled.wrappedBuffer(new byte[] {1, 2, 3});
        assertTrue(ch.writeOutbound(plain));
        ByteBuf read = ch.readOutbound();
        assertSame(plain, read);
        read.release();
        assertFalse(ch.finish());
    }

    @Test
    void segmentsWaitBehindAnUnconfirmedKernelSendAndKeepTheirOrder() {
        TestPacket spec = new TestPacket();
        byte[] payload = payload();
        GsoEncoderTest.DeferredKernel kernel = new GsoEncoderTest.DeferredKernel(Errno.EINVAL);
        GsoEncoder datagrams = new GsoEncoder(GsoConfig.newBuilder().segmentSize(1000).mode(GsoMode.KERNEL).build());
        EmbeddedChannel ch = new EmbeddedChannel(kernel, datagrams, new PacketGsoEncoder());
        ByteBuf first = GsoEncoderTest.sequence(5000);
        ChannelFuture f1 = ch.write(new DatagramPacket(first, new InetSocketAddress("127.0.0.1", 9999)));
        ChannelFuture f2 = ch.write(new GsoPacket(Unpooled.wrappedBuffer(spec.build(payload, spec.original()).bytes),
                GsoType.TCPV4, MSS));
        assertTrue(ch.outboundMessages().isEmpty(), "the segments wait in GsoEncoder for the first send's outcome");
        ch.flush();
        assertTrue(f1.isSuccess() && f2.isSuccess(), f1.cause() + " " + f2.cause());
        List<ByteBuf> segments = new ArrayList<>();
        try {
            for (int i = 0; i < 5; i++) {
                DatagramPacket d = assertInstanceOf(DatagramPacket.class, ch.readOutbound(), "datagram " + i);
                assertEquals(1000, d.content().readableBytes());
                d.release();
            }
            for (Object o; (o = ch.readOutbound()) != null; ) {
                segments.add(assertInstanceOf(ByteBuf.class, o));
            }
            assertWireSegments(spec, payload, segments);
        } finally {
            segments.forEach(ByteBuf::release);
        }
        assertEquals(1, datagrams.counters().fallbacks());
        assertEquals(0, first.refCnt());
        assertFalse(ch.finish());
    }

    @Test
    void configIsChecked() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new PacketGsoEncoder(null));
        assertEquals("config: null", e.getMessage());
        assertSame(PacketSegmenterConfig.DEFAULT, new PacketGsoEncoder().config());
    }
}
