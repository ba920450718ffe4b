package dev.nettyoffload.gso;

import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.GsoType;
import dev.nettyoffload.core.packet.Ipv4IdMode;
import dev.nettyoffload.core.packet.LinkType;
import dev.nettyoffload.core.packet.PacketOffloadException;
import dev.nettyoffload.core.packet.TunnelType;
import dev.nettyoffload.testkit.TestPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Corrupted packets (random header bytes changed, random truncation, random metadata) either segment or fail
 * with {@link PacketOffloadException}; never another exception, never a leak.
 */
class PacketSegmenterFuzzTest {
    private static final int ITERATIONS = 1500;

    @Test
    void corruptedHeadersFailCleanly() {
        Random r = new Random(0xF022L);
        int refused = 0;
        int segmented = 0;
        for (int it = 0; it < ITERATIONS; it++) {
            TestPacket s = new TestPacket();
            s.tunnel = TestPacket.Tunnel.values()[r.nextInt(4)];
            s.ethernet = r.nextBoolean();
            s.vlanTags = s.ethernet ? r.nextInt(3) : 0;
            s.outerV6 = r.nextBoolean();
            s.greChecksum = r.nextBoolean();
            s.greTeb = r.nextBoolean();
            s.v6 = r.nextBoolean();
            s.hopByHop = r.nextBoolean();
            s.routing = r.nextBoolean();
            s.tcp = r.nextBoolean();
            s.tcpOptionsLength = 4 * r.nextInt(4);
            s.ipv4OptionsLength = 4 * r.nextInt(3);
            byte[] bytes = s.build(SegmentChecks.payload(1 + r.nextInt(3000), it), s.original()).bytes;
            int headerish = Math.min(bytes.length, 160);
            for (int k = 1 + r.nextInt(3); k > 0; k--) {
                bytes[r.nextInt(headerish)] = (byte) r.nextInt(256);
            }
            if (r.nextInt(5) == 0) {
                bytes = Arrays.copyOf(bytes, r.nextInt(bytes.length));
            }
            GsoType type = r.nextInt(4) == 0 ? GsoType.values()[r.nextInt(3)] : SegmentChecks.gsoType(s);
            TunnelType tunnel = r.nextInt(4) == 0 ? TunnelType.values()[r.nextInt(4)] : SegmentChecks.tunnelType(s);
            ByteBuf in = SegmentChecks.input(bytes);
            GsoPacket packet = new GsoPacket(in, type, tunnel, 1 + r.nextInt(2000),
                    r.nextBoolean() ? Ipv4IdMode.FIXED : Ipv4IdMode.INCREMENTING, 0);
            PacketSegmenter segmenter = new PacketSegmenter(PacketSegmenterConfig.newBuilder()
                    .linkType(s.ethernet ? LinkType.ETHERNET : LinkType.RAW_IP)
                    .checksumMode(r.nextBoolean() ? ChecksumMode.FULL : ChecksumMode.PARTIAL).build());
            List<Object> out = new ArrayList<>();
            try {
                segmenter.segment(packet, PooledByteBufAllocator.DEFAULT, out);
                segmented++;
            } catch (PacketOffloadException e) {
                refused++;
                assertEquals(0, out.size(), "nothing added on failure");
                assertEquals(1, in.refCnt(), "input untouched on failure");
            } catch (RuntimeException e) {
                fail("iteration " + it + ": " + packet + " threw " + e, e);
            } finally {
                for (Object o : out) {
                    ((ByteBuf) o).release();
                }
                packet.release();
            }
            assertEquals(0, in.refCnt());
        }
        System.out.println("fuzz: " + segmented + " segmented, " + refused + " refused with PacketOffloadException");
        if (refused == 0 || segmented == 0) {
            fail("fuzzing should hit both outcomes: " + segmented + " segmented, " + refused + " refused");
        }
    }
}
