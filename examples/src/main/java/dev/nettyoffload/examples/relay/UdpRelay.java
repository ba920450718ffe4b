package dev.nettyoffload.examples.relay;

import dev.nettyoffload.core.DatagramChannelTuning;
import dev.nettyoffload.core.Transport;
import dev.nettyoffload.examples.Cli;
import dev.nettyoffload.gro.GroAggregator;
import dev.nettyoffload.gro.GroConfig;
import dev.nettyoffload.gro.GroCounters;
import dev.nettyoffload.gso.GsoCounters;
import dev.nettyoffload.gso.GsoEncoder;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import io.netty.util.ReferenceCountUtil;

import java.net.InetSocketAddress;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Forwards every datagram received on one port to a target: GRO in, GSO out. A batch received as one
 * {@link SegmentedDatagramPacket} leaves as one USO write, never split, so each direction costs one system
 * call per batch instead of one per datagram.
 * <p>
 * Pipeline: {@link GsoEncoder} (outbound, nearest the channel), {@link GroAggregator}, the forwarder.
 * <pre>
 * java -cp examples/target/netty-offload-examples.jar dev.nettyoffload.examples.relay.UdpRelay \
 *     LISTEN_HOST:PORT TARGET_HOST:PORT [epoll|io_uring|nio] [SECONDS]
 * </pre>
 * Datagrams the kernel dropped before the relay read them (full receive buffer) are counted from
 * {@code /proc/net/udp} ({@link UdpSocketDrops}) and printed with the other counters.
 */
public final class UdpRelay implements AutoCloseable {
    /** Statistics lines are printed this often by {@link #main}. */
    private static final long REPORT_INTERVAL_SECONDS = 1;

    private final EventLoopGroup group;
    private final Channel channel;
    private final GroAggregator gro;
    private final GsoEncoder gso;
    private final Forwarder forwarder;
    private final UdpSocketDrops drops;

    private UdpRelay(EventLoopGroup group, Channel channel, GroAggregator gro, GsoEncoder gso, Forwarder forwarder) {
        this.group = group;
        this.channel = channel;
        this.gro = gro;
        this.gso = gso;
        this.forwarder = forwarder;
        this.drops = UdpSocketDrops.of(channel);
    }

