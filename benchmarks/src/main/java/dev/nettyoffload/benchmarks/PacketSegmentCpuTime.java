package dev.nettyoffload.benchmarks;

import dev.nettyoffload.examples.Cli;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@link PacketSegmentBenchmark} workload measured in thread CPU time rather than wall time, for machines
 * shared with other load where JMH's wall-clock scores mostly measure waiting for a core. Prints ns of CPU per
 * segment and the payload rate one core would sustain. Run with
 * {@code java -cp netty-offload-benchmarks.jar -Dio.netty.allocator.useCacheForAllThreads=true
 * -Dio.netty.leakDetection.level=disabled dev.nettyoffload.benchmarks.PacketSegmentCpuTime [seconds]}.
 */
public final class PacketSegmentCpuTime {
    private PacketSegmentCpuTime() {
    }

    /** Command line of {@link PacketSegmentCpuTime}. */
    @Command(name = "PacketSegmentCpuTime", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class,
            description = {"The PacketSegmentBenchmark workload measured in thread CPU time: ns of CPU per segment"
                    + " and the payload rate one core would sustain, per packet shape and checksum mode."})
    static final class Options {
        @Parameters(index = "0", arity = "0..1", paramLabel = "SECONDS", defaultValue = "2",
                description = "Measuring time per shape and mode, 0.01-3600 (default: ${DEFAULT-VALUE}).")
        @Cli.Range(min = 0.01, max = 3600)
        double seconds;

        @Option(names = "--slices", description = "Segment with PacketSegmenterConfig.copyPayload(false): each segment"
                + " a header slice + payload slice composite instead of a copy into one buffer per packet.")
        boolean slices;
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the measurement with {@code args}; returns the exit status (2 for bad input, with nothing run). */
    static int run(String... args) {
        Options options = new Options();
        return Cli.execute(options, () -> measure(options.seconds, !options.slices), args);
    }

    private static int measure(double seconds, boolean copy) {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        for (String shape : new String[] {"TCPV4", "TCPV6", "VXLAN"}) {
            for (String mode : new String[] {"FULL", "PARTIAL"}) {
                PacketSegmentBenchmark b = new PacketSegmentBenchmark();
                b.shape = shape;
                b.checksums = mode;
                b.copy = copy;
                b.setUp();
                List<Object> out = new ArrayList<>(PacketSegmentBenchmark.SEGMENTS);
                run(b, out, 20_000); // JIT warm-up
                long bestCpu = Long.MAX_VALUE;
                int rounds = 0;
                long deadline = System.nanoTime() + (long) (seconds * 1e9);
                while (System.nanoTime() < deadline || rounds < 3) {
                    long cpu0 = mx.getCurrentThreadCpuTime();
                    run(b, out, 2_000);
                    bestCpu = Math.min(bestCpu, mx.getCurrentThreadCpuTime() - cpu0);
                    rounds++;
                }
                double nsPerSegment = bestCpu / (2_000.0 * PacketSegmentBenchmark.SEGMENTS);
                System.out.printf("%-6s %-8s %7.1f ns CPU/segment  %6.1f Gbit/s payload%n", shape, mode, nsPerSegment,
                        PacketSegmentBenchmark.SEGMENT_SIZE * 8 / nsPerSegment);
                b.tearDown();
            }
        }
        System.out.println("allocator " + PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory() + " direct bytes in use");
        return Cli.OK;
    }

    private static void run(PacketSegmentBenchmark b, List<Object> out, int packets) {
        for (int p = 0; p < packets; p++) {
            int n = b.segmenter.segment(b.packet, PooledByteBufAllocator.DEFAULT, out);
            for (int i = 0; i < n; i++) {
                ((ByteBuf) out.get(i)).release();
            }
            out.clear();
        }
    }
}
