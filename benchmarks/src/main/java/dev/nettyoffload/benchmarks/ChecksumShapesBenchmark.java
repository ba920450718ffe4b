package dev.nettyoffload.benchmarks;

import dev.nettyoffload.core.packet.InternetChecksum;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
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
 * {@link InternetChecksum#sum} of 1448 bytes per buffer class, in a clean JVM or one that first checksummed
 * every class ({@code polluted}, the type profiles of a real program), against the previous per-read
 * {@code getLongLE} loop ({@link #legacyGetLongLE}). Run on JDK 22+ with
 * {@code -jvmArgsAppend "--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED"} for the
 * multi-release Vector API kernel.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Dio.netty.leakDetection.level=disabled"})
public class ChecksumShapesBenchmark {
    static final int LENGTH = 1448;

    /** Buffer class measured. */
    @Param({"pooledDirect", "unpooledDirect", "pooledHeap", "slice", "composite", "readOnlyHeap"})
    public String kind;

    /** Whether every class was checksummed (and compiled for) before measuring. */
    @Param({"false", "true"})
    public boolean polluted;

    private final List<ByteBuf> all = new ArrayList<>();
    private ByteBuf buf;
    private int flip;

    @Setup(Level.Trial)
    public void setUp() {
        for (String k : new String[] {"pooledDirect", "unpooledDirect", "pooledHeap", "slice", "composite",
            "readOnlyHeap"}) {
            all.add(make(k));
        }
        buf = all.get(List.of("pooledDirect", "unpooledDirect", "pooledHeap", "slice", "composite", "readOnlyHeap")
                .indexOf(kind));
        if (polluted) {
            long s = 0;
            for (int i = 0; i < 30_000; i++) {
                for (ByteBuf b : all) {
                    s += InternetChecksum.sum(b, 0, LENGTH) + PacketEngineWorker.legacySum(b, 0, LENGTH);
                }
            }
            if (s == 42) {
                System.out.println(s);
            }
        }
    }

    private static ByteBuf make(String kind) {
        ByteBuf b;
        switch (kind) {
            case "pooledDirect":
                b = PooledByteBufAllocator.DEFAULT.directBuffer(LENGTH + 2);
                break;
            case "unpooledDirect":
                b = Unpooled.directBuffer(LENGTH + 2);
                break;
            case "pooledHeap":
                b = PooledByteBufAllocator.DEFAULT.heapBuffer(LENGTH + 2);
                break;
            case "slice":
                return fill(PooledByteBufAllocator.DEFAULT.directBuffer(LENGTH + 9).writeZero(7)).retainedSlice(7,
                        LENGTH + 2);
            case "composite": {
                CompositeByteBuf c = Unpooled.compositeBuffer();
                int[] cuts = {0, 14, 33, 52, 701, LENGTH + 2};
                for (int i = 0; i + 1 < cuts.length; i++) {
                    int n = cuts[i + 1] - cuts[i];
                    ByteBuf part = (i & 1) == 0 ? Unpooled.directBuffer(n) : Unpooled.buffer(n);
                    for (int j = 0; j < n; j++) {
                        part.writeByte((cuts[i] + j) * 17 + 3);
                    }
                    c.addComponent(true, part);
                }
                return c;
            }
            case "readOnlyHeap":
                return fill(Unpooled.buffer(LENGTH + 2)).asReadOnly();
            default:
                throw new IllegalArgumentException("kind: " + kind);
        }
        return fill(b);
    }

    private static ByteBuf fill(ByteBuf b) {
        for (int i = 0; i < LENGTH + 2; i++) {
            b.writeByte(i * 17 + 3);
        }
        return b;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (ByteBuf b : all) {
            b.release();
        }
    }

    @Benchmark
    public int kernel() {
        flip ^= 2;
        return InternetChecksum.sum(buf, flip, LENGTH);
    }

    @Benchmark
    public int legacyGetLongLE() {
        flip ^= 2;
        return PacketEngineWorker.legacySum(buf, flip, LENGTH);
    }
}
