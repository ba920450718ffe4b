package dev.nettyoffload.benchmarks;

import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.GsoType;
import dev.nettyoffload.core.packet.Ipv4IdMode;
import dev.nettyoffload.core.packet.TunnelType;
import dev.nettyoffload.gso.ChecksumMode;
import dev.nettyoffload.gso.PacketSegmenter;
import dev.nettyoffload.gso.PacketSegmenterConfig;
import dev.nettyoffload.gso.SegmentBlock;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
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

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Packet-level segmentation of one large packet (headers + 44 x 1448 = 63712 payload bytes, i.e. a 64 KiB TSO
 * packet) into 44 segments, in ns per output segment (each invocation counts as 44 operations). Payload rate in
 * Gbit/s = 1448 * 8 / (ns per segment). Includes allocating the header buffers and composites and releasing
 * the segments. {@link #sliceOnlyBaseline} is the floor: 44 retained slices, no headers, no checksums.
 * Reference (DPDK librte_gso): about 38 ns/segment without checksums, 110 ns/segment with IPv4 + TCP checksums.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
// Netty 4.2 gives pooled thread caches only to event-loop (FastThreadLocal) threads by default; JMH's thread
// gets one too, as the event loop running GsoEncoder would.
@Fork(value = 1, jvmArgsAppend = {"-Dio.netty.leakDetection.level=disabled",
        "-Dio.netty.allocator.useCacheForAllThreads=true"})
public class PacketSegmentBenchmark {
    static final int SEGMENT_SIZE = 1448;
    static final int SEGMENTS = 44;
    static final int PAYLOAD = SEGMENT_SIZE * SEGMENTS;

    /** Packet shape. */
    @Param({"TCPV4", "TCPV6", "VXLAN"})
    public String shape;

    /** Checksum mode. */
    @Param({"FULL", "PARTIAL"})
    public String checksums;

    /** Whether segments are copied into one buffer per packet ({@code PacketSegmenterConfig.copyPayload}). */
    @Param({"false", "true"})
    public boolean copy;

    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private final List<Object> out = new ArrayList<>(SEGMENTS);
    ByteBuf content;
    GsoPacket packet;
    PacketSegmenter segmenter;
    private int headerLength;

    @Setup(Level.Trial)
    public void setUp() {
        content = alloc.directBuffer(PAYLOAD + 128);
        GsoType type = GsoType.TCPV4;
        TunnelType tunnel = TunnelType.NONE;
        switch (shape) {
            case "TCPV4":
                writeIpv4(content, 6, 20 + 32 + PAYLOAD);
                break;
            case "TCPV6":
                type = GsoType.TCPV6;
                writeIpv6(content, 6, 32 + PAYLOAD);
                break;
            case "VXLAN": {
                tunnel = TunnelType.VXLAN;
                int inner = 14 + 20 + 32 + PAYLOAD;
                writeIpv4(content, 17, 20 + 8 + 8 + inner);
                content.writeShort(51000).writeShort(4789).writeShort(8 + 8 + inner).writeShort(0xFFFF);
                content.writeInt(0x08000000).writeInt(0x00123400);
                content.writeLong(0x0200000000010200L).writeInt(0x00000002).writeShort(0x0800);
                writeIpv4(content, 6, 20 + 32 + PAYLOAD);
                break;
            }
            default:
                throw new IllegalArgumentException("shape: " + shape);
        }
        writeTcp(content);
        headerLength = content.readableBytes();
        for (int i = 0; i < PAYLOAD; i++) {
            content.writeByte(i * 31 + 7);
        }
        packet = new GsoPacket(content, type, tunnel, SEGMENT_SIZE, Ipv4IdMode.INCREMENTING, SEGMENTS);
        segmenter = new PacketSegmenter(PacketSegmenterConfig.newBuilder()
                .checksumMode(ChecksumMode.valueOf(checksums)).copyPayload(copy).build());
    }

    private static void writeIpv4(ByteBuf b, int protocol, int totalLength) {
        b.writeByte(0x45).writeByte(0).writeShort(totalLength).writeShort(0x1234).writeShort(0x4000);
        b.writeByte(64).writeByte(protocol).writeShort(0);
        b.writeInt(0x0A510101).writeInt(0x0A510102);
    }

    private static void writeIpv6(ByteBuf b, int nextHeader, int payloadLength) {
        b.writeInt(0x60000042).writeShort(payloadLength).writeByte(nextHeader).writeByte(64);
        b.writeLong(0xfd81000100000000L).writeLong(1).writeLong(0xfd81000100000000L).writeLong(2);
    }

    private static void writeTcp(ByteBuf b) {
        b.writeShort(40000).writeShort(8080).writeInt(1_000_000).writeInt(77_777);
        b.writeByte(8 << 4).writeByte(0x18).writeShort(502).writeShort(0).writeShort(0);
        b.writeInt(0x0101080A).writeInt(0x01020304).writeInt(0x0A0B0C0D);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        packet.release();
    }

    @Benchmark
    @OperationsPerInvocation(SEGMENTS)
    public int segment() {
        int n = segmenter.segment(packet, alloc, out);
        for (int i = 0; i < n; i++) {
            ((ByteBuf) out.get(i)).release();
        }
        out.clear();
        return n;
    }

    /**
     * The same segments in one block ({@link PacketSegmenter#segmentBlock}, no headroom), the form a USO sender
     * or a tunnel endpoint takes: no buffer object, retain or release per segment.
     */
    @Benchmark
    @OperationsPerInvocation(SEGMENTS)
    public int segmentBlock() {
        SegmentBlock block = segmenter.segmentBlock(packet, alloc, 0);
        int n = block.count();
        block.release();
        return n;
    }

    @Benchmark
    @OperationsPerInvocation(SEGMENTS)
    public int sliceOnlyBaseline() {
        int at = content.readerIndex() + headerLength;
        for (int i = 0; i < SEGMENTS; i++) {
            out.add(content.retainedSlice(at + i * SEGMENT_SIZE, SEGMENT_SIZE));
        }
        for (int i = 0; i < SEGMENTS; i++) {
            ((ByteBuf) out.get(i)).release();
        }
        out.clear();
        return SEGMENTS;
    }
}
