package dev.nettyoffload.benchmarks;

import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.GsoType;
import dev.nettyoffload.core.packet.InternetChecksum;
import dev.nettyoffload.core.packet.Ipv4IdMode;
import dev.nettyoffload.core.packet.TunnelType;
import dev.nettyoffload.gro.PacketCoalescer;
import dev.nettyoffload.gro.PacketFlushReason;
import dev.nettyoffload.gro.PacketGroAggregator;
import dev.nettyoffload.gro.PacketGroConfig;
import dev.nettyoffload.gso.ChecksumMode;
import dev.nettyoffload.gso.PacketSegmenter;
import dev.nettyoffload.gso.PacketSegmenterConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.ResourceLeakDetector;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One JVM of {@link PacketEngineComparison}: measures the Java side (checksum, {@link PacketSegmenter} FULL and
 * PARTIAL, the packet GRO coalescer) on pooled direct buffers and prints {@code key=value} lines, in ns of this
 * thread's CPU time per unit, best batch of the time budget after a warm-up. GSO is measured in both output forms
 * (a buffer per segment, one block), GRO both ways in (packets as buffers of their own through
 * {@link PacketGroAggregator} in a pipeline, and read in place by {@link PacketCoalescer}).
 * <p>
 * Usage: {@code PacketEngineWorker clean|mixed seconds-per-figure}. {@code mixed} first runs checksums, GSO and
 * GRO over pooled, unpooled, heap, sliced, read-only and composite buffers, so that the measured code was
 * compiled with the type profiles of a program that uses every buffer class. The leak level, checksum kernel
 * and JDK are chosen by the parent on the command line.
 */
public final class PacketEngineWorker {
    static final int CHECKSUM_LENGTH = 1448;
    /** Extra warm-up of each GRO figure, in budgets ({@code seconds}), before its measure. */
    static final int GRO_EXTRA_WARM_UP = 3;
    private static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();

    private final double seconds;
    private final ByteBuf checksumBuf = PooledByteBufAllocator.DEFAULT.directBuffer(CHECKSUM_LENGTH + 2);
    private long sink;

    private PacketEngineWorker(double seconds) {
        this.seconds = seconds;
        for (int i = 0; i < CHECKSUM_LENGTH + 2; i++) {
            checksumBuf.writeByte(i * 17 + 3);
        }
    }

    public static void main(String[] args) throws Exception {
        String shape = args.length > 0 ? args[0] : "clean";
        double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 1;
        PacketEngineWorker w = new PacketEngineWorker(seconds);
        System.out.println("java=" + Runtime.version());
        System.out.println("kernel=" + kernelName());
        System.out.println("leak=" + ResourceLeakDetector.getLevel().name().toLowerCase(Locale.ROOT));
        if ("mixed".equals(shape)) {
            w.exerciseEveryBufferClass();
        } else if (!"clean".equals(shape)) {
            throw new IllegalArgumentException("shape: " + shape + " (expected: clean or mixed)");
        }
        w.run();
        w.checksumBuf.release();
        System.out.println("ok=1");
    }

    /** The package-private kernel name of InternetChecksum, for the report. */
    private static String kernelName() {
        try {
            Class<?> k = Class.forName("dev.nettyoffload.core.packet.ChecksumKernel");
            Field f = k.getDeclaredField("NAME");
            f.setAccessible(true);
            return (String) f.get(null);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return "unknown";
        }
    }

    private void run() {
        // -Dworker.gsoOnly=true: the GSO rows alone, for quick before/after checks of the segmenter.
        boolean gsoOnly = Boolean.getBoolean("worker.gsoOnly");
        // -Dworker.groOnly=true: the GRO rows alone, for profiles of the aggregator.
        boolean groOnly = Boolean.getBoolean("worker.groOnly");
        if (!gsoOnly && !groOnly) {
            print("cksum", measure(() -> checksums(20_000), 20_000));
            print("cksum_legacy", measure(() -> legacyChecksums(5_000), 5_000));
        }
        for (String mode : groOnly ? new String[0] : new String[] {"FULL", "PARTIAL"}) {
            PacketSegmentBenchmark gso = new PacketSegmentBenchmark();
            gso.shape = "TCPV4";
            gso.checksums = mode;
            // The segmenter's default form (copy since 359d83d); -Dworker.gsoCopy=false measures the composite one.
            gso.copy = Boolean.parseBoolean(System.getProperty("worker.gsoCopy",
                    Boolean.toString(PacketSegmenterConfig.DEFAULT.copyPayload())));
            gso.setUp();
            print("gso_" + mode.toLowerCase(Locale.ROOT),
                    measure(() -> segments(gso, 100), 100.0 * PacketSegmentBenchmark.SEGMENTS));
            print("gso_" + mode.toLowerCase(Locale.ROOT) + "_block",
                    measure(() -> blocks(gso, 100), 100.0 * PacketSegmentBenchmark.SEGMENTS));
            gso.tearDown();
        }
        for (int flows : gsoOnly ? new int[0] : new int[] {1, 16}) {
            PacketGroBenchmark gro = new PacketGroBenchmark();
            gro.flows = flows;
            gro.setUp();
            // GRO runs the most code: on a loaded machine its C2 compilations, whose threads are not measured
            // but must get the CPU, took longer than a third of the budget. Warm it up for longer.
            warmUp(() -> bursts(gro, 5), GRO_EXTRA_WARM_UP * seconds);
            print("gro" + flows, measure(() -> bursts(gro, 5), 5.0 * PacketGroBenchmark.PACKETS));
            warmUp(() -> burstsInPlace(gro, 5), GRO_EXTRA_WARM_UP * seconds);
            print("gro" + flows + "_inplace", measure(() -> burstsInPlace(gro, 5), 5.0 * PacketGroBenchmark.PACKETS));
            gro.tearDown();
        }
        if (sink == 42) {
            System.out.println("# " + sink);
        }
    }

