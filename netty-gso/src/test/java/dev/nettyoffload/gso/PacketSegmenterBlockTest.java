package dev.nettyoffload.gso;

import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.GsoType;
import dev.nettyoffload.core.packet.Ipv4IdMode;
import dev.nettyoffload.core.packet.PacketOffloadException;
import dev.nettyoffload.core.packet.TunnelType;
import dev.nettyoffload.testkit.TestPacket;
import dev.nettyoffload.testkit.TestPacket.Tunnel;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link PacketSegmenter#segmentBlock}: slot {@code k} holds the headroom and then exactly the bytes of segment
 * {@code k} of {@link PacketSegmenter#segment}, slots back to back; errors release everything.
 */
class PacketSegmenterBlockTest {
    @Test
    void slotsHoldTheSameSegmentsAsTheList() {
        ByteBufAllocator[] allocators = {PooledByteBufAllocator.DEFAULT, new UnpooledByteBufAllocator(false)};
        int cases = 0;
        for (Tunnel tunnel : Tunnel.values()) {
            for (boolean v6 : new boolean[] {false, true}) {
                for (boolean tcp : new boolean[] {true, false}) {
                    for (ChecksumMode mode : ChecksumMode.values()) {
                        for (ByteBufAllocator alloc : allocators) {
                            for (int length : new int[] {1, 999, 1000, 7001}) {
                                for (int headroom : new int[] {0, 8, PacketSegmenter.MAX_HEADROOM}) {
                                    for (boolean heapInput : new boolean[] {false, true}) {
                                        compare(tunnel, v6, tcp, mode, alloc, length, headroom, heapInput);
                                        cases++;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        assertEquals(Tunnel.values().length * 384, cases);
    }

    private static void compare(Tunnel tunnel, boolean v6, boolean tcp, ChecksumMode mode, ByteBufAllocator alloc,
                                int length, int headroom, boolean heapInput) {
        String name = tunnel + (v6 ? " v6 " : " v4 ") + (tcp ? "TCP " : "UDP ") + mode + " " + length + " "
                + alloc.getClass().getSimpleName() + " headroom " + headroom + (heapInput ? " heap" : " direct");
        TestPacket spec = new TestPacket();
        spec.tunnel = tunnel;
        spec.v6 = v6;
        spec.tcp = tcp;
        byte[] bytes = spec.build(SegmentChecks.payload(length, 5), spec.original()).bytes;
        ByteBuf in = heapInput ? Unpooled.copiedBuffer(bytes) : SegmentChecks.input(bytes);
        GsoType type = !tcp ? GsoType.UDP_L4 : v6 ? GsoType.TCPV6 : GsoType.TCPV4;
        GsoPacket packet = new GsoPacket(in, type, TunnelType.valueOf(tunnel.name()), 1000, Ipv4IdMode.INCREMENTING,
                0);
        PacketSegmenter segmenter = new PacketSegmenter(PacketSegmenterConfig.newBuilder().checksumMode(mode).build());
        List<Object> list = new ArrayList<>();
        SegmentBlock block = null;
        try {
            int n = segmenter.segment(packet, alloc, list);
            block = segmenter.segmentBlock(packet, alloc, headroom);
            assertEquals(n, block.count(), name);
            assertEquals(headroom, block.headroom(), name);
            ByteBuf first = (ByteBuf) list.get(0);
            assertEquals(headroom + first.readableBytes(), block.stride(), name);
            ByteBuf content = block.content();
            int total = 0;
            for (int k = 0; k < n; k++) {
                ByteBuf segment = (ByteBuf) list.get(k);
                int at = block.slotIndex(k) + headroom;
                byte[] slot = new byte[segment.readableBytes()];
                content.getBytes(at, slot);
                assertArrayEquals(ByteBufUtil.getBytes(segment), slot, name + " slot " + k);
                total += headroom + segment.readableBytes();
            }
            assertEquals(total, content.readableBytes(), name + ": slots back to back, nothing after the last");
            assertEquals(1, content.refCnt(), name);
        } finally {
            list.forEach(o -> ((ByteBuf) o).release());
            if (block != null) {
                assertTrue(block.release(), name + ": one release frees the block");
            }
            packet.release();
        }
        assertEquals(0, in.refCnt(), name);
    }

    @Test
    void aUsoSendOfTheBlockCutsAtTheSlots() {
        TestPacket spec = new TestPacket();
        byte[] bytes = spec.build(SegmentChecks.payload(2500, 7), spec.original()).bytes;
        GsoPacket packet = new GsoPacket(SegmentChecks.input(bytes), GsoType.TCPV4, 1000);
        SegmentBlock block = new PacketSegmenter().segmentBlock(packet, PooledByteBufAllocator.DEFAULT, 8);
        try {
            ByteBuf c = block.content();
            // 20-byte IPv4 + 20-byte TCP headers: 1048-byte slots, the last holding 500 payload bytes.
            assertEquals(3, block.count());
            assertEquals(8 + 40 + 1000, block.stride());
            assertEquals(2 * block.stride() + 8 + 40 + 500, c.readableBytes());
            for (int k = 0; k < 3; k++) {
                // Every slot starts with its headroom, then an IPv4 header.
                assertEquals(0x45, c.getUnsignedByte(k * block.stride() + 8), "slot " + k);
            }
            assertTrue(block.toString().contains("3 slots"), block.toString());
        } finally {
            block.release();
            packet.release();
        }
        assertTrue(block.toString().contains("released"), block.toString());
        assertThrows(IndexOutOfBoundsException.class, () -> block.slotIndex(3));
    }

    @Test
    void badHeadroomIsRefused() {
        TestPacket spec = new TestPacket();
        GsoPacket packet = new GsoPacket(SegmentChecks.input(spec.build(SegmentChecks.payload(2500, 1),
                spec.original()).bytes), GsoType.TCPV4, 1000);
        try {
            for (int headroom : new int[] {-1, PacketSegmenter.MAX_HEADROOM + 1}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> new PacketSegmenter().segmentBlock(packet, PooledByteBufAllocator.DEFAULT, headroom));
                assertTrue(e.getMessage().contains("headroom"), e.getMessage());
            }
        } finally {
            packet.release();
        }
    }

    @Test
    void aOneSlotBlockWrapsAPacketBehindItsHeadroom() {
        ByteBuf content = Unpooled.buffer(60).writeZero(60);
        SegmentBlock block = SegmentBlock.of(content, 8);
        assertEquals(1, block.count());
        assertEquals(60, block.stride());
        assertEquals(0, block.slotIndex(0));
        assertTrue(block.release());
        assertEquals(0, content.refCnt());
        ByteBuf small = Unpooled.buffer(4).writeZero(4);
        for (int headroom : new int[] {-1, 5}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> SegmentBlock.of(small, headroom));
            assertTrue(e.getMessage().contains("headroom"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> SegmentBlock.of(null, 0));
        small.release();
    }

    @Test
    void refusedPacketsLeaveNothingAllocated() {
        TestPacket spec = new TestPacket();
        byte[] bytes = spec.build(SegmentChecks.payload(5000, 1), spec.original()).bytes;
        // Five segments against a limit of four.
        PacketSegmenter segmenter = new PacketSegmenter(PacketSegmenterConfig.newBuilder().maxSegmentsPerPacket(4)
                .build());
        CountingAllocator alloc = new CountingAllocator();
        GsoPacket packet = new GsoPacket(SegmentChecks.input(bytes), GsoType.TCPV4, 1000);
        try {
            assertThrows(PacketOffloadException.class, () -> segmenter.segmentBlock(packet, alloc, 8));
        } finally {
            packet.release();
        }
        GsoPacket released = new GsoPacket(SegmentChecks.input(bytes), GsoType.TCPV4, 1000);
        released.release();
        PacketOffloadException e = assertThrows(PacketOffloadException.class,
                () -> segmenter.segmentBlock(released, alloc, 8));
        assertTrue(e.getMessage().contains("already released"), e.getMessage());
        assertEquals(0, alloc.live(), Arrays.toString(alloc.buffers.toArray()));
    }

    /** A pooled allocator that remembers what it handed out, to find buffers left unreleased. */
    private static final class CountingAllocator extends PooledByteBufAllocator {
        final List<ByteBuf> buffers = new ArrayList<>();

        @Override
        protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
            ByteBuf b = super.newDirectBuffer(initialCapacity, maxCapacity);
            buffers.add(b);
            return b;
        }

        long live() {
            return buffers.stream().filter(b -> b.refCnt() > 0).count();
        }
    }
}
