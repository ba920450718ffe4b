package dev.nettyoffload.gso;

import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.GsoType;
import dev.nettyoffload.core.packet.Ipv4IdMode;
import dev.nettyoffload.core.packet.LinkType;
import dev.nettyoffload.core.packet.TunnelType;
import dev.nettyoffload.testkit.TestPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Shared steps of the segmenter tests: build the input from a spec, segment, compare with expected packets. */
final class SegmentChecks {
    private SegmentChecks() {
    }

    static GsoType gsoType(TestPacket spec) {
        return !spec.tcp ? GsoType.UDP_L4 : spec.v6 ? GsoType.TCPV6 : GsoType.TCPV4;
    }

    static TunnelType tunnelType(TestPacket spec) {
        return TunnelType.valueOf(spec.tunnel.name());
    }

    static byte[] payload(int length, int seed) {
        byte[] p = new byte[length];
        int x = seed * 7919 + 13;
        for (int i = 0; i < length; i++) {
            x = x * 1103515245 + 12345;
            p[i] = (byte) (x >>> 16);
        }
        return p;
    }

    /** A direct buffer holding {@code bytes} at a non-zero reader index, so offsets must be reader-relative. */
    static ByteBuf input(byte[] bytes) {
        ByteBuf b = Unpooled.directBuffer(bytes.length + 8);
        b.writeZero(5);
        b.writeBytes(bytes);
        b.skipBytes(5);
        return b;
    }

    /**
     * Segments the packet built from {@code spec} and checks every output packet, byte for byte and naming the
     * field on a mismatch, against the packet the spec builds for that segment; returns the segment payloads
     * concatenated. Releases everything it reads and checks that the input ends with refCnt 0.
     */
    static byte[] segmentAndCheck(String name, TestPacket spec, byte[] payload, int segmentSize, Ipv4IdMode idMode,
                                  ChecksumMode mode, ByteBufAllocator alloc) {
        return segmentAndCheck(name, spec, payload, segmentSize, idMode, idMode, false, mode, alloc);
    }

    /** As above, with the outer IPv4 ID mode apart and CWR kept on every segment or not. */
    static byte[] segmentAndCheck(String name, TestPacket spec, byte[] payload, int segmentSize, Ipv4IdMode idMode,
                                  Ipv4IdMode outerIdMode, boolean cwrOnEverySegment, ChecksumMode mode,
                                  ByteBufAllocator alloc) {
        byte[] big = spec.build(payload, spec.original()).bytes;
        ByteBuf in = input(big);
        GsoPacket packet = new GsoPacket(in, gsoType(spec), tunnelType(spec), segmentSize, idMode, outerIdMode,
                cwrOnEverySegment, 0);
        PacketSegmenter segmenter = new PacketSegmenter(PacketSegmenterConfig.newBuilder()
                .linkType(spec.ethernet ? LinkType.ETHERNET : LinkType.RAW_IP)
                .checksumMode(mode).maxSegmentsPerPacket(PacketSegmenterConfig.MAX_MAX_SEGMENTS_PER_PACKET).build());
        List<Object> out = new ArrayList<>();
        int expectedCount = (payload.length + segmentSize - 1) / segmentSize;
        byte[] joined = new byte[payload.length];
        int joinedAt = 0;
        try {
            int n = segmenter.segment(packet, alloc, out);
            assertEquals(expectedCount, n, name + ": segment count");
            assertEquals(expectedCount, out.size(), name + ": packets added");
            for (int i = 0; i < n; i++) {
                ByteBuf seg = (ByteBuf) out.get(i);
                byte[] actual = ByteBufUtil.getBytes(seg);
                int from = i * segmentSize;
                byte[] part = Arrays.copyOfRange(payload, from, Math.min(payload.length, from + segmentSize));
                TestPacket.Built expected = spec.build(part,
                        spec.segment(i, n, segmentSize, idMode == Ipv4IdMode.FIXED, outerIdMode == Ipv4IdMode.FIXED,
                                cwrOnEverySegment, mode == ChecksumMode.PARTIAL));
                assertSamePacket(expected, actual, name + " segment " + i + "/" + n);
                System.arraycopy(actual, expected.payloadOffset, joined, joinedAt, actual.length - expected.payloadOffset);
                joinedAt += actual.length - expected.payloadOffset;
            }
        } finally {
            for (Object o : out) {
                ((ByteBuf) o).release();
            }
            packet.release();
        }
        assertEquals(0, in.refCnt(), name + ": input refCnt after release");
        assertEquals(payload.length, joinedAt, name + ": payload bytes out");
        return joined;
    }

    /** Fails naming each differing field with expected and actual bytes. */
    static void assertSamePacket(TestPacket.Built expected, byte[] actual, String what) {
        byte[] e = expected.bytes;
        if (e.length != actual.length) {
            fail(what + ": length " + actual.length + ", expected " + e.length);
        }
        StringBuilder diff = new StringBuilder();
        String lastField = null;
        int shown = 0;
        for (int i = 0; i < e.length && shown < 8; i++) {
            if (e[i] != actual[i]) {
                String f = expected.fieldAt(i);
                if (!f.equals(lastField)) {
                    diff.append("\n  ").append(f).append(" at ").append(i).append(": expected ")
                            .append(hex(e, i)).append(", actual ").append(hex(actual, i));
                    lastField = f;
                    shown++;
                }
            }
        }
        if (diff.length() > 0) {
            fail(what + " differs:" + diff);
        }
    }

    private static String hex(byte[] b, int at) {
        return ByteBufUtil.hexDump(b, at, Math.min(4, b.length - at));
    }
}
