package dev.nettyoffload.benchmarks;

import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.IpProtocol;
import dev.nettyoffload.core.packet.LinkType;
import dev.nettyoffload.core.packet.PacketLayout;
import dev.nettyoffload.gro.PacketGroCounters;
import dev.nettyoffload.gso.ChecksumMode;
import dev.nettyoffload.gso.PacketSegmenter;
import dev.nettyoffload.gso.PacketSegmenterConfig;
import dev.nettyoffload.gso.SegmentBlock;
import dev.nettyoffload.testkit.RefChecksum;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The verdict on one {@link PacketFuzz} iteration: the aggregator's counters account for every packet, every
 * merged packet is valid on its own, and segmenting the outputs again gives back exactly the inputs, in order
 * within each flow; the block form ({@link PacketSegmenter#segmentBlock}) holds the same segments as the list
 * form. Throws {@link AssertionError} naming the first violation.
 */
final class FuzzOutputCheck {
    /** Headroom of the block form checked against the list form: a VXLAN header's. */
    private static final int BLOCK_HEADROOM = 8;

    private FuzzOutputCheck() {
    }

    /** Bytes and order: every output, segmented again, is one input; each flow's valid packets keep their order. */
    static void check(List<FuzzInput> in, List<Object> out, LinkType link, boolean complete, PacketGroCounters c,
                      int n, ByteBufAllocator alloc) {
        if (c.packetsIn() != n || c.packetsDropped() != 0 || c.packetsDroppedOnInactive() != 0) {
            throw new AssertionError("counters: " + c);
        }
        if (c.packetsPassedThrough() + c.lonePacketsOut() + c.packetsMerged() != n) {
            throw new AssertionError("not every packet accounted for: " + c);
        }
        PacketSegmenter segmenter = new PacketSegmenter(PacketSegmenterConfig.newBuilder().linkType(link)
                .checksumMode(ChecksumMode.FULL).maxSegmentsPerPacket(PacketSegmenterConfig.MAX_MAX_SEGMENTS_PER_PACKET)
                .build());
        List<byte[]> back = new ArrayList<>(n);
        for (Object o : out) {
            if (o instanceof GsoPacket) {
                GsoPacket g = (GsoPacket) o;
                checkValid(g, link, complete);
                List<Object> segs = new ArrayList<>();
                segmenter.segment(g, alloc, segs);
                if (segs.size() != g.segmentCount()) {
                    throw new AssertionError(g + " segmented into " + segs.size());
                }
                // The block form must hold the same segments, each behind its headroom.
                SegmentBlock block = segmenter.segmentBlock(g, alloc, BLOCK_HEADROOM);
                try {
                    checkBlock(g, block, segs);
                } finally {
                    block.release();
                }
                for (Object s : segs) {
                    back.add(ByteBufUtil.getBytes((ByteBuf) s));
                    ((ByteBuf) s).release();
                }
            } else {
                back.add(ByteBufUtil.getBytes((ByteBuf) o));
            }
        }
        if (back.size() != n) {
            throw new AssertionError(back.size() + " packets out of " + n + " in");
        }
        if (!complete) {
            return; // partial checksums differ from the wire bytes; the count is what can be compared
        }
        Map<Key, ArrayDeque<Integer>> index = new HashMap<>();
        for (int i = 0; i < n; i++) {
            index.computeIfAbsent(new Key(in.get(i).bytes), k -> new ArrayDeque<>()).add(i);
        }
        int[] lastOfFlow = new int[64];
        Arrays.fill(lastOfFlow, -1);
        for (byte[] b : back) {
            ArrayDeque<Integer> q = index.get(new Key(b));
            if (q == null || q.isEmpty()) {
                throw new AssertionError("an output packet matches no input: " + ByteBufUtil.hexDump(b, 0,
                        Math.min(b.length, 96)));
            }
            int i = q.poll();
            int flow = in.get(i).flow;
            if (flow >= 0) {
                if (i < lastOfFlow[flow]) {
                    throw new AssertionError("flow " + flow + ": packet " + i + " after packet " + lastOfFlow[flow]);
                }
                lastOfFlow[flow] = i;
            }
        }
    }

    /** Slot {@code k} of {@code block} is the headroom and then exactly segment {@code k}; nothing follows. */
    private static void checkBlock(GsoPacket g, SegmentBlock block, List<Object> segs) {
        if (block.count() != segs.size()) {
            throw new AssertionError(g + ": block of " + block.count() + " slots, " + segs.size() + " segments");
        }
        ByteBuf c = block.content();
        int end = c.readerIndex();
        for (int k = 0; k < segs.size(); k++) {
            ByteBuf seg = (ByteBuf) segs.get(k);
            int at = block.slotIndex(k) + BLOCK_HEADROOM;
            if (!ByteBufUtil.equals(c, at, seg, seg.readerIndex(), seg.readableBytes())) {
                throw new AssertionError(g + ": block slot " + k + " differs from segment " + k);
            }
            end = at + seg.readableBytes();
        }
        if (end != c.writerIndex()) {
            throw new AssertionError(g + ": block ends at " + c.writerIndex() + ", last segment at " + end);
        }
    }

    /** A merged packet is valid on its own: parses, IPv4 header checksums and (when complete) L4 checksum hold. */
    private static void checkValid(GsoPacket g, LinkType link, boolean complete) {
        byte[] b = ByteBufUtil.getBytes(g.content());
        PacketLayout l = new PacketLayout().parse(g.content(), link, g.tunnelType(), g.gsoType());
        if (l.l3Version() == 4 && RefChecksum.fold(RefChecksum.sum(b, l.l3(), l.l3HeaderLength(), 0)) != 0xFFFF) {
            throw new AssertionError(g + ": bad IPv4 header checksum");
        }
        if (l.outerL3() != PacketLayout.ABSENT && l.outerL3Version() == 4
                && RefChecksum.fold(RefChecksum.sum(b, l.outerL3(), l.outerL3HeaderLength(), 0)) != 0xFFFF) {
            throw new AssertionError(g + ": bad outer IPv4 header checksum");
        }
        if (!complete) {
            return;
        }
        int l4Length = b.length - l.l4();
        byte[] src;
        byte[] dst;
        if (l.l3Version() == 4) {
            src = Arrays.copyOfRange(b, l.l3() + 12, l.l3() + 16);
            dst = Arrays.copyOfRange(b, l.l3() + 16, l.l3() + 20);
        } else {
            src = Arrays.copyOfRange(b, l.l3() + 8, l.l3() + 24);
            dst = Arrays.copyOfRange(b, l.pseudoDestination(), l.pseudoDestination() + 16);
        }
        long sum = RefChecksum.sum(b, l.l4(), l4Length, RefChecksum.pseudo(src, dst, l.l4Protocol(), l4Length));
        if (RefChecksum.fold(sum) != 0xFFFF) {
            throw new AssertionError(g + ": bad " + (l.l4Protocol() == IpProtocol.TCP ? "TCP" : "UDP") + " checksum");
        }
    }

    /** A byte array as a map key. */
    private static final class Key {
        final byte[] b;
        final int hash;

        Key(byte[] b) {
            this.b = b;
            this.hash = Arrays.hashCode(b);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key && Arrays.equals(b, ((Key) o).b);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }
}
