package dev.nettyoffload.gro;

import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.GsoType;
import dev.nettyoffload.core.packet.Ipv4IdMode;
import dev.nettyoffload.core.packet.LinkType;
import dev.nettyoffload.core.packet.TunnelType;
import dev.nettyoffload.testkit.TestPacket;
import dev.nettyoffload.testkit.TestPacket.Tunnel;
import dev.nettyoffload.gso.ChecksumMode;
import dev.nettyoffload.gso.PacketSegmenter;
import dev.nettyoffload.gso.PacketSegmenterConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The offload invariant (Linux segmentation-offloads.rst) on random shapes: a large packet segmented by
 * {@link PacketSegmenter} and coalesced by {@link PacketGroAggregator} comes back byte for byte with the same metadata,
 * and random interleaved flows coalesced and segmented again give back every packet, in order within its flow.
 */
class PacketGroRoundTripTest {
    private static final long SEED = Long.getLong("gro.seed", 0x6E0_5EEDL);
    private static final int ITERATIONS = 150;

    static TestPacket randomSpec(Random r, boolean allowEthernet) {
        TestPacket s = new TestPacket();
        s.tcp = r.nextInt(3) != 0;
        s.v6 = r.nextBoolean();
        int t = r.nextInt(3);
        s.tunnel = t == 0 ? Tunnel.NONE : t == 1 ? Tunnel.IPIP : Tunnel.VXLAN;
        s.outerV6 = r.nextBoolean();
        s.outerUdpChecksum = r.nextBoolean();
        s.innerVlanTags = r.nextInt(2);
        s.ethernet = allowEthernet && r.nextInt(4) == 0;
        s.vlanTags = s.ethernet ? r.nextInt(3) : 0;
        s.hopByHop = s.v6 && r.nextInt(4) == 0;
        s.destinationOptions = s.v6 && r.nextInt(4) == 0;
        s.routing = s.v6 && r.nextInt(6) == 0;
        s.tcpOptionsLength = 4 * r.nextInt(6);
        int f = TestPacket.ACK;
        if (r.nextInt(3) == 0) {
            f |= TestPacket.PSH;
        }
        if (r.nextInt(8) == 0) {
            f |= TestPacket.FIN;
        }
        if (r.nextInt(8) == 0) {
            f |= TestPacket.CWR;
        }
        if (r.nextInt(8) == 0) {
            f |= TestPacket.ECE;
        }
        s.tcpFlags = f;
        s.seq = r.nextLong() & 0xFFFFFFFFL;
        s.ack = r.nextLong() & 0xFFFFFFFFL;
        s.ipv4Id = r.nextInt(65536);
        s.outerIpv4Id = r.nextInt(65536);
        s.ttl = 1 + r.nextInt(255);
        s.tos = r.nextInt(256);
        s.window = r.nextInt(65536);
        s.srcPort = 1024 + r.nextInt(60000);
        return s;
    }