    /** Binds {@code listen} on {@code transport} and starts forwarding to {@code target}. */
    public static UdpRelay start(Transport transport, InetSocketAddress listen, InetSocketAddress target)
            throws InterruptedException {
        EventLoopGroup group = transport.newEventLoopGroup(1);
        // io_uring ends a read loop after each datagram: let a batch wait briefly across loops there.
        GroConfig groConfig = transport == Transport.IO_URING
                ? GroConfig.newBuilder().flushDelay(200, TimeUnit.MICROSECONDS).build() : GroConfig.newBuilder().build();
        GroAggregator gro = new GroAggregator(groConfig);
        GsoEncoder gso = new GsoEncoder();
        Forwarder forwarder = new Forwarder(target);
        try {
            Bootstrap b = new Bootstrap().group(group).channel(transport.datagramChannelClass())
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(gso, gro, forwarder);
                        }
                    });
            DatagramChannelTuning.apply(b, transport);
            Channel ch = b.bind(listen).sync().channel();
            return new UdpRelay(group, ch, gro, gso, forwarder);
        } catch (InterruptedException | RuntimeException e) {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw e;
        }
    }

    public InetSocketAddress localAddress() {
        return (InetSocketAddress) channel.localAddress();
    }

    /** A consistent snapshot of the relay's counters, taken on its event loop. */
    public Stats stats() throws Exception {
        // Read off the event loop: a file read, and the kernel's count needs no consistency with ours.
        long kernelDrops = drops.read();
        return channel.eventLoop().submit(() -> new Stats(gro.counters(), gso.counters().snapshot(), forwarder,
                kernelDrops))
                .get(5, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).syncUninterruptibly();
    }

    /** What the relay has done so far. */
    public static final class Stats {
        /** Datagrams received (each segment of a kernel batch counts). */
        public final long datagramsIn;
        /** Messages the pipeline handled: batches plus lone datagrams. */
        public final long batchesIn;
        /** Batches the kernel coalesced (UDP_GRO), each read with one recvmsg. */
        public final long kernelGroBatches;
        /** Datagrams inside those kernel batches. */
        public final long kernelGroDatagrams;
        /** Messages written to the target. */
        public final long writes;
        /** Datagrams written (segments counted). */
        public final long datagramsOut;
        /** Kernel segmented sends (UDP_SEGMENT) and the segments they carried. */
        public final long usoSends;
        public final long usoSegments;
        /** Writes that failed. */
        public final long writeFailures;
        /**
         * Datagrams the kernel dropped on the listening socket before the relay read them (the {@code drops}
         * column of {@code /proc/net/udp}), or -1 where that is not available.
         */
        public final long kernelDrops;

        Stats(GroCounters gro, GsoCounters.Snapshot gso, Forwarder f, long kernelDrops) {
            datagramsIn = gro.datagramsIn();
            batchesIn = gro.batchesOut();
            kernelGroBatches = gro.kernelGroBatches();
            kernelGroDatagrams = gro.kernelGroDatagrams();
            writes = f.writes;
            datagramsOut = f.datagramsOut;
            usoSends = gso.kernelSends();
            usoSegments = gso.kernelSegments();
            writeFailures = f.failures;
            this.kernelDrops = kernelDrops;
        }

        /** recvmsg calls saved: a kernel batch of n datagrams is one call instead of n. */
        public long receiveSyscallsSaved() {
            return kernelGroDatagrams - kernelGroBatches;
        }

        /** sendmsg calls saved: a USO send of n segments is one call instead of n. */
        public long sendSyscallsSaved() {
            return usoSegments - usoSends;
        }

        @Override
        public String toString() {
            return "datagrams in " + datagramsIn + " (" + batchesIn + " batches, " + kernelGroBatches
                    + " from kernel GRO), out " + datagramsOut + " in " + writes + " writes (" + usoSends
                    + " USO sends), syscalls saved: receive " + receiveSyscallsSaved() + ", send "
                    + sendSyscallsSaved() + (writeFailures > 0 ? ", write failures " + writeFailures : "")
                    + ", dropped by the kernel " + (kernelDrops < 0 ? "unknown" : Long.toString(kernelDrops));
        }
    }

    /** Re-addresses each received message to the target; batches stay batches. Flushes per read loop. */
    static final class Forwarder extends ChannelInboundHandlerAdapter {
        private final InetSocketAddress target;
        long writes;
        long datagramsOut;
        long failures;
        private final ChannelFutureListener failureCounter = f -> {
            if (!f.isSuccess()) {
                failures++;
            }
        };

        Forwarder(InetSocketAddress target) {
            this.target = target;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof DatagramPacket)) {
                ReferenceCountUtil.release(msg);
                return;
            }
            DatagramPacket in = (DatagramPacket) msg;
            DatagramPacket out;
            int length = in.content().readableBytes();
            // The content moves to the outgoing message; no sender, so the kernel picks our source address.
            if (in instanceof SegmentedDatagramPacket) {
                int segmentSize = ((SegmentedDatagramPacket) in).segmentSize();
                out = new SegmentedDatagramPacket(in.content(), segmentSize, target);
                datagramsOut += (length + segmentSize - 1) / segmentSize;
            } else {
                out = new DatagramPacket(in.content(), target);
                datagramsOut++;
            }
            writes++;
            ctx.write(out).addListener(failureCounter);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
            ctx.fireChannelReadComplete();
        }
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the relay with {@code args}; returns the exit status (2 for bad input, with nothing bound). */
    static int run(String... args) {
        RelayOptions options = new RelayOptions();
        return Cli.execute(options, () -> relay(options), args);
    }

    private static int relay(RelayOptions options) throws Exception {
        CountDownLatch stop = new CountDownLatch(1);
        CountDownLatch printed = new CountDownLatch(1);
        // Ctrl-C: stop the loop below and let it print the final counters before the JVM exits.
        Thread hook = new Thread(() -> {
            stop.countDown();
            try {
                printed.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "udp-relay-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try (UdpRelay relay = start(options.transport, options.listen, options.target)) {
            System.out.println("READY " + relay.localAddress() + " -> " + options.target.getHostString() + ":"
                    + options.target.getPort() + " (" + options.transport + ")");
            System.out.flush();
            long end = options.seconds == Long.MAX_VALUE ? Long.MAX_VALUE
                    : System.nanoTime() + TimeUnit.SECONDS.toNanos(options.seconds);
            while (System.nanoTime() < end && !stop.await(REPORT_INTERVAL_SECONDS, TimeUnit.SECONDS)) {
                System.out.println(relay.stats());
                System.out.flush();
            }
            System.out.println("final: " + relay.stats());
            System.out.flush();
        } finally {
            printed.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // The JVM is already shutting down: the hook is running.
            }
        }
        return Cli.OK;
    }
}
