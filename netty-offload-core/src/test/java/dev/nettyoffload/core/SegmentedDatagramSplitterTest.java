package dev.nettyoffload.core;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

class SegmentedDatagramSplitterTest {
    private static final InetSocketAddress LOCAL = new InetSocketAddress("127.0.0.1", 4433);
    private static final InetSocketAddress PEER = new InetSocketAddress("127.0.0.2", 5000);

    private static ByteBuf pattern(int length) {
        ByteBuf buf = Unpooled.directBuffer(length);
        for (int i = 0; i < length; i++) {
            buf.writeByte(i * 7 + i / 251);
        }
        return buf;
    }

    @Test
    void batchBecomesRetainedSlicesOfOneBuffer() {
        EmbeddedChannel ch = new EmbeddedChannel(SegmentedDatagramSplitter.INSTANCE);
        ByteBuf content = pattern(3 * 1200 + 500);
        ByteBuf expected = content.copy();
        SegmentedDatagramPacket batch = new SegmentedDatagramPacket(content, 1200, LOCAL, PEER);
        ch.writeInbound(batch);
        int offset = 0;
        int[] lengths = {1200, 1200, 1200, 500};
        DatagramPacket[] out = new DatagramPacket[lengths.length];
        for (int i = 0; i < lengths.length; i++) {
            out[i] = ch.readInbound();
            assertFalse(out[i] instanceof SegmentedDatagramPacket);
            assertEquals(LOCAL, out[i].recipient());
            assertEquals(PEER, out[i].sender());
            assertEquals(lengths[i], out[i].content().readableBytes());
            assertEquals(expected.slice(offset, lengths[i]), out[i].content());
            // Zero copy: a slice of the batch's buffer, which each slice keeps alive.
            assertEquals(content.memoryAddress() + offset, out[i].content().memoryAddress());
            offset += lengths[i];
        }
        assertNull(ch.readInbound());
        // The batch's own reference is gone; each slice holds one.
        assertEquals(lengths.length, content.refCnt());
        for (int i = 0; i < out.length; i++) {
            out[i].release();
            assertEquals(lengths.length - 1 - i, content.refCnt());
        }
        expected.release();
        assertFalse(ch.finish());
    }

    @Test
    void exactMultipleAndReaderIndex() {
        EmbeddedChannel ch = new EmbeddedChannel(SegmentedDatagramSplitter.INSTANCE);
        ByteBuf content = pattern(16 + 2 * 100);
        content.skipBytes(16);
        ch.writeInbound(new SegmentedDatagramPacket(content, 100, LOCAL, PEER));
        DatagramPacket a = ch.readInbound();
        DatagramPacket b = ch.readInbound();
        assertNull(ch.readInbound());
        assertEquals(content.slice(16, 100), a.content());
        assertEquals(content.slice(116, 100), b.content());
        a.release();
        b.release();
        assertEquals(0, content.refCnt());
        assertFalse(ch.finish());
    }

    @Test
    void singleDatagramBatchBecomesPlainPacketWithSameBuffer() {
        EmbeddedChannel ch = new EmbeddedChannel(SegmentedDatagramSplitter.INSTANCE);
        ByteBuf content = pattern(800);
        ch.writeInbound(new SegmentedDatagramPacket(content, 1200, LOCAL, PEER));
        DatagramPacket p = ch.readInbound();
        assertFalse(p instanceof SegmentedDatagramPacket);
        assertSame(content, p.content());
        assertEquals(PEER, p.sender());
        p.release();
        assertEquals(0, content.refCnt());
        assertFalse(ch.finish());
    }

    @Test
    void otherMessagesPassUntouched() {
        EmbeddedChannel ch = new EmbeddedChannel(SegmentedDatagramSplitter.INSTANCE);
        DatagramPacket plain = new DatagramPacket(pattern(50), LOCAL, PEER);
        ch.writeInbound(plain, "text");
        assertSame(plain, ch.readInbound());
        assertEquals("text", ch.readInbound());
        plain.release();
        assertFalse(ch.finish());
    }

    @Test
    void segmentCount() {
        ByteBuf content = pattern(2500);
        SegmentedDatagramPacket batch = new SegmentedDatagramPacket(content, 1000, LOCAL, PEER);
        assertEquals(3, SegmentedDatagramSplitter.segmentCount(batch));
        assertEquals(1, SegmentedDatagramSplitter.segmentCount(new DatagramPacket(content, LOCAL, PEER)));
        assertNotSame(null, batch);
        batch.release();
    }
}