    private static void print(String key, double ns) {
        System.out.printf(Locale.ROOT, "%s=%.2f%n", key, ns);
    }

    /** Runs {@code batch} for {@code seconds} of wall time, unmeasured. */
    private static void warmUp(Runnable batch, double seconds) {
        long end = System.nanoTime() + (long) (seconds * 1e9);
        while (System.nanoTime() < end) {
            batch.run();
        }
    }

    /** Runs {@code batch} for a warm-up third of the budget, then for the rest; the best ns of CPU per unit. */
    private double measure(Runnable batch, double unitsPerBatch) {
        long budget = (long) (seconds * 1e9);
        long warmEnd = System.nanoTime() + budget / 3;
        int warm = 0;
        while (System.nanoTime() < warmEnd || warm < 3) {
            batch.run();
            warm++;
        }
        double best = Double.MAX_VALUE;
        long end = System.nanoTime() + budget - budget / 3;
        int n = 0;
        while (System.nanoTime() < end || n < 3) {
            long t0 = MX.getCurrentThreadCpuTime();
            batch.run();
            best = Math.min(best, (MX.getCurrentThreadCpuTime() - t0) / unitsPerBatch);
            n++;
        }
        return best;
    }

    private void checksums(int n) {
        ByteBuf b = checksumBuf;
        long s = 0;
        for (int i = 0; i < n; i++) {
            // Alternating offsets keep the JIT from treating the sum as loop-invariant.
            s += InternetChecksum.sum(b, (i & 1) << 1, CHECKSUM_LENGTH);
        }
        sink += s;
    }

    private void legacyChecksums(int n) {
        ByteBuf b = checksumBuf;
        long s = 0;
        for (int i = 0; i < n; i++) {
            s += legacySum(b, (i & 1) << 1, CHECKSUM_LENGTH);
        }
        sink += s;
    }

    /**
     * The checksum loop this project used before the raw-memory kernel: two 8-byte {@code getLongLE} reads per
     * step, each with its own index and reference-count checks. A baseline only.
     */
    static int legacySum(ByteBuf buf, int index, int length) {
        long a = 0;
        long b = 0;
        int i = index;
        int end = index + length;
        while (end - i >= 16) {
            long x = buf.getLongLE(i);
            long y = buf.getLongLE(i + 8);
            a += (x & 0xFFFFFFFFL) + (x >>> 32);
            b += (y & 0xFFFFFFFFL) + (y >>> 32);
            i += 16;
        }
        a += b;
        while (end - i >= 2) {
            a += buf.getUnsignedShortLE(i);
            i += 2;
        }
        if (end - i == 1) {
            a += buf.getUnsignedByte(i);
        }
        int folded = InternetChecksum.fold(a);
        return ((folded & 0xFF) << 8) | (folded >>> 8);
    }

    private void segments(PacketSegmentBenchmark gso, int n) {
        long s = 0;
        for (int i = 0; i < n; i++) {
            s += gso.segment();
        }
        sink += s;
    }

    private void blocks(PacketSegmentBenchmark gso, int n) {
        long s = 0;
        for (int i = 0; i < n; i++) {
            s += gso.segmentBlock();
        }
        sink += s;
    }

    private static void bursts(PacketGroBenchmark gro, int n) {
        for (int i = 0; i < n; i++) {
            gro.coalesce();
        }
    }

    private static void burstsInPlace(PacketGroBenchmark gro, int n) {
        for (int i = 0; i < n; i++) {
            gro.coalesceInPlace();
        }
    }

