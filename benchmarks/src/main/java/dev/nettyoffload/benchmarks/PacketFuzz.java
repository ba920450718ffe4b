package dev.nettyoffload.benchmarks;

import dev.nettyoffload.benchmarks.FuzzBuffers.BufferClass;
import dev.nettyoffload.benchmarks.FuzzPackets.Run;
import dev.nettyoffload.benchmarks.FuzzPackets.Shape;
import dev.nettyoffload.core.packet.LinkType;
import dev.nettyoffload.gro.MergedChecksum;
import dev.nettyoffload.gro.PacketCoalescer;
import dev.nettyoffload.gro.PacketFlushReason;
import dev.nettyoffload.gro.PacketGroAggregator;
import dev.nettyoffload.gro.PacketGroConfig;
import dev.nettyoffload.gro.PacketGroCounters;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.ResourceLeakDetector;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A long fuzz run of the raw-packet engine, kept out of the test suite (PacketGroFuzzTest is its short form):
 * runs of TCP segments and UDP datagrams of random shapes (IPv4/IPv6, options and extension headers, IPIP, VXLAN,
 * GRE, Ethernet with VLAN tags, fixed or incrementing IDs per header, DF on or off, CWR runs), a share of them
 * mutated into hostile packets, each in one of six buffer classes (pooled and unpooled direct, pooled and
 * unpooled heap, a slice of a larger buffer, a composite), fed in random bursts to a {@link PacketGroAggregator}
 * with random settings, or (a third of the iterations) with each burst laid out in one buffer and read in place
 * by a {@link PacketCoalescer}. Checked per iteration: no exception reaches the pipeline; every merged packet is a valid
 * packet on its own (lengths, IPv4 header and L4 checksums); segmenting every output with {@link PacketSegmenter}
 * gives back exactly the packets that went in (bytes in = bytes out per flow, nothing lost or duplicated), in
 * order within each flow; every input buffer is released; and at the end Netty's leak detector (paranoid by
 * default, which also proves itself on a buffer leaked on purpose) reports nothing. Paranoid detection costs
 * about 20x: {@code --leak-level simple} runs a million packets in 10-20 seconds, relying on the per-iteration
 * reference count checks and sampled detection.
 * <p>
 * Run: {@code java -cp netty-offload-benchmarks.jar dev.nettyoffload.benchmarks.PacketFuzz [--packets N]
 * [--seconds S] [--seed X] [--mutate-percent P] [--leak-level LEVEL]}; it stops at whichever bound comes first,
 * prints a summary and exits with status 1 on the first failure (printing the seed and iteration to replay).
 * <p>
 * This class drives the run and counts; the packets and their mutations come from {@link FuzzPackets}, their
 * buffers from {@link FuzzBuffers}, and {@link FuzzOutputCheck} judges each iteration.
 */
public final class PacketFuzz {
    /** Counts every leak Netty's detector reports. Installed through {@code io.netty.customResourceLeakDetector}. */
    public static final class CountingLeakDetector<T> extends ResourceLeakDetector<T> {
        static final AtomicLong LEAKS = new AtomicLong();

        public CountingLeakDetector(Class<?> resourceType, int samplingInterval) {
            super(resourceType, samplingInterval);
        }

        public CountingLeakDetector(Class<?> resourceType, int samplingInterval, long maxActive) {
            super(resourceType, samplingInterval);
        }

        @Override
        protected void reportTracedLeak(String resourceType, String records) {
            super.reportTracedLeak(resourceType, records);
            LEAKS.incrementAndGet();
        }

        @Override
        protected void reportUntracedLeak(String resourceType) {
            super.reportUntracedLeak(resourceType);
            LEAKS.incrementAndGet();
        }
    }

    private final Random r;
    private final int mutatePercent;
    private long packets;
    private long mutated;
    private long merged;
    private long mergedPackets;
    private long passed;
    private long bytes;
    private long iterations;
    private long inPlaceIterations;
    /** Created with this object, not statically: Netty's buffer classes must not initialise before main sets
     * the leak level. */
    private final FuzzBuffers buffers;
    private final long[] perShape = new long[Shape.values().length];

    private PacketFuzz(long seed, int mutatePercent) {
        this.r = new Random(seed);
        this.mutatePercent = mutatePercent;
        this.buffers = new FuzzBuffers(r);
    }

