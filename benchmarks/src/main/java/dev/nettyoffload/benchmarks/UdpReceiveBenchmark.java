package dev.nettyoffload.benchmarks;

import dev.nettyoffload.examples.Cli;
import dev.nettyoffload.core.DatagramChannelTuning;
import dev.nettyoffload.core.OffloadCapabilities;
import dev.nettyoffload.core.Transport;
import dev.nettyoffload.core.UdpLimits;
import dev.nettyoffload.gro.GroAggregator;
import dev.nettyoffload.gso.GsoEncoder;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import io.netty.util.ResourceLeakDetector;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * Loopback receive throughput of a Netty pipeline, plain epoll against epoll with UDP_GRO and a
 * {@link GroAggregator} fed by a USO sender, measured side by side in one run (A B A B ..., medians).
 * <ul>
 *   <li>A, plain: Netty's default datagram channel; the sender writes one {@link DatagramPacket} per datagram
 *   (epoll sends each flush with {@code sendmmsg}).</li>
 *   <li>B, offload: {@link DatagramChannelTuning} + {@link GroAggregator} on the receiver; the sender writes
 *   {@link SegmentedDatagramPacket}s of {@value #SEGMENTS_PER_SEND} segments through a {@link GsoEncoder}.</li>
 * </ul>
 * A counting handler at the end of the receiving pipeline counts datagrams (segments of a batch included)
 * and payload bytes. Usage:
 * {@code java -cp benchmarks/target/netty-offload-benchmarks.jar dev.nettyoffload.benchmarks.UdpReceiveBenchmark
 * [SECONDS_PER_RUN=3] [PAIRS=3] [DATAGRAM_SIZE=1400]}
 */
public final class UdpReceiveBenchmark {
    static final int SEGMENTS_PER_SEND = 46;
    /** Messages written per flush by the sender before it yields its event loop. */
    static final int WRITES_PER_FLUSH_PLAIN = 64;
    static final int WRITES_PER_FLUSH_USO = 4;
    static final long WARMUP_MILLIS = 500;

    private UdpReceiveBenchmark() {
    }

    /** Counts what reaches the end of the receiving pipeline. Single writer (the receiver's event loop). */
    static final class Counter extends ChannelInboundHandlerAdapter {
        volatile long datagrams;
        volatile long bytes;
        volatile long messages;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            DatagramPacket p = (DatagramPacket) msg;
            int length = p.content().readableBytes();
            long n = 1;
            if (p instanceof SegmentedDatagramPacket) {
                int seg = ((SegmentedDatagramPacket) p).segmentSize();
                n = (length + seg - 1) / seg;
            }
            datagrams = datagrams + n;
            bytes = bytes + length;
            messages = messages + 1;
            p.release();
        }
    }

    /** Keeps the sender busy: writes while writable, flushes, yields, repeats until stopped. */
    static final class SendLoop implements Runnable {
        final Channel channel;
        final InetSocketAddress to;
        final boolean uso;
        final int datagramSize;
        volatile boolean stopped;

        SendLoop(Channel channel, InetSocketAddress to, boolean uso, int datagramSize) {
            this.channel = channel;
            this.to = to;
            this.uso = uso;
            this.datagramSize = datagramSize;
        }

        @Override
        public void run() {
            if (stopped || !channel.isActive()) {
                return;
            }
            int writes = uso ? WRITES_PER_FLUSH_USO : WRITES_PER_FLUSH_PLAIN;
            int size = uso ? datagramSize * SEGMENTS_PER_SEND : datagramSize;
            for (int i = 0; i < writes && channel.isWritable(); i++) {
                ByteBuf b = channel.alloc().directBuffer(size);
                b.writerIndex(size);
                channel.write(uso ? new SegmentedDatagramPacket(b, datagramSize, to) : new DatagramPacket(b, to),
                        channel.voidPromise());
            }
            channel.flush();
            channel.eventLoop().execute(this);
        }
    }

    static final class Result {
        final double gbps;
        final double datagramsPerSecond;
        final double meanBatch;
        /** Receiver event-loop CPU seconds per wall second (1.0 = one busy core). */
        final double receiverCpu;
        /** Gbit received per CPU second of the receiving event loop: throughput per core, robust to contention. */
        final double gbitPerReceiverCpuSecond;

        Result(double gbps, double datagramsPerSecond, double meanBatch, double receiverCpu,
               double gbitPerReceiverCpuSecond) {
            this.gbps = gbps;
            this.datagramsPerSecond = datagramsPerSecond;
            this.meanBatch = meanBatch;
            this.receiverCpu = receiverCpu;
            this.gbitPerReceiverCpuSecond = gbitPerReceiverCpuSecond;
        }
    }

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    static long threadId(EventLoopGroup group) throws Exception {
        return group.next().submit(() -> Thread.currentThread().getId()).get();
    }

    static Result run(boolean offload, EventLoopGroup receiverGroup, EventLoopGroup senderGroup, long millis,
                      int datagramSize) throws Exception {
        Transport t = Transport.EPOLL;
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        Counter counter = new Counter();
        Bootstrap rb = new Bootstrap().group(receiverGroup).channel(t.datagramChannelClass())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (offload) {
                            ch.pipeline().addLast(new GroAggregator());
                        }
                        ch.pipeline().addLast(counter);
                    }
                });
        if (offload) {
            DatagramChannelTuning.apply(rb, t);
        } else {
            // Same socket buffer as the offload path, so that only the offload differs.
            rb.option(ChannelOption.SO_RCVBUF, DatagramChannelTuning.DEFAULT_SOCKET_BUFFER_SIZE);
        }
        Channel receiver = rb.bind(new InetSocketAddress(loopback, 0)).sync().channel();
        Channel sender = new Bootstrap().group(senderGroup).channel(t.datagramChannelClass())
                .option(ChannelOption.SO_SNDBUF, DatagramChannelTuning.DEFAULT_SOCKET_BUFFER_SIZE)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (offload) {
                            ch.pipeline().addLast(new GsoEncoder(datagramSize));
                        }
                    }
                })
                .bind(new InetSocketAddress(loopback, 0)).sync().channel();
        SendLoop loop = new SendLoop(sender, (InetSocketAddress) receiver.localAddress(), offload, datagramSize);
        try {
            sender.eventLoop().execute(loop);
            Thread.sleep(WARMUP_MILLIS);
            long receiverThread = threadId(receiverGroup);
            long d0 = counter.datagrams;
            long b0 = counter.bytes;
            long m0 = counter.messages;
            long c0 = THREADS.getThreadCpuTime(receiverThread);
            long t0 = System.nanoTime();
            Thread.sleep(millis);
            long d1 = counter.datagrams;
            long b1 = counter.bytes;
            long m1 = counter.messages;
            long c1 = THREADS.getThreadCpuTime(receiverThread);
            double seconds = (System.nanoTime() - t0) / 1e9;
            double cpuSeconds = (c1 - c0) / 1e9;
            long messages = m1 - m0;
            double gbit = (b1 - b0) * 8 / 1e9;
            return new Result(gbit / seconds, (d1 - d0) / seconds,
                    messages == 0 ? 0 : (double) (d1 - d0) / messages, cpuSeconds / seconds,
                    cpuSeconds <= 0 ? 0 : gbit / cpuSeconds);
        } finally {
            loop.stopped = true;
            sender.close().sync();
            receiver.close().sync();
        }
    }

    static void print(String label, Result r) {
        System.out.printf("%s: %7.2f Gbit/s %,12.0f datagrams/s %5.1f datagrams/message, receiver CPU %4.2f,"
                + " %7.2f Gbit per receiver CPU-s%n", label, r.gbps, r.datagramsPerSecond, r.meanBatch, r.receiverCpu,
                r.gbitPerReceiverCpuSecond);
    }

    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    /** Command line of {@link UdpReceiveBenchmark}. */
    @Command(name = "UdpReceiveBenchmark", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class,
            description = {"Loopback receive throughput, plain epoll against epoll with UDP_GRO and a GroAggregator"
                    + " fed by a USO sender, in alternating runs; prints each run, the medians and their ratio."})
    static final class Options {
        @Parameters(index = "0", arity = "0..1", paramLabel = "SECONDS_PER_RUN", defaultValue = "3",
                description = "1-3600 (default: ${DEFAULT-VALUE}).")
        @Cli.Range(min = 1, max = 3600)
        long seconds;

        @Parameters(index = "1", arity = "0..1", paramLabel = "PAIRS", defaultValue = "3",
                description = "A/B pairs of runs, 1-100 (default: ${DEFAULT-VALUE}).")
        @Cli.Range(min = 1, max = 100)
        int pairs;

        @Parameters(index = "2", arity = "0..1", paramLabel = "DATAGRAM_SIZE", defaultValue = "1400",
                description = "UDP payload, 1-" + (UdpLimits.MAX_IPV4_PAYLOAD / SEGMENTS_PER_SEND)
                        + " so that a USO send stays one datagram (default: ${DEFAULT-VALUE}).")
        @Cli.Range(min = 1, max = UdpLimits.MAX_IPV4_PAYLOAD / SEGMENTS_PER_SEND)
        int datagramSize;
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the benchmark with {@code args}; returns the exit status (2 for bad input, with nothing run). */
    static int run(String... args) {
        Options options = new Options();
        return Cli.execute(options, () -> measure(options.seconds, options.pairs, options.datagramSize), args);
    }

    private static int measure(long seconds, int pairs, int datagramSize) throws Exception {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        Transport.EPOLL.ensureAvailable();
        OffloadCapabilities caps = OffloadCapabilities.get();
        System.out.println(caps);
        if (!caps.isUdpGroSupported() || !caps.isKernelSegmentationAvailable(Transport.EPOLL)) {
            System.out.println("UDP_GRO or UDP_SEGMENT missing: the offload path would not be measured");
            return Cli.FAILED;
        }
        System.out.printf("loopback, %d-byte datagrams, %d s per run, %d A/B pairs, %d CPUs, allocator %s%n",
                datagramSize, seconds, pairs, Runtime.getRuntime().availableProcessors(),
                PooledByteBufAllocator.DEFAULT.getClass().getSimpleName());
        EventLoopGroup receiverGroup = Transport.EPOLL.newEventLoopGroup(1);
        EventLoopGroup senderGroup = Transport.EPOLL.newEventLoopGroup(1);
        double[] plainGbps = new double[pairs];
        double[] plainDps = new double[pairs];
        double[] groGbps = new double[pairs];
        double[] groDps = new double[pairs];
        double[] plainPerCpu = new double[pairs];
        double[] groPerCpu = new double[pairs];
        try {
            // One untimed pair first: JIT compilation and pool warm-up otherwise land in pair 1.
            run(false, receiverGroup, senderGroup, 1000, datagramSize);
            run(true, receiverGroup, senderGroup, 1000, datagramSize);
            for (int i = 0; i < pairs; i++) {
                Result a = run(false, receiverGroup, senderGroup, seconds * 1000, datagramSize);
                plainGbps[i] = a.gbps;
                plainDps[i] = a.datagramsPerSecond;
                plainPerCpu[i] = a.gbitPerReceiverCpuSecond;
                print("run " + (i + 1) + " A plain epoll        ", a);
                Result b = run(true, receiverGroup, senderGroup, seconds * 1000, datagramSize);
                groGbps[i] = b.gbps;
                groDps[i] = b.datagramsPerSecond;
                groPerCpu[i] = b.gbitPerReceiverCpuSecond;
                print("run " + (i + 1) + " B epoll+GRO, USO send", b);
            }
        } finally {
            receiverGroup.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).sync();
            senderGroup.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).sync();
        }
        double pg = median(plainGbps);
        double gg = median(groGbps);
        double pc = median(plainPerCpu);
        double gc = median(groPerCpu);
        System.out.printf("median A plain epoll        : %7.2f Gbit/s %,12.0f datagrams/s %7.2f Gbit per receiver CPU-s%n",
                pg, median(plainDps), pc);
        System.out.printf("median B epoll+GRO, USO send: %7.2f Gbit/s %,12.0f datagrams/s %7.2f Gbit per receiver CPU-s%n",
                gg, median(groDps), gc);
        System.out.printf("ratio B/A: %.1fx bytes per second, %.1fx bytes per receiver CPU second%n",
                pg == 0 ? Double.NaN : gg / pg, pc == 0 ? Double.NaN : gc / pc);
        System.out.printf("load average at the end: %.2f%n", ManagementFactory.getOperatingSystemMXBean()
                .getSystemLoadAverage());
        return Cli.OK;
    }
}
