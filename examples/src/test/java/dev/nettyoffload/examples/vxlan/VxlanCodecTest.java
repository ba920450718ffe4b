package dev.nettyoffload.examples.vxlan;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class VxlanCodecTest {
    private static final InetSocketAddress LOCAL = new InetSocketAddress("127.0.0.1", 4789);
    private static final InetSocketAddress PEER = new InetSocketAddress("127.0.0.2", 40123);

    private static byte[] frame(int length) {
        byte[] f = new byte[length];
        for (int i = 0; i < length; i++) {
            f[i] = (byte) (i * 7 + 3);
        }
        f[0] = 0x02; // unicast destination MAC
        return f;
    }

    private static DatagramPacket datagram(int flags, int vni, byte[] frame) {
        ByteBuf b = Unpooled.buffer();
        b.writeByte(flags).writeMedium(0).writeMedium(vni).writeByte(0).writeBytes(frame);
        return new DatagramPacket(b, LOCAL, PEER);
    }

    @Test
    void decodesFrameVniAndSender() {
        VxlanDecoder decoder = new VxlanDecoder(100);
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        byte[] f = frame(60);
        DatagramPacket in = datagram(0x08, 100, f);
        ch.writeInbound(in);
        VxlanFrame out = ch.readInbound();
        try {
            assertEquals(100, out.vni());
            assertEquals(PEER, out.remote());
            assertArrayEquals(f, ByteBufUtil.getBytes(out.content()));
        } finally {
            out.release();
        }
        assertEquals(0, in.refCnt());
        assertEquals(1, decoder.framesOut());
        assertFalse(ch.finish());
    }

    @Test
    void badDatagramsAreCountedDroppedAndReleased() {
        VxlanDecoder decoder = new VxlanDecoder(100);
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        DatagramPacket tooShort = datagram(0x08, 100, new byte[13]);
        DatagramPacket headerOnly = new DatagramPacket(Unpooled.wrappedBuffer(new byte[] {8, 0, 0}), LOCAL, PEER);
        DatagramPacket noFlag = datagram(0x00, 100, frame(60));
        DatagramPacket otherVni = datagram(0x08, 101, frame(60));
        DatagramPacket empty = new DatagramPacket(Unpooled.buffer(0), LOCAL, PEER);
        for (DatagramPacket p : new DatagramPacket[] {tooShort, headerOnly, noFlag, otherVni, empty}) {
            ch.writeInbound(p);
            assertEquals(0, p.refCnt());
        }
        assertNull(ch.readInbound());
        assertEquals(3, decoder.drops(VxlanDropReason.SHORT));
        assertEquals(1, decoder.drops(VxlanDropReason.NO_VNI_FLAG));
        assertEquals(1, decoder.drops(VxlanDropReason.UNKNOWN_VNI));
        assertEquals(0, decoder.framesOut());
        // still usable after garbage
        ch.writeInbound(datagram(0x08, 100, frame(64)));
        VxlanFrame ok = ch.readInbound();
        assertEquals(64, ok.content().readableBytes());
        ok.release();
        assertFalse(ch.finish());
    }

    @Test
    void anyVniAcceptsAllAndReservedBitsAreIgnored() {
        EmbeddedChannel ch = new EmbeddedChannel(new VxlanDecoder());
        ch.writeInbound(datagram(0x08 | 0x80, VxlanFrame.MAX_VNI, frame(20)));
        VxlanFrame out = ch.readInbound();
        assertEquals(VxlanFrame.MAX_VNI, out.vni());
        out.release();
        assertFalse(ch.finish());
    }

    @Test
    void encodeThenDecodeGivesTheFrameBack() {
        EmbeddedChannel encoder = new EmbeddedChannel(VxlanEncoder.INSTANCE);
        byte[] f = frame(100);
        VxlanFrame frame = new VxlanFrame(Unpooled.wrappedBuffer(f), 4242, PEER);
        encoder.writeOutbound(frame);
        DatagramPacket dp = encoder.readOutbound();
        assertEquals(PEER, dp.recipient());
        ByteBuf content = dp.content();
        assertEquals(8 + 100, content.readableBytes());
        assertEquals(0x08000000, content.getInt(content.readerIndex()));
        assertEquals(4242 << 8, content.getInt(content.readerIndex() + 4));

        EmbeddedChannel decoder = new EmbeddedChannel(new VxlanDecoder(4242));
        decoder.writeInbound(new DatagramPacket(content, LOCAL, PEER));
        VxlanFrame back = decoder.readInbound();
        assertArrayEquals(f, ByteBufUtil.getBytes(back.content()));
        back.release();
        assertEquals(0, frame.refCnt());
        assertFalse(encoder.finish());
        assertFalse(decoder.finish());
    }

    @Test
    void invalidArgumentsNameTheParameter() {
        assertThrows(IllegalArgumentException.class, () -> new VxlanDecoder(1 << 24));
        ByteBuf b = Unpooled.buffer(1);
        try {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new VxlanFrame(b, -1, PEER));
            assertEquals("vni: -1 (expected: 0-16777215)", e.getMessage());
        } finally {
            b.release();
        }
    }
}