    /** Copies of {@code source}'s readable bytes in every buffer class a program may hand to the engine. */
    private static List<ByteBuf> everyClass(ByteBuf source) {
        int len = source.readableBytes();
        int at = source.readerIndex();
        List<ByteBuf> out = new ArrayList<>();
        out.add(PooledByteBufAllocator.DEFAULT.directBuffer(len).writeBytes(source, at, len));
        out.add(PooledByteBufAllocator.DEFAULT.heapBuffer(len).writeBytes(source, at, len));
        out.add(UnpooledByteBufAllocator.DEFAULT.directBuffer(len).writeBytes(source, at, len));
        out.add(UnpooledByteBufAllocator.DEFAULT.heapBuffer(len).writeBytes(source, at, len));
        ByteBuf parent = PooledByteBufAllocator.DEFAULT.directBuffer(len + 9).writeZero(9).writeBytes(source, at, len);
        out.add(parent.retainedSlice(9, len));
        parent.release();
        ByteBuf heapParent = Unpooled.buffer(len + 3).writeZero(3).writeBytes(source, at, len);
        out.add(heapParent.readerIndex(3).asReadOnly());
        CompositeByteBuf composite = Unpooled.compositeBuffer(8);
        int[] cuts = {0, 14, 33, 52, 701, len};
        for (int c = 0; c + 1 < cuts.length; c++) {
            int from = Math.min(cuts[c], len);
            int to = Math.min(cuts[c + 1], len);
            ByteBuf part = (c & 1) == 0 ? Unpooled.directBuffer(to - from) : Unpooled.buffer(to - from);
            composite.addComponent(true, part.writeBytes(source, at + from, to - from));
        }
        out.add(composite);
        return out;
    }

    /** Checksums, GSO and GRO over every buffer class, long enough for the JIT to compile what it profiled. */
    private void exerciseEveryBufferClass() {
        long deadline = System.nanoTime() + (long) (Math.max(seconds, 0.2) * 2e9);
        List<ByteBuf> sums = everyClass(checksumBuf);
        PacketSegmentBenchmark template = new PacketSegmentBenchmark();
        template.shape = "TCPV4";
        template.checksums = "FULL";
        template.setUp();
        List<GsoPacket> packets = new ArrayList<>();
        for (ByteBuf content : everyClass(template.content)) {
            packets.add(new GsoPacket(content, GsoType.TCPV4, TunnelType.NONE, PacketSegmentBenchmark.SEGMENT_SIZE,
                    Ipv4IdMode.INCREMENTING, PacketSegmentBenchmark.SEGMENTS));
        }
        template.tearDown();
        PacketSegmenter[] segmenters = {
            new PacketSegmenter(PacketSegmenterConfig.newBuilder().checksumMode(ChecksumMode.FULL).build()),
            new PacketSegmenter(PacketSegmenterConfig.newBuilder().checksumMode(ChecksumMode.PARTIAL).build())};
        PacketGroBenchmark groTemplate = new PacketGroBenchmark();
        groTemplate.flows = 4;
        groTemplate.setUp();
        List<List<ByteBuf>> groInputs = new ArrayList<>();
        for (int i = 0; i < 90; i++) {
            groInputs.add(everyClass(groTemplate.packets[i]));
        }
        groTemplate.tearDown();
        EmbeddedChannel gro = new EmbeddedChannel(
                new PacketGroAggregator(PacketGroConfig.newBuilder().maxFlows(16).build()), new PacketGroBenchmark.Sink());
        ChannelPipeline pipeline = gro.pipeline();
        PacketCoalescer engine = new PacketCoalescer(PacketGroConfig.newBuilder().maxFlows(16).build());
        PacketCoalescer.Output release = ReferenceCountUtil::release;
        ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
        List<Object> out = new ArrayList<>();
        int rounds = 0;
        while (System.nanoTime() < deadline || rounds < 200) {
            for (ByteBuf b : sums) {
                for (int i = 0; i < 50; i++) {
                    sink += InternetChecksum.sum(b, (i & 1) << 1, CHECKSUM_LENGTH);
                    sink += legacySum(b, (i & 1) << 1, CHECKSUM_LENGTH);
                }
            }
            for (GsoPacket p : packets) {
                for (PacketSegmenter s : segmenters) {
                    int n = s.segment(p, alloc, out);
                    for (int i = 0; i < n; i++) {
                        ((ByteBuf) out.get(i)).release();
                    }
                    out.clear();
                    s.segmentBlock(p, alloc, 0).release();
                }
            }
            int kind = rounds % groInputs.get(0).size();
            for (List<ByteBuf> copies : groInputs) {
                ByteBuf b = copies.get(kind);
                pipeline.fireChannelRead(b.retainedDuplicate());
            }
            pipeline.fireChannelReadComplete();
            for (List<ByteBuf> copies : groInputs) {
                ByteBuf b = copies.get(kind);
                engine.add(b, b.readerIndex(), b.readableBytes(), alloc, release);
            }
            engine.flushAll(PacketFlushReason.READ_COMPLETE, alloc, release);
            rounds++;
        }
        gro.finishAndReleaseAll();
        engine.release();
        for (GsoPacket p : packets) {
            p.release();
        }
        for (ByteBuf b : sums) {
            b.release();
        }
        for (List<ByteBuf> copies : groInputs) {
            for (ByteBuf b : copies) {
                b.release();
            }
        }
        System.out.println("mixed_rounds=" + rounds);
    }
}
