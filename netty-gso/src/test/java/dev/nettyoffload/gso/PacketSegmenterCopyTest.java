package dev.nettyoffload.gso;

import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.GsoType;
import dev.nettyoffload.core.packet.Ipv4IdMode;
import dev.nettyoffload.core.packet.TunnelType;
import dev.nettyoffload.testkit.TestPacket;
import dev.nettyoffload.testkit.TestPacket.Tunnel;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@link PacketSegmenterConfig#copyPayload()} gives the same packets as zero copy, and releases everything. */
class PacketSegmenterCopyTest {
    @Test
    void copyGivesTheSameBytesAsZeroCopy() {
        ByteBufAllocator[] allocators = {PooledByteBufAllocator.DEFAULT, new UnpooledByteBufAllocator(false)};
        int cases = 0;
        for (Tunnel tunnel : Tunnel.values()) {
            for (boolean v6 : new boolean[] {false, true}) {
                for (boolean tcp : new boolean[] {true, false}) {
                    for (ChecksumMode mode : ChecksumMode.values()) {
                        for (ByteBufAllocator alloc : allocators) {
                            for (int length : new int[] {1, 999, 1000, 7001}) {
                                compare(tunnel, v6, tcp, mode, alloc, length);
                                cases++;
                            }
                        }
                    }
                }
            }
        }
        assertEquals(Tunnel.values().length * 64, cases);
    }

    private static void compare(Tunnel tunnel, boolean v6, boolean tcp, ChecksumMode mode, ByteBufAllocator alloc,
                                int length) {
        String name = tunnel + (v6 ? " v6 " : " v4 ") + (tcp ? "TCP " : "UDP ") + mode + " " + length + " "
                + alloc.getClass().getSimpleName();
        TestPacket spec = new TestPacket();
        spec.tunnel = tunnel;
        spec.v6 = v6;
        spec.tcp = tcp;
        byte[] bytes = spec.build(SegmentChecks.payload(length, 3), spec.original()).bytes;
        ByteBuf in = SegmentChecks.input(bytes);
        GsoType type = !tcp ? GsoType.UDP_L4 : v6 ? GsoType.TCPV6 : GsoType.TCPV4;
        TunnelType tunnelType = TunnelType.valueOf(tunnel.name());
        GsoPacket packet = new GsoPacket(in, type, tunnelType, 1000, Ipv4IdMode.INCREMENTING, 0);
        PacketSegmenterConfig config = PacketSegmenterConfig.newBuilder().checksumMode(mode).copyPayload(false).build();
        List<Object> slices = new ArrayList<>();
        List<Object> copies = new ArrayList<>();
        try {
            int n = new PacketSegmenter(config).segment(packet, alloc, slices);
            assertEquals(n, new PacketSegmenter(config.toBuilder().copyPayload(true).build())
                    .segment(packet, alloc, copies), name);
            assertEquals(slices.size(), copies.size(), name);
            for (int i = 0; i < n; i++) {
                assertArrayEquals(ByteBufUtil.getBytes((ByteBuf) slices.get(i)),
                        ByteBufUtil.getBytes((ByteBuf) copies.get(i)), name + " segment " + i);
            }
        } finally {
            slices.forEach(o -> ((ByteBuf) o).release());
            copies.forEach(o -> ((ByteBuf) o).release());
            packet.release();
        }
        assertEquals(0, in.refCnt(), name);
    }

    @Test
    void copySegmentsAreIndependentOfTheInput() {
        TestPacket spec = new TestPacket();
        ByteBuf in = SegmentChecks.input(spec.build(SegmentChecks.payload(3000, 2), spec.original()).bytes);
        GsoPacket packet = new GsoPacket(in, GsoType.TCPV4, 1000);
        List<Object> out = new ArrayList<>();
        new PacketSegmenter(PacketSegmenterConfig.newBuilder().copyPayload(true).build())
                .segment(packet, PooledByteBufAllocator.DEFAULT, out);
        packet.release();
        assertEquals(0, in.refCnt(), "the segments hold no reference to the input");
        assertEquals(3, out.size());
        for (int i = 0; i < out.size(); i++) {
            ByteBuf segment = (ByteBuf) out.get(i);
            assertEquals(40 + 1000, segment.readableBytes());
            assertEquals(i == out.size() - 1, segment.release(), "the last release frees the shared buffer");
        }
    }
}