    public static void main(String[] args) throws Exception {
        long maxPackets = 1_000_000;
        double seconds = 600;
        long seed = System.nanoTime();
        int mutatePercent = 50;
        String leakLevel = "paranoid";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--packets": maxPackets = Long.parseLong(args[++i]); break;
                case "--seconds": seconds = Double.parseDouble(args[++i]); break;
                case "--seed": seed = Long.parseLong(args[++i]); break;
                case "--mutate-percent": mutatePercent = Integer.parseInt(args[++i]); break;
                case "--leak-level": leakLevel = args[++i]; break;
                default:
                    System.err.println("usage: PacketFuzz [--packets N] [--seconds S] [--seed X] "
                            + "[--mutate-percent P] [--leak-level disabled|simple|advanced|paranoid]");
                    System.exit(2);
                    return;
            }
        }
        // Before any Netty buffer class is initialised.
        System.setProperty("io.netty.leakDetection.level", leakLevel);
        System.setProperty("io.netty.leakDetection.targetRecords", "4");
        System.setProperty("io.netty.customResourceLeakDetector", CountingLeakDetector.class.getName());

        PacketFuzz fuzz = new PacketFuzz(seed, mutatePercent);
        long start = System.nanoTime();
        long deadline = start + (long) (seconds * 1e9);
        long nextReport = start + TimeUnit.SECONDS.toNanos(30);
        System.out.println("PacketFuzz seed " + seed + ", up to " + maxPackets + " packets or " + seconds
                + " s, " + mutatePercent + "% mutated, leak detection " + leakLevel);
        try {
            while (fuzz.packets < maxPackets && System.nanoTime() < deadline) {
                fuzz.iteration(seed);
                if (System.nanoTime() > nextReport) {
                    nextReport += TimeUnit.SECONDS.toNanos(30);
                    System.out.println("  " + fuzz.packets + " packets, " + fuzz.iterations + " iterations, "
                            + (System.nanoTime() - start) / 1_000_000_000 + " s");
                }
            }
        } catch (Throwable t) {
            System.out.println("FAILED at iteration " + fuzz.iterations + " (seed " + seed + "): " + t);
            t.printStackTrace(System.out);
            System.exit(1);
        }
        long leaks = fuzz.collectLeaks(leakLevel);
        double elapsed = (System.nanoTime() - start) / 1e9;
        System.out.println(fuzz.summary(elapsed, leaks));
        System.exit(leaks == 0 ? 0 : 1);
    }

    /**
     * Lets the leak detector see every unreachable buffer (collect, then allocate to trigger its reports) and
     * returns the leaks of the run. One buffer is leaked on purpose first, to show that the detector works: it is
     * not counted, and its absence is an error.
     */
    private long collectLeaks(String leakLevel) throws InterruptedException {
        leakCanary();
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(200);
            for (ByteBufAllocator a : buffers.allocators()) {
                for (int j = 0; j < 100; j++) {
                    a.directBuffer(16).release();
                    a.heapBuffer(16).release();
                    a.compositeDirectBuffer(2).release();
                }
            }
        }
        long leaks = CountingLeakDetector.LEAKS.get();
        if ("paranoid".equalsIgnoreCase(leakLevel)) {
            if (leaks == 0) {
                throw new IllegalStateException("the leak detector missed the buffer leaked on purpose");
            }
            return leaks - 1;
        }
        // Sampled levels may miss the canary (and any one leak); the per-iteration refCnt checks still hold.
        return leaks;
    }

    private void leakCanary() {
        buffers.pooled().directBuffer(64).writeLong(1);
    }

    private String summary(double elapsed, long leaks) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("PacketFuzz: %d packets (%d mutated, %d bytes) in %d iterations, %.1f s, %.0f packets/s%n",
                packets, mutated, bytes, iterations, elapsed, packets / elapsed));
        sb.append(String.format("  merged: %d packets into %d GsoPackets; passed through unmerged: %d%n",
                mergedPackets, merged, passed));
        sb.append(String.format("  iterations read in place by PacketCoalescer (one buffer per burst): %d%n",
                inPlaceIterations));
        sb.append("  buffer classes (a packet each, or a burst read in place):");
        for (BufferClass c : BufferClass.values()) {
            sb.append(' ').append(c).append('=').append(buffers.count(c));
        }
        sb.append("\n  flow shapes:");
        for (Shape s : Shape.values()) {
            sb.append(' ').append(s).append('=').append(perShape[s.ordinal()]);
        }
        sb.append(String.format("%n  failures: 0; leaks reported: %d", leaks));
        return sb.toString();
    }

    private void iteration(long seed) {
        iterations++;
        boolean ethernet = r.nextInt(4) == 0;
        LinkType link = ethernet ? LinkType.ETHERNET : LinkType.RAW_IP;
        int flows = 1 + r.nextInt(6);
        List<Run> runs = new ArrayList<>();
        for (int i = 0; i < flows; i++) {
            Shape shape = Shape.values()[r.nextInt(Shape.values().length)];
            perShape[shape.ordinal()]++;
            runs.add(new Run(FuzzPackets.spec(shape, ethernet, 3000 + i, r), r));
        }
        int n = 40 + r.nextInt(200);
        List<FuzzInput> in = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int f = r.nextInt(flows);
            byte[] b = runs.get(f).next(r);
            if (r.nextInt(100) < mutatePercent) {
                int ip = ethernet ? 14 + 4 * runs.get(f).spec.vlanTags : 0;
                in.add(new FuzzInput(FuzzPackets.mutate(b, r, ip), -1));
                mutated++;
            } else {
                in.add(new FuzzInput(b, f));
            }
        }
        boolean complete = r.nextInt(4) != 0;
        PacketGroConfig config = PacketGroConfig.newBuilder().linkType(link).maxFlows(1 + r.nextInt(8))
                .maxHeldBytes(PacketGroConfig.MIN_MAX_HELD_BYTES + r.nextInt(300_000))
                .maxSegmentsPerPacket(2 + r.nextInt(PacketGroConfig.MAX_SEGMENTS_PER_PACKET - 1))
                .mergedChecksum(complete ? MergedChecksum.COMPLETE : MergedChecksum.PARTIAL)
                .flushDelay(r.nextInt(3), TimeUnit.MICROSECONDS)
                .bigTcpMaxSize(r.nextBoolean() ? 0 : PacketGroConfig.MAX_BIG_TCP_MAX_SIZE).build();
        if (r.nextInt(3) == 0) {
            inPlace(in, link, complete, config);
            return;
        }
        PacketGroAggregator gro = new PacketGroAggregator(config);
        EmbeddedChannel ch = new EmbeddedChannel(gro);
        List<Object> out = new ArrayList<>();
        List<ByteBuf> inputs = new ArrayList<>(n);
        try {
            int i = 0;
            while (i < n) {
                int burst = 1 + r.nextInt(64);
                for (int j = 0; j < burst && i < n; j++, i++) {
                    ByteBuf buf = buffers.buffer(in.get(i).bytes);
                    inputs.add(buf);
                    ch.pipeline().fireChannelRead(buf);
                    if (r.nextInt(100) == 0) {
                        ch.pipeline().fireChannelRead("not a packet");
                    }
                }
                int end = r.nextInt(3);
                if (end == 0) {
                    ch.pipeline().fireChannelReadComplete();
                } else if (end == 1) {
                    ch.advanceTimeBy(5, TimeUnit.MICROSECONDS);
                    ch.runScheduledPendingTasks();
                }
                ch.checkException();
                drain(ch, out);
            }
            ch.close().syncUninterruptibly();
            ch.checkException();
            drain(ch, out);
            judge(in, out, link, complete, gro.counters());
        } finally {
            releaseAll(out);
            ch.finishAndReleaseAll();
        }
        checkReleased(inputs);
        count(in);
    }

    /**
     * The iteration's packets fed to a {@link PacketCoalescer} in place instead: each burst laid out back to back
     * in one buffer (of a random class), released by the caller right after its packets were added, the bursts
     * ending with a flush or not. Judged as the aggregator's output is.
     */
    private void inPlace(List<FuzzInput> in, LinkType link, boolean complete, PacketGroConfig config) {
        inPlaceIterations++;
        int n = in.size();
        PacketCoalescer gro = new PacketCoalescer(config);
        List<Object> out = new ArrayList<>();
        List<ByteBuf> inputs = new ArrayList<>();
        ByteBufAllocator alloc = buffers.pooled();
        try {
            int i = 0;
            while (i < n) {
                int burst = Math.min(1 + r.nextInt(64), n - i);
                int gap = r.nextInt(3) * 5;
                int[] at = new int[burst];
                int total = 0;
                for (int j = 0; j < burst; j++) {
                    at[j] = total;
                    total += in.get(i + j).bytes.length + gap;
                }
                byte[] all = new byte[total];
                for (int j = 0; j < burst; j++) {
                    byte[] b = in.get(i + j).bytes;
                    System.arraycopy(b, 0, all, at[j], b.length);
                }
                ByteBuf buf = buffers.buffer(all);
                inputs.add(buf);
                for (int j = 0; j < burst; j++, i++) {
                    gro.add(buf, buf.readerIndex() + at[j], in.get(i).bytes.length, alloc, out::add);
                }
                buf.release();
                if (r.nextBoolean()) {
                    gro.flushAll(PacketFlushReason.READ_COMPLETE, alloc, out::add);
                }
            }
            gro.flushAll(PacketFlushReason.CLOSE, alloc, out::add);
            judge(in, out, link, complete, gro.counters());
        } finally {
            releaseAll(out);
            gro.release();
        }
        checkReleased(inputs);
        count(in);
    }

    /** Judges an iteration's output ({@link FuzzOutputCheck}) and adds its counts to the run's. */
    private void judge(List<FuzzInput> in, List<Object> out, LinkType link, boolean complete, PacketGroCounters c) {
        FuzzOutputCheck.check(in, out, link, complete, c, in.size(), buffers.pooled());
        passed += c.packetsPassedThrough();
        mergedPackets += c.packetsMerged();
        merged += c.mergedPacketsOut();
    }

    private static void releaseAll(List<Object> out) {
        for (Object o : out) {
            ReferenceCountUtil.release(o);
        }
    }

    private static void checkReleased(List<ByteBuf> inputs) {
        for (int k = 0; k < inputs.size(); k++) {
            if (inputs.get(k).refCnt() != 0) {
                throw new AssertionError("input " + k + " not released: refCnt " + inputs.get(k).refCnt());
            }
        }
    }

    private void count(List<FuzzInput> in) {
        packets += in.size();
        for (FuzzInput x : in) {
            bytes += x.bytes.length;
        }
    }

    private static void drain(EmbeddedChannel ch, List<Object> out) {
        for (Object o; (o = ch.readInbound()) != null; ) {
            if (!(o instanceof String)) {
                out.add(o);
            }
        }
    }
}
