package dev.nettyoffload.benchmarks;

import dev.nettyoffload.core.packet.InternetChecksum;
import dev.nettyoffload.gro.PacketCoalescer;
import dev.nettyoffload.gro.PacketFlushReason;
import dev.nettyoffload.gro.PacketGroAggregator;
import dev.nettyoffload.gro.PacketGroConfig;
import dev.nettyoffload.gro.PacketGroCounters;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Packet-level GRO of 1448-byte TCPv4 segments (raw IP, 20-byte IPv4 + 32-byte TCP header with timestamps):
 * {@value #PACKETS} packets per invocation, one flow or {@code flows} flows interleaved round-robin, then one
 * {@code channelReadComplete}, through {@link PacketGroAggregator} in a pipeline whose last handler releases what it
 * gets. In ns per input packet; payload rate in Gbit/s = 1448 * 8 / (ns per packet). Every packet's IPv4 and TCP
 * checksums are validated. Each input is a retained slice of a prebuilt packet (so merged packets take the
 * shared-buffer path with a small header buffer); {@link #sliceOnlyBaseline} is the same pipeline without the
 * aggregator, the floor to subtract, and {@link #checksumOnlyBaseline} the payload checksums alone.
 * {@link #coalesceInPlace} is the same work through {@link PacketCoalescer} outside a pipeline, each packet read
 * where it lies (no slice, no pipeline hop, no release per packet), as a dataplane's receive loop would feed it.
 * Reference (DPDK librte_gro): about 22 ns/packet without checksum validation.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Dio.netty.leakDetection.level=disabled",
        "-Dio.netty.allocator.useCacheForAllThreads=true"})
public class PacketGroBenchmark {
    static final int SEGMENT_SIZE = 1448;
    /** 16 flows x 45 segments: each flow can fill a 64 KiB merged packet within one burst. */
    static final int PACKETS = 720;

    /** Interleaved flows. */
    @Param({"1", "16"})
    public int flows;

    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    final ByteBuf[] packets = new ByteBuf[PACKETS];
    private EmbeddedChannel gro;
    private EmbeddedChannel baseline;
    private ChannelPipeline groPipeline;
    private ChannelPipeline baselinePipeline;
    private PacketGroAggregator aggregator;
    private PacketCoalescer engine;
    private final PacketCoalescer.Output release = ReferenceCountUtil::release;

    @Setup(Level.Trial)
    public void setUp() {
        long[] seq = new long[flows];
        int[] id = new int[flows];
        for (int i = 0; i < PACKETS; i++) {
            int f = i % flows;
            packets[i] = tcp4(f, seq[f], id[f]);
            seq[f] += SEGMENT_SIZE;
            id[f]++;
        }
        aggregator = new PacketGroAggregator(PacketGroConfig.newBuilder().maxFlows(Math.max(16, flows)).build());
        engine = new PacketCoalescer(PacketGroConfig.newBuilder().maxFlows(Math.max(16, flows)).build());
        gro = new EmbeddedChannel(aggregator, new Sink());
        groPipeline = gro.pipeline();
        baseline = new EmbeddedChannel(new Sink());
        baselinePipeline = baseline.pipeline();
    }

    private ByteBuf tcp4(int flow, long seq, int id) {
        ByteBuf b = alloc.directBuffer(20 + 32 + SEGMENT_SIZE);
        b.writeByte(0x45).writeByte(0).writeShort(20 + 32 + SEGMENT_SIZE).writeShort(id).writeShort(0x4000);
        b.writeByte(64).writeByte(6).writeShort(0);
        b.writeInt(0x0A560101).writeInt(0x0A560102);
        b.setShort(10, InternetChecksum.ipv4HeaderChecksum(b, 0, 20));
        b.writeShort(40000 + flow).writeShort(8080).writeInt((int) seq).writeInt(77_777);
        b.writeByte(8 << 4).writeByte(0x10).writeShort(502).writeShort(0).writeShort(0);
        b.writeInt(0x0101080A).writeInt(0x01020304).writeInt(0x0A0B0C0D);
        for (int i = 0; i < SEGMENT_SIZE; i++) {
            b.writeByte(i * 31 + flow);
        }
        long sum = InternetChecksum.pseudoHeaderIpv4(b, 0, 6, 32 + SEGMENT_SIZE)
                + InternetChecksum.sum(b, 20, 32 + SEGMENT_SIZE);
        b.setShort(20 + 16, InternetChecksum.finish(sum));
        return b;
    }

    /** The application: releases whatever arrives. */
    static final class Sink extends ChannelInboundHandlerAdapter {
        long messages;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            messages++;
            ReferenceCountUtil.release(msg);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (PacketGroCounters c : new PacketGroCounters[] {aggregator.counters(), engine.counters()}) {
            if (c.packetsIn() > 0 && (c.checksumFailures() != 0 || c.mergedPacketsOut() == 0)) {
                throw new IllegalStateException("benchmark input not merged: " + c);
            }
        }
        engine.release();
        gro.finishAndReleaseAll();
        baseline.finishAndReleaseAll();
        for (ByteBuf b : packets) {
            b.release();
        }
    }

    @Benchmark
    @OperationsPerInvocation(PACKETS)
    public void coalesce() {
        ByteBuf[] p = packets;
        for (int i = 0; i < PACKETS; i++) {
            ByteBuf b = p[i];
            groPipeline.fireChannelRead(b.retainedSlice(0, b.writerIndex()));
        }
        groPipeline.fireChannelReadComplete();
    }

    @Benchmark
    @OperationsPerInvocation(PACKETS)
    public void coalesceInPlace() {
        ByteBuf[] p = packets;
        PacketCoalescer e = engine;
        for (int i = 0; i < PACKETS; i++) {
            ByteBuf b = p[i];
            e.add(b, 0, b.writerIndex(), alloc, release);
        }
        e.flushAll(PacketFlushReason.READ_COMPLETE, alloc, release);
    }

    /** The least that validation costs: the payload checksum of every packet, nothing else. */
    @Benchmark
    @OperationsPerInvocation(PACKETS)
    public long checksumOnlyBaseline() {
        ByteBuf[] p = packets;
        long s = 0;
        for (int i = 0; i < PACKETS; i++) {
            s += InternetChecksum.sum(p[i], 20 + 32, SEGMENT_SIZE);
        }
        return s;
    }

    @Benchmark
    @OperationsPerInvocation(PACKETS)
    public void sliceOnlyBaseline() {
        ByteBuf[] p = packets;
        for (int i = 0; i < PACKETS; i++) {
            ByteBuf b = p[i];
            baselinePipeline.fireChannelRead(b.retainedSlice(0, b.writerIndex()));
        }
        baselinePipeline.fireChannelReadComplete();
    }
}
