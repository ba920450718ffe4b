package dev.nettyoffload.benchmarks;

import dev.nettyoffload.core.packet.InternetChecksum;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
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

import java.util.concurrent.TimeUnit;

/**
 * {@link InternetChecksum#sum} over one segment's payload, direct and heap, against a byte-at-a-time loop:
 * the cost the full-checksum mode adds per segment.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Dio.netty.leakDetection.level=disabled"})
public class ChecksumBenchmark {
    /** Bytes summed. */
    @Param({"1448"})
    public int length;

    /** Direct or heap buffer. */
    @Param({"true", "false"})
    public boolean direct;

    private ByteBuf buf;

    @Setup(Level.Trial)
    public void setUp() {
        buf = direct ? PooledByteBufAllocator.DEFAULT.directBuffer(length)
                : PooledByteBufAllocator.DEFAULT.heapBuffer(length);
        for (int i = 0; i < length; i++) {
            buf.writeByte(i * 17 + 3);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        buf.release();
    }

    @Benchmark
    public int wideReads() {
        return InternetChecksum.sum(buf, 0, length);
    }

    @Benchmark
    public int byteAtATimeBaseline() {
        long s = 0;
        for (int i = 0; i < length; i++) {
            int v = buf.getUnsignedByte(i);
            s += (i & 1) == 0 ? v << 8 : v;
        }
        return InternetChecksum.fold(s);
    }
}
