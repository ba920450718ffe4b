package dev.nettyoffload.gro;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GroAggregatorTest {
    static final InetSocketAddress LOCAL = new InetSocketAddress("10.82.0.1", 4000);
    static final InetSocketAddress LOCAL_B = new InetSocketAddress("10.82.0.9", 4000);
    static final InetSocketAddress PEER_A = new InetSocketAddress("10.82.0.2", 5000);
    static final InetSocketAddress PEER_B = new InetSocketAddress("10.82.0.3", 5000);
    static final InetSocketAddress LOCAL6 = new InetSocketAddress("fd82::1", 4000);
    static final InetSocketAddress PEER6 = new InetSocketAddress("fd82::2", 5000);

    private final List<Object> inputs = new ArrayList<>();
    private int fill;

    @AfterEach
    void inputsReleased() {
        for (Object o : inputs) {
            assertEquals(0, ReferenceCountUtil.refCnt(o), "an input was not released: " + o);
        }
    }

    /** A datagram of {@code size} bytes of a running pattern, in its own (leak-tracked) buffer. */
    private DatagramPacket dp(InetSocketAddress sender, InetSocketAddress recipient, int size) {
        ByteBuf b = Unpooled.buffer(size + 16); // a datagram that fills its buffer looks truncated
        byte[] bytes = new byte[size];
        for (int i = 0; i < size; i++) {
            bytes[i] = (byte) fill++;
        }
        b.writeBytes(bytes);
        DatagramPacket p = new DatagramPacket(b, recipient, sender);
        inputs.add(p);
        return p;
    }

    private DatagramPacket dp(int size) {
        return dp(PEER_A, LOCAL, size);
    }

    private static byte[] bytes(ByteBuf b) {
        byte[] a = new byte[b.readableBytes()];
        b.getBytes(b.readerIndex(), a);
        return a;
    }

    private static byte[] concat(DatagramPacket... packets) {
        ByteBuf all = Unpooled.buffer();
        for (DatagramPacket p : packets) {
            all.writeBytes(p.content(), p.content().readerIndex(), p.content().readableBytes());
        }
        byte[] a = bytes(all);
        all.release();
        return a;
    }

    /** Reads one message and checks it is a batch of {@code segments} datagrams of {@code segmentSize}. */
    private static void assertBatch(EmbeddedChannel ch, int segmentSize, int totalBytes, byte[] expected,
                                    InetSocketAddress sender, InetSocketAddress recipient) {
        Object m = ch.readInbound();
        assertNotNull(m, "expected a batch");
        try {
            SegmentedDatagramPacket s = assertInstanceOf(SegmentedDatagramPacket.class, m);
            assertEquals(segmentSize, s.segmentSize());
            assertEquals(totalBytes, s.content().readableBytes());
            assertEquals(sender, s.sender());
            assertEquals(recipient, s.recipient());
            if (expected != null) {
                assertArrayEquals(expected, bytes(s.content()));
            }
        } finally {
            ReferenceCountUtil.release(m);
        }
    }

    private static void assertLone(EmbeddedChannel ch, DatagramPacket expected) {
        Object m = ch.readInbound();
        try {
            assertSame(expected, m);
            assertFalse(m instanceof SegmentedDatagramPacket);
        } finally {
            ReferenceCountUtil.release(m);
        }
    }

    @Test
    void equalSizesBecomeOneBatch() {
        GroAggregator agg = new GroAggregator();
        EmbeddedChannel ch = new EmbeddedChannel(agg);
        DatagramPacket[] in = {dp(100), dp(100), dp(100), dp(100), dp(100)};
        byte[] expected = concat(in);
        assertTrue(ch.writeInbound((Object[]) in));
        assertBatch(ch, 100, 500, expected, PEER_A, LOCAL);
        assertNull(ch.readInbound());
        assertEquals(5, agg.counters().datagramsIn());
        assertEquals(1, agg.counters().batchesOut());
        assertEquals(5.0, agg.counters().meanBatchSize());
        assertFalse(ch.finish());
    }

    @Test
    void shorterLastEndsBatch() {
        EmbeddedChannel ch = new EmbeddedChannel(new GroAggregator());
        DatagramPacket a = dp(100);
        DatagramPacket b = dp(100);
        DatagramPacket c = dp(40);
        DatagramPacket d = dp(100);
        byte[] expected = concat(a, b, c);
        ch.writeInbound(a, b, c, d);
        assertBatch(ch, 100, 240, expected, PEER_A, LOCAL);
        assertLone(ch, d);
        assertFalse(ch.finish());
    }

    @Test
    void largerNextEndsBatch() {
        EmbeddedChannel ch = new EmbeddedChannel(new GroAggregator());
        DatagramPacket a = dp(100);
        DatagramPacket b = dp(100);
        DatagramPacket c = dp(150);
        DatagramPacket d = dp(150);
        byte[] first = concat(a, b);
        byte[] second = concat(c, d);
        ch.writeInbound(a, b, c, d);
        assertBatch(ch, 100, 200, first, PEER_A, LOCAL);
        assertBatch(ch, 150, 300, second, PEER_A, LOCAL);
        assertNull(ch.readInbound());
        assertFalse(ch.finish());
    }

    @Test
    void flowChangeEndsBatch() {
        EmbeddedChannel ch = new EmbeddedChannel(new GroAggregator());
        DatagramPacket a1 = dp(PEER_A, LOCAL, 64);
        DatagramPacket a2 = dp(PEER_A, LOCAL, 64);
        DatagramPacket b1 = dp(PEER_B, LOCAL, 64);
        DatagramPacket b2 = dp(PEER_B, LOCAL, 64);
        DatagramPacket a3 = dp(PEER_A, LOCAL, 64);
        DatagramPacket a4 = dp(PEER_A, LOCAL_B, 64); // same sender, other local address
        byte[] fa = concat(a1, a2);
        byte[] fb = concat(b1, b2);
        ch.writeInbound(a1, a2, b1, b2, a3, a4);
        assertBatch(ch, 64, 128, fa, PEER_A, LOCAL);
        assertBatch(ch, 64, 128, fb, PEER_B, LOCAL);
        assertLone(ch, a3);
        assertLone(ch, a4);
        assertFalse(ch.finish());
    }

    @Test
    void segmentLimitSplitsAt64() {
        EmbeddedChannel ch = new EmbeddedChannel(new GroAggregator());
        DatagramPacket[] in = new DatagramPacket[130];
        for (int i = 0; i < in.length; i++) {
            in[i] = dp(10);
        }
        byte[] all = concat(in);
        ch.writeInbound((Object[]) in);
        assertBatch(ch, 10, 640, java.util.Arrays.copyOfRange(all, 0, 640), PEER_A, LOCAL);
        assertBatch(ch, 10, 640, java.util.Arrays.copyOfRange(all, 640, 1280), PEER_A, LOCAL);
        assertBatch(ch, 10, 20, java.util.Arrays.copyOfRange(all, 1280, 1300), PEER_A, LOCAL);
        assertNull(ch.readInbound());
        assertFalse(ch.finish());
    }

    @Test
    void configuredSegmentLimit() {
        EmbeddedChannel ch = new EmbeddedChannel(new GroAggregator(GroConfig.newBuilder().maxSegmentsPerBatch(3).build()));
        for (int i = 0; i < 7; i++) {
            ch.writeOneInbound(dp(10));
        }
        ch.flushInbound();
        assertBatch(ch, 10, 30, null, PEER_A, LOCAL);
        assertBatch(ch, 10, 30, null, PEER_A, LOCAL);
        DatagramPacket last = (DatagramPacket) ch.readInbound();
        assertEquals(10, last.content().readableBytes());
        last.release();
        assertFalse(ch.finish());
    }

    /** 32 x 2000 + 1520 = 65520 bytes: over the IPv4 limit (65507), under the IPv6 one (65527). */
    @Test
    void payloadLimitDependsOnFamily() {
        EmbeddedChannel ch = new EmbeddedChannel(new GroAggregator());
        for (InetSocketAddress[] flow : new InetSocketAddress[][] {{PEER_A, LOCAL}, {PEER6, LOCAL6}}) {
            for (int i = 0; i < 32; i++) {
                ch.writeOneInbound(dp(flow[0], flow[1], 2000));
            }
            ch.writeOneInbound(dp(flow[0], flow[1], 1520));
            ch.flushInbound();
        }
        assertBatch(ch, 2000, 64000, null, PEER_A, LOCAL);
        DatagramPacket shortOne = ch.readInbound();
        assertEquals(1520, shortOne.content().readableBytes());
        shortOne.release();
        assertBatch(ch, 2000, 65520, null, PEER6, LOCAL6);
        assertNull(ch.readInbound());
        assertFalse(ch.finish());
    }

    @Test
    void configuredByteLimitAndOversize() {
        GroAggregator agg = new GroAggregator(GroConfig.newBuilder().maxBatchBytes(1000).build());
        EmbeddedChannel ch = new EmbeddedChannel(agg);
        DatagramPacket[] in = {dp(300), dp(300), dp(300), dp(300), dp(1200), dp(300)};
        ch.writeInbound((Object[]) in);
        assertBatch(ch, 300, 900, concat(in[0], in[1], in[2]), PEER_A, LOCAL);
        assertLone(ch, in[3]);
        assertLone(ch, in[4]);
        assertLone(ch, in[5]);
        assertEquals(1, agg.counters().oversizeDatagrams());
        assertFalse(ch.finish());
    }

    @Test
    void zeroLengthDatagramPassesAloneAndEndsBatch() {
        GroAggregator agg = new GroAggregator();
        EmbeddedChannel ch = new EmbeddedChannel(agg);
        DatagramPacket[] in = {dp(100), dp(100), dp(0), dp(0), dp(100)};
        ch.writeInbound((Object[]) in);
        assertBatch(ch, 100, 200, concat(in[0], in[1]), PEER_A, LOCAL);
        assertLone(ch, in[2]);
        assertLone(ch, in[3]);
        assertLone(ch, in[4]);
        assertEquals(2, agg.counters().zeroLengthDatagrams());
        assertFalse(ch.finish());
    }

    @Test
    void loneDatagramLeavesAsItCame() {
        EmbeddedChannel ch = new EmbeddedChannel(new GroAggregator());
        DatagramPacket p = dp(1400);
        ch.writeInbound(p);
        assertLone(ch, p);
        assertFalse(ch.finish());
    }

    @Test
    void presegmentedAndOtherMessagesPassThroughInOrder() {
        GroAggregator agg = new GroAggregator();
        EmbeddedChannel ch = new EmbeddedChannel(agg);
        DatagramPacket a = dp(50);
        DatagramPacket b = dp(50);
        SegmentedDatagramPacket seg = new SegmentedDatagramPacket(Unpooled.buffer(10).writeZero(10), 5, LOCAL, PEER_A);
        inputs.add(seg);
        DatagramPacket c = dp(50);
        String other = "not a datagram";
        ch.writeInbound(a, b, seg, c, other);
        assertBatch(ch, 50, 100, null, PEER_A, LOCAL);
        Object m = ch.readInbound();
        assertSame(seg, m);
        seg.release();
        assertLone(ch, c);
        assertSame(other, ch.readInbound());
        assertEquals(1, agg.counters().presegmentedPackets());
        assertFalse(ch.finish());
    }

    /** Many flows, sizes and limits at random: every datagram comes out once, in order, in valid batches. */
    @Test
    void fuzzOrderAndBatchInvariants() {
        Random random = new Random(82);
        InetSocketAddress[] senders = {PEER_A, PEER_B, PEER6};
        InetSocketAddress[] locals = {LOCAL, LOCAL, LOCAL6};
        int[] sizes = {4, 4, 4, 500, 500, 1400, 1400, 1400, 1400, 7, 9000};
        for (int round = 0; round < 20; round++) {
            GroConfig config = GroConfig.newBuilder().maxSegmentsPerBatch(2 + random.nextInt(63)).build();
            EmbeddedChannel ch = new EmbeddedChannel(new GroAggregator(config));
            int seq = 0;
            int flow = 0;
            int size = 1400;
            List<Integer> expectedSeq = new ArrayList<>();
            List<Integer> expectedFlow = new ArrayList<>();
            for (int loop = 0; loop < 10; loop++) {
                int n = 1 + random.nextInt(80);
                for (int i = 0; i < n; i++) {
                    if (random.nextInt(10) == 0) {
                        flow = random.nextInt(senders.length);
                    }
                    if (random.nextInt(6) == 0) {
                        size = sizes[random.nextInt(sizes.length)];
                    }
                    ByteBuf b = Unpooled.buffer(size + 8).writeInt(seq).writeZero(size - 4);
                    DatagramPacket p = new DatagramPacket(b, locals[flow], senders[flow]);
                    inputs.add(p);
                    expectedSeq.add(seq++);
                    expectedFlow.add(flow);
                    ch.writeOneInbound(p);
                }
                ch.flushInbound();
            }
            int next = 0;
            for (Object m; (m = ch.readInbound()) != null; ) {
                DatagramPacket p = (DatagramPacket) m;
                try {
                    ByteBuf c = p.content();
                    int flowOf = expectedFlow.get(c.getInt(c.readerIndex()));
                    assertEquals(senders[flowOf], p.sender());
                    assertEquals(locals[flowOf], p.recipient());
                    int seg = p instanceof SegmentedDatagramPacket
                            ? ((SegmentedDatagramPacket) p).segmentSize() : c.readableBytes();
                    int segments = (c.readableBytes() + seg - 1) / seg;
                    if (p instanceof SegmentedDatagramPacket) {
                        assertTrue(segments >= 2 && segments <= config.maxSegmentsPerBatch(), "segments " + segments);
                        int limit = p.sender().getAddress() instanceof java.net.Inet6Address ? 65527 : 65507;
                        assertTrue(c.readableBytes() <= limit);
                    }
                    for (int s = 0; s < segments; s++) {
                        int at = c.readerIndex() + s * seg;
                        assertEquals(expectedSeq.get(next), c.getInt(at), "order");
                        assertEquals(flowOf, expectedFlow.get(next), "flows never merge");
                        next++;
                    }
                } finally {
                    p.release();
                }
            }
            assertEquals(expectedSeq.size(), next, "every datagram out exactly once");
            assertFalse(ch.finish());
        }
    }

    /** Simulates Netty's epoll UDP_GRO read: one buffer, a retained slice for the batch, slices per datagram. */
    private List<DatagramPacket> kernelBatch(ByteBuf root, int segmentSize, int total) {
        for (int i = 0; i < total; i++) {
            root.writeByte(fill++);
        }
        ByteBuf batch = root.retainedSlice(root.readerIndex(), total);
        root.release();
        List<DatagramPacket> out = new ArrayList<>();
        while (batch.isReadable()) {
            DatagramPacket p = new DatagramPacket(batch.readRetainedSlice(Math.min(segmentSize, batch.readableBytes())),
                    LOCAL, PEER_A);
            inputs.add(p);
            out.add(p);
        }
        batch.release();
        return out;
    }

    private void assertContiguousRebuild(ByteBuf root) {
        GroAggregator agg = new GroAggregator();
        EmbeddedChannel ch = new EmbeddedChannel(agg);
        List<DatagramPacket> in = kernelBatch(root, 1400, 46 * 1400 - 600);
        byte[] expected = concat(in.toArray(new DatagramPacket[0]));
        ch.writeInbound(in.toArray());
        SegmentedDatagramPacket s = ch.readInbound();
        try {
            ByteBuf c = s.content();
            assertFalse(c instanceof CompositeByteBuf, "one slice expected, got " + c);
            assertSame(root, c.unwrap(), "a slice of the receive buffer");
            assertArrayEquals(expected, bytes(c));
            root.setByte(5, 99); // no copy: the batch sees writes to the receive buffer
            assertEquals(99, c.getByte(c.readerIndex() + 5));
            assertEquals(1400, s.segmentSize());
            assertEquals(1, agg.counters().contiguousRebuilds());
            assertEquals(1, agg.counters().kernelGroBatches());
            assertEquals(46, agg.counters().kernelGroDatagrams());
        } finally {
            s.release();
        }
        assertEquals(0, root.refCnt());
        assertFalse(ch.finish());
    }

    @Test
    void zeroCopyRebuildOfHeapKernelBatch() {
        assertContiguousRebuild(Unpooled.wrappedBuffer(new byte[65536]).clear());
    }

    @Test
    void zeroCopyRebuildOfDirectKernelBatch() {
        assertContiguousRebuild(Unpooled.wrappedBuffer(ByteBuffer.allocateDirect(65536)).clear());
    }

    @Test
    void zeroCopyRebuildOfPooledKernelBatchWithoutLeakTracking() {
        ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        ByteBuf root;
        try {
            root = new PooledByteBufAllocator(true).directBuffer(65536);
        } finally {
            ResourceLeakDetector.setLevel(level);
        }
        assertContiguousRebuild(root);
    }

    /** A leak-tracked receive buffer cannot be sliced past its tracker: the batch becomes a composite. */
    @Test
    void leakTrackedKernelBatchBecomesComposite() {
        GroAggregator agg = new GroAggregator();
        EmbeddedChannel ch = new EmbeddedChannel(agg);
        ByteBuf root = PooledByteBufAllocator.DEFAULT.directBuffer(65536);
        List<DatagramPacket> in = kernelBatch(root, 1000, 10_000);
        byte[] expected = concat(in.toArray(new DatagramPacket[0]));
        ch.writeInbound(in.toArray());
        SegmentedDatagramPacket s = ch.readInbound();
        assertArrayEquals(expected, bytes(s.content()));
        assertEquals(1, agg.counters().kernelGroBatches());
        s.release();
        assertEquals(0, root.refCnt());
        assertFalse(ch.finish());
    }

    @Test
    void separateBuffersBecomeCompositeWithoutCopy() {
        GroAggregator agg = new GroAggregator();
        EmbeddedChannel ch = new EmbeddedChannel(agg);
        DatagramPacket[] in = {dp(200), dp(200), dp(200)};
        ByteBuf firstContent = in[0].content();
        ch.writeInbound((Object[]) in);
        SegmentedDatagramPacket s = ch.readInbound();
        try {
            CompositeByteBuf c = assertInstanceOf(CompositeByteBuf.class, s.content());
            assertEquals(3, c.numComponents());
            firstContent.setByte(0, 77);
            assertEquals(77, c.getByte(0));
            assertEquals(1, agg.counters().compositeRebuilds());
            assertEquals(0, agg.counters().kernelGroBatches());
        } finally {
            s.release();
        }
        assertFalse(ch.finish());
    }

    /** Two kernel batches of the same flow and size in a row: one composite with one slice per kernel batch. */
    @Test
    void twoKernelBatchesJoinAsTwoComponents() {
        GroAggregator agg = new GroAggregator();
        EmbeddedChannel ch = new EmbeddedChannel(agg);
        List<DatagramPacket> in = new ArrayList<>(kernelBatch(Unpooled.wrappedBuffer(new byte[65536]).clear(), 500, 5000));
        in.addAll(kernelBatch(Unpooled.wrappedBuffer(new byte[65536]).clear(), 500, 4000));
        byte[] expected = concat(in.toArray(new DatagramPacket[0]));
        ch.writeInbound(in.toArray());
        SegmentedDatagramPacket s = ch.readInbound();
        try {
            CompositeByteBuf c = assertInstanceOf(CompositeByteBuf.class, s.content());
            assertEquals(2, c.numComponents());
            assertArrayEquals(expected, bytes(c));
            assertEquals(2, agg.counters().kernelGroBatches());
            assertEquals(18, agg.counters().kernelGroDatagrams());
        } finally {
            s.release();
        }
        assertFalse(ch.finish());
    }

    @Test
    void truncatedDatagramIsDetected() {
        GroAggregator agg = new GroAggregator();
        EmbeddedChannel ch = new EmbeddedChannel();
        // Reads into fixed 2048-byte buffers, as DatagramChannelTuning configures a real channel.
        ch.config().setRecvByteBufAllocator(new FixedRecvByteBufAllocator(2048));
        ch.pipeline().addLast(agg);
        // A plain datagram that exactly fills its 2048-byte receive buffer.
        DatagramPacket full = new DatagramPacket(Unpooled.buffer(2048, 2048).writeZero(2048), LOCAL, PEER_A);
        inputs.add(full);
        // A kernel batch of 1400-byte datagrams truncated to a 2048-byte buffer: 1400 + 648.
        List<DatagramPacket> batch = kernelBatch(Unpooled.wrappedBuffer(new byte[2048]).clear(), 1400, 2048);
        DatagramPacket fine = dp(2000);
        ch.writeInbound(full);
        ch.writeInbound(batch.toArray());
        ch.writeInbound(fine);
        assertEquals(2, agg.counters().truncationSuspected());
        for (Object m; (m = ch.readInbound()) != null; ) {
            ReferenceCountUtil.release(m);
        }
        assertFalse(ch.finish());
    }

    @Test
    void fullBufferIsNoTruncationWithoutFixedReceiveBuffers() {
        // A test's wrapped array (or any adaptive allocator's buffer) that the datagram fills says nothing.
        GroAggregator agg = new GroAggregator();
        EmbeddedChannel ch = new EmbeddedChannel(agg);
        DatagramPacket exact = new DatagramPacket(Unpooled.wrappedBuffer(new byte[1200]), LOCAL, PEER_A);
        inputs.add(exact);
        ch.writeInbound(exact);
        assertEquals(0, agg.counters().truncationSuspected());
        for (Object m; (m = ch.readInbound()) != null; ) {
            ReferenceCountUtil.release(m);
        }
        assertFalse(ch.finish());
    }

    private EmbeddedChannel heldBatch(GroAggregator agg, DatagramPacket... in) {
        EmbeddedChannel ch = new EmbeddedChannel(agg);
        for (DatagramPacket p : in) {
            ch.pipeline().fireChannelRead(p); // a read loop that has not completed yet
        }
        assertNull(ch.readInbound());
        assertEquals(in.length, agg.pendingDatagrams());
        return ch;
    }

    @Test
    void flushViaClose() {
        GroAggregator agg = new GroAggregator();
        DatagramPacket[] in = {dp(100), dp(100), dp(100)};
        byte[] expected = concat(in);
        EmbeddedChannel ch = heldBatch(agg, in);
        ch.close().syncUninterruptibly();
        assertBatch(ch, 100, 300, expected, PEER_A, LOCAL);
        assertEquals(0, agg.counters().droppedOnInactive());
        assertFalse(ch.finish());
    }

    @Test
    void flushViaDisconnect() {
        GroAggregator agg = new GroAggregator();
        DatagramPacket[] in = {dp(100), dp(100)};
        EmbeddedChannel ch = heldBatch(agg, in);
        ch.disconnect().syncUninterruptibly();
        assertBatch(ch, 100, 200, null, PEER_A, LOCAL);
        assertFalse(ch.finish());
    }

    @Test
    void flushViaExceptionCaught() {
        GroAggregator agg = new GroAggregator();
        DatagramPacket[] in = {dp(100), dp(100)};
        EmbeddedChannel ch = heldBatch(agg, in);
        RuntimeException boom = new RuntimeException("boom");
        ch.pipeline().fireExceptionCaught(boom);
        assertBatch(ch, 100, 200, null, PEER_A, LOCAL);
        RuntimeException thrown = assertThrows(RuntimeException.class, ch::checkException);
        assertSame(boom, thrown);
        assertFalse(ch.finish());
    }

    @Test
    void flushViaHandlerRemoved() {
        GroAggregator agg = new GroAggregator();
        DatagramPacket[] in = {dp(100), dp(100)};
        EmbeddedChannel ch = heldBatch(agg, in);
        ch.pipeline().remove(agg);
        assertBatch(ch, 100, 200, null, PEER_A, LOCAL);
        assertFalse(ch.finish());
    }

    @Test
    void flushViaFullBatchWithoutReadComplete() {
        GroAggregator agg = new GroAggregator(GroConfig.newBuilder().maxSegmentsPerBatch(4).build());
        EmbeddedChannel ch = new EmbeddedChannel(agg);
        for (int i = 0; i < 4; i++) {
            ch.pipeline().fireChannelRead(dp(10));
        }
        assertBatch(ch, 10, 40, null, PEER_A, LOCAL);
        assertFalse(ch.finish());
    }

    @Test
    void flushViaTimer() {
        GroAggregator agg = new GroAggregator(GroConfig.newBuilder().flushDelay(5, TimeUnit.MILLISECONDS).build());
        EmbeddedChannel ch = new EmbeddedChannel(agg);
        ch.freezeTime();
        ch.writeInbound(dp(100), dp(100));
        ch.writeInbound(dp(100)); // a later read loop joins the held batch
        assertNull(ch.readInbound());
        ch.advanceTimeBy(4, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertNull(ch.readInbound());
        ch.advanceTimeBy(2, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertBatch(ch, 100, 300, null, PEER_A, LOCAL);
        assertFalse(ch.finish());
    }

    @Test
    void releasesOnChannelInactive() {
        GroAggregator agg = new GroAggregator();
        DatagramPacket[] in = {dp(100), dp(100), dp(100)};
        EmbeddedChannel ch = heldBatch(agg, in);
        ch.pipeline().fireChannelInactive();
        assertEquals(3, agg.counters().droppedOnInactive());
        assertEquals(0, agg.pendingDatagrams());
        for (DatagramPacket p : in) {
            assertEquals(0, p.refCnt());
        }
        assertNull(ch.readInbound());
        assertFalse(ch.finish());
    }

    @Test
    void configBuilder() {
        GroConfig c = GroConfig.newBuilder().maxSegmentsPerBatch(16).maxBatchBytes(9000)
                .flushDelay(200, TimeUnit.MICROSECONDS).build();
        assertEquals(16, c.maxSegmentsPerBatch());
        assertEquals(9000, c.maxBatchBytes());
        assertEquals(200_000, c.flushDelayNanos());
        GroConfig d = c.toBuilder().maxSegmentsPerBatch(64).build();
        assertEquals(64, d.maxSegmentsPerBatch());
        assertEquals(9000, d.maxBatchBytes());
        assertEquals(16, c.maxSegmentsPerBatch());
        GroConfig def = GroConfig.newBuilder().build();
        assertEquals(GroConfig.DEFAULT_MAX_SEGMENTS_PER_BATCH, def.maxSegmentsPerBatch());
        assertEquals(GroConfig.DEFAULT_MAX_BATCH_BYTES, def.maxBatchBytes());
        assertEquals(GroConfig.DEFAULT_FLUSH_DELAY_NANOS, def.flushDelayNanos());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GroConfig.newBuilder().maxSegmentsPerBatch(1));
        assertTrue(e.getMessage().contains("maxSegments"));
        assertThrows(IllegalArgumentException.class, () -> GroConfig.newBuilder().maxSegmentsPerBatch(129));
        assertThrows(IllegalArgumentException.class, () -> GroConfig.newBuilder().maxBatchBytes(65528));
        assertThrows(IllegalArgumentException.class, () -> GroConfig.newBuilder().flushDelay(2, TimeUnit.SECONDS));
        assertThrows(IllegalArgumentException.class, () -> new GroAggregator(null));
    }
}