    @Test
    void groOfGsoGivesBackThePacket() {
        Random r = new Random(SEED);
        PooledByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
        int mergedChecked = 0;
        for (int it = 0; it < ITERATIONS; it++) {
            TestPacket s = randomSpec(r, true);
            LinkType link = s.ethernet ? LinkType.ETHERNET : LinkType.RAW_IP;
            int gso = r.nextBoolean() ? 1200 + r.nextInt(300) : 1 + r.nextInt(3000);
            int maxSegments = 2 + r.nextInt(PacketGroConfig.MAX_SEGMENTS_PER_PACKET - 1);
            int headers = s.build(new byte[0], s.original()).bytes.length - (s.ethernet ? 14 + 4 * s.vlanTags : 0);
            int maxPayload = Math.min((65535 - headers) / gso * gso, maxSegments * gso);
            if (maxPayload < gso) {
                continue;
            }
            int payload = gso + 1 + r.nextInt(Math.max(1, maxPayload - gso));
            payload = Math.min(payload, maxPayload);
            Ipv4IdMode mode = r.nextBoolean() ? Ipv4IdMode.INCREMENTING : Ipv4IdMode.FIXED;
            // Each IPv4 header has its own mode (the kernel's FIXEDID and FIXEDID_INNER).
            Ipv4IdMode outerMode = r.nextBoolean() ? Ipv4IdMode.INCREMENTING : Ipv4IdMode.FIXED;
            // A CWR run merges only when every segment carries CWR (AccECN), i.e. segmented with CWR on each.
            boolean cwrOnEverySegment = s.tcp && (s.tcpFlags & TestPacket.CWR) != 0;
            MergedChecksum checksum = r.nextInt(4) == 0 ? MergedChecksum.PARTIAL : MergedChecksum.COMPLETE;
            String name = "iteration " + it + " (seed " + SEED + "): tcp " + s.tcp + " v6 " + s.v6 + " " + s.tunnel
                    + " outerV6 " + s.outerV6 + " payload " + payload + " gso " + gso + " " + mode + " outer " + outerMode
                    + (cwrOnEverySegment ? " CWR on every segment " : " ") + checksum;
            byte[] original = s.build(new RawRun(s).payload(payload), s.original()).bytes;
            TunnelType tunnel = s.tunnel == Tunnel.NONE ? TunnelType.NONE
                    : s.tunnel == Tunnel.IPIP ? TunnelType.IPIP : TunnelType.VXLAN;
            GsoType type = !s.tcp ? GsoType.UDP_L4 : s.v6 ? GsoType.TCPV6 : GsoType.TCPV4;
            GsoPacket big = new GsoPacket(Unpooled.directBuffer(original.length).writeBytes(original), type, tunnel,
                    gso, mode, outerMode, cwrOnEverySegment, 0);
            List<Object> segments = new ArrayList<>();
            new PacketSegmenter(PacketSegmenterConfig.newBuilder().linkType(link).checksumMode(ChecksumMode.FULL)
                    .build()).segment(big, alloc, segments);
            big.release();
            EmbeddedChannel ch = new EmbeddedChannel(new PacketGroAggregator(PacketGroConfig.newBuilder().linkType(link)
                    .mergedChecksum(checksum).build()));
            List<Object> out = new ArrayList<>();
            try {
                ch.writeInbound(segments.toArray());
                out.addAll(PacketChecks.drain(ch));
                assertEquals(1, out.size(), name + ": one packet out of " + segments.size());
                Object o = out.get(0);
                if (segments.size() == 1) {
                    assertArrayEquals(original, ByteBufUtil.getBytes((ByteBuf) o), name);
                    continue;
                }
                GsoPacket g = assertInstanceOf(GsoPacket.class, o, name);
                assertEquals(gso, g.segmentSize(), name + ": segmentSize");
                assertEquals(type, g.gsoType(), name + ": gsoType");
                assertEquals(tunnel, g.tunnelType(), name + ": tunnelType");
                assertEquals(segments.size(), g.segmentCount(), name + ": segmentCount");
                if (!s.v6) {
                    assertEquals(mode, g.ipv4IdMode(), name + ": ipv4IdMode");
                }
                if (s.tunnel != Tunnel.NONE && !s.outerV6) {
                    assertEquals(outerMode, g.outerIpv4IdMode(), name + ": outerIpv4IdMode");
                }
                assertEquals(cwrOnEverySegment, g.cwrOnEverySegment(), name + ": cwrOnEverySegment");
                PacketChecks.assertContiguous(g);
                PacketChecks.assertValidMerged(g, link, checksum == MergedChecksum.PARTIAL, name);
                if (checksum == MergedChecksum.COMPLETE) {
                    assertEquals(HexFormat.of().formatHex(original), HexFormat.of().formatHex(
                            ByteBufUtil.getBytes(g.content())), name + ": merged bytes");
                    mergedChecked++;
                }
            } finally {
                PacketChecks.releaseAll(out);
                ch.finishAndReleaseAll();
            }
        }
        assertTrue(mergedChecked > ITERATIONS / 2, "merged packets compared byte for byte: " + mergedChecked);
    }

    @Test
    void gsoOfGroGivesBackTheSegments() {
        Random r = new Random(SEED + 1);
        PooledByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
        long merged = 0;
        for (int it = 0; it < 20; it++) {
            int flows = 1 + r.nextInt(6);
            boolean ethernet = r.nextInt(4) == 0;
            List<RawRun> runs = new ArrayList<>();
            for (int i = 0; i < flows; i++) {
                TestPacket s = randomSpec(r, false);
                s.ethernet = ethernet;
                s.srcPort = 2000 + i;
                s.tcpFlags = TestPacket.ACK;
                runs.add(new RawRun(s));
            }
            LinkType link = ethernet ? LinkType.ETHERNET : LinkType.RAW_IP;
            List<byte[]> in = new ArrayList<>();
            List<Integer> flowOf = new ArrayList<>();
            int n = 50 + r.nextInt(200);
            for (int i = 0; i < n; i++) {
                int f = r.nextInt(flows);
                RawRun run = runs.get(f);
                int size = r.nextInt(5) == 0 ? r.nextInt(1400) : 1400;
                if (!run.spec.tcp && size == 0) {
                    size = 1;
                }
                int roll = r.nextInt(20);
                TestPacket.Built b = roll == 0 ? run.next(size, null, v -> v.flags |= TestPacket.PSH)
                        : roll == 1 ? run.next(size, s -> s.ttl ^= 1, null)
                        : roll == 2 ? run.next(size, null, v -> v.seq += 7)
                        : run.next(size);
                in.add(b.bytes);
                flowOf.add(f);
            }
            PacketGroConfig config = PacketGroConfig.newBuilder().linkType(link).maxFlows(1 + r.nextInt(8)).build();
            PacketGroAggregator gro = new PacketGroAggregator(config);
            EmbeddedChannel ch = new EmbeddedChannel(gro);
            List<Object> out = new ArrayList<>();
            try {
                int i = 0;
                while (i < n) {
                    int burst = 1 + r.nextInt(64);
                    for (int j = 0; j < burst && i < n; j++, i++) {
                        ch.pipeline().fireChannelRead(PacketChecks.input(in.get(i), r.nextBoolean()));
                    }
                    ch.pipeline().fireChannelReadComplete();
                    out.addAll(PacketChecks.drain(ch));
                }
                List<byte[]> back = PacketChecks.expandOutputs(out, link, alloc);
                assertEquals(n, back.size(), "iteration " + it + ": packets back");
                // Every packet comes back, and within each flow in the original order.
                Map<String, ArrayDeque<Integer>> index = new HashMap<>();
                for (int k = 0; k < n; k++) {
                    index.computeIfAbsent(HexFormat.of().formatHex(in.get(k)), x -> new ArrayDeque<>()).add(k);
                }
                int[] last = new int[flows];
                java.util.Arrays.fill(last, -1);
                for (byte[] b : back) {
                    ArrayDeque<Integer> q = index.get(HexFormat.of().formatHex(b));
                    assertNotNull(q, "iteration " + it + ": a packet came back that did not go in");
                    assertTrue(!q.isEmpty(), "iteration " + it + ": a packet came back twice");
                    int k = q.poll();
                    int f = flowOf.get(k);
                    assertTrue(k > last[f], "iteration " + it + ": flow " + f + " reordered at input " + k);
                    last[f] = k;
                }
                merged += gro.counters().packetsMerged();
            } finally {
                PacketChecks.releaseAll(out);
                ch.finishAndReleaseAll();
            }
        }
        assertTrue(merged > 500, "packets that went through a merged packet: " + merged);
    }

