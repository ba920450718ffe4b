package dev.nettyoffload.gso;

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
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GsoEncoder hands {@link GsoPacket}s to the packet segmenter and its segments down in wire order. */
class GsoEncoderPacketTest {

    @Test
    void tcpv4PacketLeavesAsTheSegmentsANicWouldSend() {
        TestPacket spec = new TestPacket();
        byte[] payload = GsoEncoderSocketTest.pattern(10_000, 5);
        TestPacket.Built big = spec.build(payload, spec.original());
        GsoEncoder encoder = new GsoEncoder();
        EmbeddedChannel ch = new EmbeddedChannel(encoder);
        ByteBuf in = Unpooled.wrappedBuffer(big.bytes);
        ChannelFuture f = ch.writeOneOutbound(new GsoPacket(in, GsoType.TCPV4, 1448));
        ch.flushOutbound();
        assertTrue(f.isSuccess(), String.valueOf(f.cause()));
        List<ByteBuf> out = new ArrayList<>();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            out.add((ByteBuf) o);
        }
        try {
            int count = (payload.length + 1447) / 1448;
            assertEquals(count, out.size());
            for (int i = 0; i < count; i++) {
                int from = i * 1448;
                byte[] part = java.util.Arrays.copyOfRange(payload, from, Math.min(payload.length, from + 1448));
                byte[] want = spec.build(part, spec.segment(i, count, 1448, false, false)).bytes;
                assertArrayEquals(want, ByteBufUtil.getBytes(out.get(i)), "segment " + i);
            }
        } finally {
            out.forEach(ByteBuf::release);
        }
        assertEquals(1, encoder.counters().packets());
        assertEquals(7, encoder.counters().packetSegments());
        assertEquals(0, in.refCnt());
        assertFalse(ch.finish());
    }

    @Test
    void unsegmentablePacketFailsThePromiseAndIsReleased() {
        GsoEncoder encoder = new GsoEncoder(GsoConfig.newBuilder()
                .packetConfig(PacketSegmenterConfig.newBuilder().linkType(LinkType.RAW_IP).build()).build());
        EmbeddedChannel ch = new EmbeddedChannel(encoder);
        ByteBuf garbage = Unpooled.wrappedBuffer(new byte[] {0x45, 0, 0, 3});
        ChannelFuture f = ch.writeOneOutbound(new GsoPacket(garbage, GsoType.TCPV4, 1000));
        ch.flushOutbound();
        assertInstanceOf(PacketOffloadException.class, f.cause());
        assertEquals(0, garbage.refCnt());
        assertEquals(1, encoder.counters().invalid());
        assertFalse(ch.finish());
    }
}
