package dev.nettyoffload.benchmarks;

import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.IpProtocol;
import dev.nettyoffload.core.packet.LinkType;
import dev.nettyoffload.core.packet.PacketLayout;
import dev.nettyoffload.gro.MergedChecksum;
import dev.nettyoffload.gro.PacketGroAggregator;
import dev.nettyoffload.gro.PacketGroConfig;
import dev.nettyoffload.gro.PacketGroCounters;
import dev.nettyoffload.gso.ChecksumMode;
import dev.nettyoffload.gso.PacketSegmenter;
import dev.nettyoffload.gso.PacketSegmenterConfig;
import dev.nettyoffload.testkit.RefChecksum;
import dev.nettyoffload.testkit.TestPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.ResourceLeakDetector;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A long fuzz run of the raw-packet engine, kept out of the test suite (PacketGroFuzzTest is its short form):
 * runs of TCP segments and UDP datagrams of random shapes (IPv4/IPv6, options and extension headers, IPIP, VXLAN,
 * GRE, Ethernet with VLAN tags, fixed or incrementing IDs per header, DF on or off, CWR runs), a share of them
 * mutated into hostile packets, each in one of six buffer classes (pooled and unpooled direct, pooled and
 * unpooled heap, a slice of a larger buffer, a composite), fed in random bursts to a {@link PacketGroAggregator}
 * with random settings. Checked per iteration: no exception reaches the pipeline; every merged packet is a valid
 * packet on its own (lengths, IPv4 header and L4 checksums); segmenting every output with {@link PacketSegmenter}
 * gives back exactly the packets that went in (bytes in = bytes out per flow, nothing lost or duplicated), in
 * order within each flow; every input buffer is released; and at the end Netty's leak detector (paranoid by
 * default, which also proves itself on a buffer leaked on purpose) reports nothing. Paranoid detection costs
 * about 20x: {@code --leak-level simple} runs a million packets in about a minute, relying on the per-iteration
 * reference count checks and sampled detection.
 * <p>
 * Run: {@code java -cp netty-offload-benchmarks.jar dev.nettyoffload.benchmarks.PacketFuzz [--packets N]
 * [--seconds S] [--seed X] [--mutate-percent P] [--leak-level LEVEL]}; it stops at whichever bound comes first,
 * prints a summary and exits with status 1 on the first failure (printing the seed and iteration to replay).
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

    /** Buffer classes an input packet arrives in. */
    enum BufferClass { POOLED_DIRECT, UNPOOLED_DIRECT, POOLED_HEAP, UNPOOLED_HEAP, SLICED, COMPOSITE }

    // Instance fields, not static: Netty's buffer classes must not initialise before main sets the leak level.
    private final ByteBufAllocator pooled = PooledByteBufAllocator.DEFAULT;
    private final ByteBufAllocator unpooled = new UnpooledByteBufAllocator(true);

    private final Random r;
    private final int mutatePercent;
    private long packets;
    private long mutated;
    private long merged;
    private long mergedPackets;
    private long passed;
    private long bytes;
    private long iterations;
    private final long[] perBufferClass = new long[BufferClass.values().length];
    private final long[] perShape = new long[Shape.values().length];

    /** Packet shapes; each iteration draws one per flow. */
    enum Shape { IPV4, IPV6, IPV4_OPTIONS, IPV6_EXTENSIONS, IPIP, IP6IP6, SIT, VXLAN4, VXLAN6, GRE, ETHERNET_VLAN }

    private PacketFuzz(long seed, int mutatePercent) {
        this.r = new Random(seed);
        this.mutatePercent = mutatePercent;
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
            for (ByteBufAllocator a : new ByteBufAllocator[] {pooled, unpooled}) {
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
        pooled.directBuffer(64).writeLong(1);
    }

    private String summary(double elapsed, long leaks) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("PacketFuzz: %d packets (%d mutated, %d bytes) in %d iterations, %.1f s, %.0f packets/s%n",
                packets, mutated, bytes, iterations, elapsed, packets / elapsed));
        sb.append(String.format("  merged: %d packets into %d GsoPackets; passed through unmerged: %d%n",
                mergedPackets, merged, passed));
        sb.append("  buffer classes:");
        for (BufferClass c : BufferClass.values()) {
            sb.append(' ').append(c).append('=').append(perBufferClass[c.ordinal()]);
        }
        sb.append("\n  flow shapes:");
        for (Shape s : Shape.values()) {
            sb.append(' ').append(s).append('=').append(perShape[s.ordinal()]);
        }
        sb.append(String.format("%n  failures: 0; leaks reported: %d", leaks));
        return sb.toString();
    }

    /** One input packet: its bytes, its flow (-1 for a mutated one) and its place in that flow. */
    private static final class Input {
        final byte[] bytes;
        final int flow;

        Input(byte[] bytes, int flow) {
            this.bytes = bytes;
            this.flow = flow;
        }
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
            runs.add(new Run(spec(shape, ethernet, 3000 + i), r));
        }
        int n = 40 + r.nextInt(200);
        List<Input> in = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int f = r.nextInt(flows);
            byte[] b = runs.get(f).next(r);
            if (r.nextInt(100) < mutatePercent) {
                in.add(new Input(mutate(b, r, ethernet ? 14 + 4 * runs.get(f).spec.vlanTags : 0), -1));
                mutated++;
            } else {
                in.add(new Input(b, f));
            }
        }
        boolean complete = r.nextInt(4) != 0;
        PacketGroConfig config = PacketGroConfig.newBuilder().linkType(link).maxFlows(1 + r.nextInt(8))
                .maxHeldBytes(PacketGroConfig.MIN_MAX_HELD_BYTES + r.nextInt(300_000))
                .maxSegmentsPerPacket(2 + r.nextInt(PacketGroConfig.MAX_SEGMENTS_PER_PACKET - 1))
                .mergedChecksum(complete ? MergedChecksum.COMPLETE : MergedChecksum.PARTIAL)
                .flushDelay(r.nextInt(3), TimeUnit.MICROSECONDS)
                .bigTcpMaxSize(r.nextBoolean() ? 0 : PacketGroConfig.MAX_BIG_TCP_MAX_SIZE).build();
        PacketGroAggregator gro = new PacketGroAggregator(config);
        EmbeddedChannel ch = new EmbeddedChannel(gro);
        List<Object> out = new ArrayList<>();
        List<ByteBuf> inputs = new ArrayList<>(n);
        try {
            int i = 0;
            while (i < n) {
                int burst = 1 + r.nextInt(64);
                for (int j = 0; j < burst && i < n; j++, i++) {
                    ByteBuf buf = buffer(in.get(i).bytes);
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
            check(in, out, link, complete, gro.counters(), n);
        } finally {
            for (Object o : out) {
                ReferenceCountUtil.release(o);
            }
            ch.finishAndReleaseAll();
        }
        for (int k = 0; k < inputs.size(); k++) {
            if (inputs.get(k).refCnt() != 0) {
                throw new AssertionError("input " + k + " not released: refCnt " + inputs.get(k).refCnt());
            }
        }
        packets += n;
        for (Input x : in) {
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

    /** Bytes and order: every output, segmented again, is one input; each flow's valid packets keep their order. */
    private void check(List<Input> in, List<Object> out, LinkType link, boolean complete, PacketGroCounters c,
                       int n) {
        if (c.packetsIn() != n || c.packetsDropped() != 0 || c.packetsDroppedOnInactive() != 0) {
            throw new AssertionError("counters: " + c);
        }
        if (c.packetsPassedThrough() + c.lonePacketsOut() + c.packetsMerged() != n) {
            throw new AssertionError("not every packet accounted for: " + c);
        }
        passed += c.packetsPassedThrough();
        mergedPackets += c.packetsMerged();
        merged += c.mergedPacketsOut();
        PacketSegmenter segmenter = new PacketSegmenter(PacketSegmenterConfig.newBuilder().linkType(link)
                .checksumMode(ChecksumMode.FULL).maxSegmentsPerPacket(PacketSegmenterConfig.MAX_MAX_SEGMENTS_PER_PACKET)
                .build());
        List<byte[]> back = new ArrayList<>(n);
        for (Object o : out) {
            if (o instanceof GsoPacket) {
                GsoPacket g = (GsoPacket) o;
                checkValid(g, link, complete);
                List<Object> segs = new ArrayList<>();
                segmenter.segment(g, pooled, segs);
                if (segs.size() != g.segmentCount()) {
                    throw new AssertionError(g + " segmented into " + segs.size());
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

    /** The packet in one of the buffer classes, chosen at random. */
    private ByteBuf buffer(byte[] bytes) {
        BufferClass c = BufferClass.values()[r.nextInt(BufferClass.values().length)];
        perBufferClass[c.ordinal()]++;
        switch (c) {
            case POOLED_DIRECT:
                return pooled.directBuffer(bytes.length).writeBytes(bytes);
            case UNPOOLED_DIRECT:
                return unpooled.directBuffer(bytes.length).writeBytes(bytes);
            case POOLED_HEAP:
                return pooled.heapBuffer(bytes.length).writeBytes(bytes);
            case UNPOOLED_HEAP:
                return unpooled.heapBuffer(bytes.length).writeBytes(bytes);
            case SLICED: {
                ByteBuf parent = (r.nextBoolean() ? pooled : unpooled).directBuffer(bytes.length + 32);
                parent.writeZero(16).writeBytes(bytes).writeZero(16);
                ByteBuf slice = parent.retainedSlice(16, bytes.length);
                parent.release();
                return slice;
            }
            default: {
                CompositeByteBuf comp = pooled.compositeDirectBuffer(4);
                int at = 0;
                int parts = 1 + r.nextInt(3);
                for (int p = 0; p < parts; p++) {
                    int len = p == parts - 1 ? bytes.length - at : r.nextInt(bytes.length - at + 1);
                    ByteBuf part = (r.nextBoolean() ? pooled.heapBuffer(len) : pooled.directBuffer(len));
                    comp.addComponent(true, part.writeBytes(bytes, at, len));
                    at += len;
                }
                return comp;
            }
        }
    }

    /** A random spec of {@code shape}: every field a merge rule looks at gets a random value. */
    private TestPacket spec(Shape shape, boolean ethernet, int srcPort) {
        TestPacket s = new TestPacket();
        s.tcp = r.nextInt(4) != 0;
        s.ethernet = ethernet;
        switch (shape) {
            case IPV6: s.v6 = true; break;
            case IPV4_OPTIONS: s.ipv4OptionsLength = 4 * (1 + r.nextInt(3)); break;
            case IPV6_EXTENSIONS:
                s.v6 = true;
                s.hopByHop = r.nextBoolean();
                s.destinationOptions = true;
                s.routing = r.nextBoolean();
                break;
            case IPIP: s.tunnel = TestPacket.Tunnel.IPIP; break;
            case IP6IP6: s.tunnel = TestPacket.Tunnel.IPIP; s.v6 = true; s.outerV6 = true; break;
            case SIT: s.tunnel = TestPacket.Tunnel.IPIP; s.v6 = true; break;
            case VXLAN4: s.tunnel = TestPacket.Tunnel.VXLAN; s.outerUdpChecksum = r.nextBoolean(); break;
            case VXLAN6:
                s.tunnel = TestPacket.Tunnel.VXLAN;
                s.v6 = r.nextBoolean();
                s.outerV6 = true;
                break;
            case GRE: s.tunnel = TestPacket.Tunnel.GRE; s.greChecksum = r.nextBoolean(); s.greKey = r.nextBoolean(); break;
            case ETHERNET_VLAN: s.vlanTags = ethernet ? 1 + r.nextInt(2) : 0; break;
            default: break;
        }
        if (s.tcp && r.nextBoolean()) {
            s.tcpOptionsLength = 4 * r.nextInt(6);
        }
        s.tcpFlags = TestPacket.ACK | (r.nextInt(6) == 0 ? TestPacket.CWR : 0) | (r.nextInt(8) == 0 ? TestPacket.ECE : 0);
        s.seq = r.nextLong() & 0xFFFFFFFFL;
        s.ack = r.nextLong() & 0xFFFFFFFFL;
        s.ipv4Id = r.nextInt(65536);
        s.outerIpv4Id = r.nextInt(65536);
        s.ttl = 1 + r.nextInt(255);
        s.tos = r.nextInt(256);
        s.window = r.nextInt(65536);
        s.df = r.nextInt(4) != 0;
        s.srcPort = srcPort;
        return s;
    }

    /** One sender's stream: sizes mostly full, IDs fixed or incrementing per header, an occasional PSH. */
    private static final class Run {
        final TestPacket spec;
        final boolean fixedInner;
        final boolean fixedOuter;
        final int size;
        long seq;
        int id;
        int outerId;
        int fill;

        Run(TestPacket spec, Random r) {
            this.spec = spec;
            this.fixedInner = r.nextInt(4) == 0;
            this.fixedOuter = r.nextInt(4) == 0;
            this.size = r.nextInt(4) == 0 ? 1 + r.nextInt(3000) : 1200 + r.nextInt(300);
            this.seq = spec.seq;
            this.id = spec.ipv4Id;
            this.outerId = spec.outerIpv4Id;
        }

        byte[] next(Random r) {
            int length = r.nextInt(6) == 0 ? r.nextInt(size + 1) : size;
            if (!spec.tcp && length == 0) {
                length = 1;
            }
            byte[] payload = new byte[length];
            for (int i = 0; i < length; i++) {
                payload[i] = (byte) (fill * 7 + (fill >>> 8));
                fill++;
            }
            TestPacket.Variant v = spec.original();
            v.seq = seq;
            v.ipv4Id = id;
            v.outerIpv4Id = outerId;
            if (r.nextInt(25) == 0) {
                v.flags |= TestPacket.PSH;
            }
            byte[] b = spec.build(payload, v).bytes;
            seq = (seq + length) & 0xFFFFFFFFL;
            id = fixedInner ? id : (id + 1) & 0xFFFF;
            outerId = fixedOuter ? outerId : (outerId + 1) & 0xFFFF;
            return b;
        }
    }

    /** One of the hostile shapes, applied to a valid packet whose IP header starts at {@code ip}. */
    static byte[] mutate(byte[] b, Random r, int ip) {
        byte[] m = b.clone();
        switch (r.nextInt(12)) {
            case 0: // truncation
                return Arrays.copyOf(m, r.nextInt(m.length));
            case 1: // trailing junk: lengths disagree with the buffer
                return Arrays.copyOf(m, m.length + 1 + r.nextInt(40));
            case 2: // a bit flipped in the headers
                m[r.nextInt(Math.min(m.length, ip + 140))] ^= (byte) (1 << r.nextInt(8));
                return m;
            case 3: // a payload bit flipped: wrong checksum
                m[m.length - 1 - r.nextInt(Math.min(m.length, 100))] ^= 0x40;
                return m;
            case 4: // absurd IP version / header length
                if (m.length > ip) {
                    m[ip] = (byte) r.nextInt(256);
                }
                return m;
            case 5: // wrong IP length field
                if (m.length > ip + 6) {
                    m[ip + 2 + r.nextInt(4)] = (byte) r.nextInt(256);
                }
                return m;
            case 6: { // absurd TCP data offset or UDP length, somewhere after the IP headers
                int at = ip + 20 + r.nextInt(Math.max(1, Math.min(m.length - ip - 20, 160)));
                if (at < m.length) {
                    m[at] = (byte) (r.nextInt(16) << 4);
                }
                return m;
            }
            case 7: { // random garbage that may look like IP
                byte[] g = new byte[r.nextInt(300)];
                r.nextBytes(g);
                if (g.length > ip && r.nextBoolean()) {
                    g[ip] = (byte) (r.nextBoolean() ? 0x45 : 0x60);
                }
                return g;
            }
            case 8: // two bytes swapped: checksums still hold, the fields do not
                if (m.length > ip + 40) {
                    int i = ip + r.nextInt(Math.min(m.length - ip, 120) / 2) * 2;
                    int j = ip + r.nextInt(Math.min(m.length - ip, 120) / 2) * 2;
                    byte t = m[i];
                    m[i] = m[j];
                    m[j] = t;
                }
                return m;
            case 9: // a valid IPv4 header with another ID: checksums hold, the ID sequence breaks
                if (m.length >= ip + 20 && (m[ip] & 0xF0) == 0x40) {
                    int hl = (m[ip] & 0x0F) * 4;
                    if (hl >= 20 && m.length >= ip + hl) {
                        RefChecksum.put16(m, ip + 4, r.nextInt(65536));
                        RefChecksum.put16(m, ip + 10, 0);
                        RefChecksum.put16(m, ip + 10, RefChecksum.checksum(RefChecksum.sum(m, ip, hl, 0)));
                    }
                }
                return m;
            case 10: // every byte random except the first 20
                for (int i = Math.min(m.length, ip + 20); i < m.length; i++) {
                    m[i] = (byte) r.nextInt(256);
                }
                return m;
            default: // empty
                return new byte[0];
        }
    }
}