    @Test
    void bigTcpMergesBeyond64KiBWithAJumbogramAndSegmentsBack() {
        TestPacket s = new TestPacket();
        s.v6 = true;
        s.tcpFlags = TestPacket.ACK | TestPacket.PSH;
        s.tcpOptionsLength = 12;
        RawRun run = new RawRun(s);
        List<byte[]> in = new ArrayList<>();
        java.io.ByteArrayOutputStream payload = new java.io.ByteArrayOutputStream();
        int segments = 60;
        for (int i = 0; i < segments; i++) {
            int flags = i == segments - 1 ? TestPacket.ACK | TestPacket.PSH : TestPacket.ACK;
            TestPacket.Built b = run.next(1436, null, v -> v.flags = flags);
            in.add(b.bytes);
            payload.write(b.bytes, b.payloadOffset, b.bytes.length - b.payloadOffset);
        }
        TestPacket big = s.copy();
        big.jumbo = true;
        byte[] expected = big.build(payload.toByteArray(), big.original()).bytes;
        for (MergedChecksum checksum : MergedChecksum.values()) {
            PacketGroAggregator gro = new PacketGroAggregator(PacketGroConfig.newBuilder().mergedChecksum(checksum)
                    .bigTcpMaxSize(PacketGroConfig.MAX_BIG_TCP_MAX_SIZE).build());
            EmbeddedChannel ch = new EmbeddedChannel(gro);
            List<Object> out = new ArrayList<>();
            try {
                for (byte[] b : in) {
                    ch.pipeline().fireChannelRead(PacketChecks.input(b, true));
                }
                ch.pipeline().fireChannelReadComplete();
                out.addAll(PacketChecks.drain(ch));
                assertEquals(1, out.size(), "one BIG TCP packet");
                GsoPacket g = assertInstanceOf(GsoPacket.class, out.get(0));
                assertEquals(segments, g.segmentCount());
                assertEquals(1436, g.segmentSize());
                assertTrue(g.content().readableBytes() > 65535 + 40, "beyond 64 KiB: " + g);
                PacketChecks.assertContiguous(g);
                PacketChecks.assertValidMerged(g, LinkType.RAW_IP, checksum == MergedChecksum.PARTIAL, "BIG TCP");
                if (checksum == MergedChecksum.COMPLETE) {
                    assertEquals(HexFormat.of().formatHex(expected), HexFormat.of().formatHex(
                            ByteBufUtil.getBytes(g.content())), "merged = the jumbogram the builder writes");
                    List<byte[]> back = PacketChecks.expandOutputs(out, LinkType.RAW_IP, PooledByteBufAllocator.DEFAULT);
                    assertEquals(segments, back.size());
                    for (int i = 0; i < segments; i++) {
                        assertArrayEquals(in.get(i), back.get(i), "segment " + i + " after GSO strips the jumbogram");
                    }
                }
            } finally {
                PacketChecks.releaseAll(out);
                ch.finishAndReleaseAll();
            }
        }
        // Off by default: the 65535-byte cap applies.
        EmbeddedChannel ch = new EmbeddedChannel(new PacketGroAggregator());
        List<Object> out = new ArrayList<>();
        try {
            for (byte[] b : in) {
                ch.pipeline().fireChannelRead(PacketChecks.input(b, true));
            }
            ch.pipeline().fireChannelReadComplete();
            out.addAll(PacketChecks.drain(ch));
            List<String> sizes = new ArrayList<>();
            for (Object o : out) {
                sizes.add(PacketChecks.describe(o, LinkType.RAW_IP));
            }
            assertEquals(List.of(PacketChecks.expand("1436x45"), PacketChecks.expand("1436x15")), sizes);
        } finally {
            PacketChecks.releaseAll(out);
            ch.finishAndReleaseAll();
        }
    }
}
