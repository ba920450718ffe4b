package dev.nettyoffload.benchmarks;

import dev.nettyoffload.examples.Cli;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.Locale;

/**
 * The {@link GsoSoftwareBenchmark} workload measured in thread CPU time rather than wall time, for machines
 * shared with other load: plain writes and {@code GsoEncoder}'s software path in alternating slices of work, so
 * that drift hits both alike. Prints the median (min-max) ns of CPU per datagram of each and their ratio. Run with
 * {@code java -cp netty-offload-benchmarks.jar -Dio.netty.leakDetection.level=disabled
 * dev.nettyoffload.benchmarks.GsoSoftwareCpuTime [seconds]}.
 */
public final class GsoSoftwareCpuTime {
    /** Invocations (of 184 datagrams) per measured slice. */
    private static final int SLICE = 2_000;

    private GsoSoftwareCpuTime() {
    }

    /** Command line of {@link GsoSoftwareCpuTime}. */
    @Command(name = "GsoSoftwareCpuTime", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class,
            description = {"The GsoSoftwareBenchmark workload measured in thread CPU time: ns of CPU per datagram"
                    + " for plain writes and for GsoEncoder's software path, interleaved, and their ratio."})
    static final class Options {
        @Parameters(index = "0", arity = "0..1", paramLabel = "SECONDS", defaultValue = "4",
                description = "Measuring time in all, 0.01-3600 (default: ${DEFAULT-VALUE}).")
        @Cli.Range(min = 0.01, max = 3600)
        double seconds;
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the measurement with {@code args}; returns the exit status (2 for bad input, with nothing run). */
    static int run(String... args) {
        Options options = new Options();
        return Cli.execute(options, () -> measure(options.seconds), args);
    }

    private static int measure(double seconds) {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        GsoSoftwareBenchmark plain = benchmark("plain");
        GsoSoftwareBenchmark gso = benchmark("gso");
        try {
            for (int i = 0; i < 10; i++) { // JIT warm-up, both paths seen
                slice(plain, mx);
                slice(gso, mx);
            }
            double[] plainNs = new double[64];
            double[] gsoNs = new double[64];
            int n = 0;
            long deadline = System.nanoTime() + (long) (seconds * 1e9);
            while ((System.nanoTime() < deadline || n < 3) && n < plainNs.length) {
                plainNs[n] = slice(plain, mx);
                gsoNs[n] = slice(gso, mx);
                n++;
            }
            plainNs = Arrays.copyOf(plainNs, n);
            gsoNs = Arrays.copyOf(gsoNs, n);
            Arrays.sort(plainNs);
            Arrays.sort(gsoNs);
            System.out.printf(Locale.ROOT, "plain writes          %6.1f ns CPU/datagram (%.1f-%.1f)%n",
                    plainNs[n / 2], plainNs[0], plainNs[n - 1]);
            System.out.printf(Locale.ROOT, "GsoEncoder (software) %6.1f ns CPU/datagram (%.1f-%.1f)%n",
                    gsoNs[n / 2], gsoNs[0], gsoNs[n - 1]);
            System.out.printf(Locale.ROOT, "GsoEncoder / plain    %6.2fx (medians of %d slices each)%n",
                    gsoNs[n / 2] / plainNs[n / 2], n);
        } finally {
            plain.tearDown();
            gso.tearDown();
        }
        return Cli.OK;
    }

    private static GsoSoftwareBenchmark benchmark(String path) {
        GsoSoftwareBenchmark b = new GsoSoftwareBenchmark();
        b.path = path;
        b.setUp();
        return b;
    }

    /** Runs one slice of work and returns its CPU time per datagram. */
    private static double slice(GsoSoftwareBenchmark b, ThreadMXBean mx) {
        long cpu0 = mx.getCurrentThreadCpuTime();
        for (int i = 0; i < SLICE; i++) {
            if (!b.writeAndFlush()) {
                throw new IllegalStateException("a write failed");
            }
        }
        return (mx.getCurrentThreadCpuTime() - cpu0)
                / (double) (SLICE * GsoSoftwareBenchmark.BATCH * GsoSoftwareBenchmark.WRITES_PER_FLUSH);
    }
}
