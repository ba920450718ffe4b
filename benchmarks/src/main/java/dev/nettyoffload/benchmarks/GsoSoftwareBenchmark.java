package dev.nettyoffload.benchmarks;

import dev.nettyoffload.gso.GsoConfig;
import dev.nettyoffload.gso.GsoEncoder;
import dev.nettyoffload.gso.GsoMode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelFuture;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
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

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * What {@link GsoEncoder}'s software path (NIO, or no kernel support) costs in Netty, without the system calls:
 * the harness's path 2 pattern against path 1's, in ns per datagram. {@code plain}: the application writes
 * {@value #BATCH} retained slices of 1400 bytes as {@code DatagramPacket}s; {@code gso}: it writes the 64400 bytes
 * once and the encoder cuts them. {@value #WRITES_PER_FLUSH} such writes, one flush, then the channel's output is
 * released, as a socket would. On a channel that cannot batch, the encoder should cost no more than the plain
 * writes it stands for.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "-Dio.netty.leakDetection.level=disabled")
public class GsoSoftwareBenchmark {
    static final int SEGMENT_SIZE = 1400;
    static final int BATCH = 46;
    static final int WRITES_PER_FLUSH = 4;
    private static final InetSocketAddress TARGET = new InetSocketAddress("127.0.0.1", 9);

    /** {@code plain} writes or {@code gso} through the encoder's software path. */
    @Param({"plain", "gso"})
    public String path;

    private ByteBuf payload;
    private EmbeddedChannel channel;
    private boolean gso;

    @Setup(Level.Trial)
    public void setUp() {
        payload = PooledByteBufAllocator.DEFAULT.directBuffer(SEGMENT_SIZE * BATCH).writeZero(SEGMENT_SIZE * BATCH);
        gso = "gso".equals(path);
        channel = gso
                ? new EmbeddedChannel(new GsoEncoder(GsoConfig.newBuilder().segmentSize(SEGMENT_SIZE)
                        .mode(GsoMode.SOFTWARE).build()))
                : new EmbeddedChannel();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        channel.finishAndReleaseAll();
        payload.release();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH * WRITES_PER_FLUSH)
    public boolean writeAndFlush() {
        ChannelFuture last = null;
        for (int w = 0; w < WRITES_PER_FLUSH; w++) {
            if (gso) {
                last = channel.write(new DatagramPacket(payload.retainedDuplicate(), TARGET));
            } else {
                for (int i = 0; i < BATCH; i++) {
                    last = channel.write(new DatagramPacket(payload.retainedSlice(i * SEGMENT_SIZE, SEGMENT_SIZE),
                            TARGET));
                }
            }
        }
        channel.flush();
        for (Object o; (o = channel.readOutbound()) != null; ) {
            ReferenceCountUtil.release(o);
        }
        return last.isSuccess();
    }
}
