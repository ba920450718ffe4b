package dev.nettyoffload.benchmarks.harness;

import dev.nettyoffload.core.DatagramChannelTuning;
import dev.nettyoffload.core.DatagramReaderChoice;
import dev.nettyoffload.core.DatagramReaders;
import dev.nettyoffload.core.Transport;
import dev.nettyoffload.gro.GroAggregator;
import dev.nettyoffload.gro.GroConfig;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import io.netty.channel.uring.IoUringChannelOption;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * The Java receiving side of one run: binds, reports its port, waits for the first datagram, lets the warm-up
 * pass and counts what arrives during the window.
 * <p>
 * Counting happens on the channel's event loop in plain fields; the window's start and end are tasks scheduled
 * on the same loop, so the snapshots need no synchronisation. A {@link SegmentedDatagramPacket} counts as
 * {@code ceil(length / segmentSize)} datagrams and one operation.
 */
final class JavaReceiver {
    /** Asked of the kernel for every receiver (Java and C); it is capped at net.core.rmem_max. */
    static final int RECEIVE_BUFFER = 32 << 20;
    /** Largest datagram a plain epoll receiver reads per recvmmsg slot. */
    private static final int PLAIN_DATAGRAM_SLOT = 2048;
    /** Slots per recvmmsg for the plain epoll receiver (buffer size / slot size). */
    private static final int PLAIN_SLOTS_PER_READ = 32;
    /** GroAggregator flush delay on io_uring, within the 100 us - 1 ms its documentation suggests. */
    private static final long IO_URING_FLUSH_DELAY_MICROS = 200;

    private JavaReceiver() {
    }

    static Side run(Transport transport, String mode, InetSocketAddress bind, double warmup, double window,
                    double timeout, IntConsumer onReady) throws Exception {
        return run(transport, mode, bind, 1, warmup, window, timeout, ports -> onReady.accept(ports.get(0)));
    }

    /**
     * Receives {@code flows} flows, each on a channel of its own (own port, event loop, reader and aggregator);
     * {@code onReady} gets the ports in order. The result adds the flows up.
     */
    static Side run(Transport transport, String mode, InetSocketAddress bind, int flows, double warmup,
                    double window, double timeout, Consumer<List<Integer>> onReady) throws Exception {
        EventLoopGroup group = transport.newEventLoopGroup(flows);
        List<Counter> counters = new ArrayList<>();
        List<Channel> channels = new ArrayList<>();
        try {
            List<Integer> ports = new ArrayList<>();
            String reader = null;
            Iterator<EventExecutor> loops = group.iterator();
            for (int i = 0; i < flows; i++) {
                Counter counter = new Counter((long) (warmup * 1e9), (long) (window * 1e9));
                counters.add(counter);
                Bootstrap b = new Bootstrap().group((EventLoop) loops.next()).channel(transport.datagramChannelClass())
                        .option(ChannelOption.SO_RCVBUF, RECEIVE_BUFFER);
                configure(b, transport, mode, counter);
                Channel ch = b.bind(bind).sync().channel();
                channels.add(ch);
                // The reader DatagramChannelTuning chose, once it runs (Netty's for the plain paths).
                DatagramReaderChoice choice = DatagramReaders.whenStarted(ch).get(5, TimeUnit.SECONDS);
                reader = choice.reader().name();
                ports.add(((InetSocketAddress) ch.localAddress()).getPort());
            }
            onReady.accept(ports);
            long firstDeadline = System.nanoTime() + (long) (timeout * 1e9);
            for (Counter counter : counters) {
                while (!counter.started && System.nanoTime() < firstDeadline) {
                    Thread.sleep(5);
                }
                if (!counter.started) {
                    throw new RunFailedException("no datagram within " + timeout + " s"
                            + (flows > 1 ? " on one of " + flows + " flows" : ""));
                }
            }
            List<Side> sides = new ArrayList<>();
            for (Counter counter : counters) {
                try {
                    sides.add(counter.done.get((long) ((warmup + window + timeout) * 1000), TimeUnit.MILLISECONDS));
                } catch (TimeoutException e) {
                    throw new RunFailedException("receiver window did not end in time", e);
                } catch (ExecutionException e) {
                    throw new RunFailedException("receiver failed: " + e.getCause(), e.getCause());
                }
            }
            Side all = Side.combine(sides, false);
            return new Side(all.seconds, all.bytes, all.datagrams, all.ops, all.cpuSeconds, reader);
        } finally {
            for (Channel ch : channels) {
                ch.close().sync();
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /** Why this build cannot receive with {@code mode} on {@code transport}, or {@code null} when it can. */
    static String unsupportedReason(Transport transport, String mode) {
        switch (mode) {
            case "plain":
                return null;
            case "gro":
                return null;
            default:
                return "unknown receiver mode " + mode;
        }
    }

    /**
     * Sets the receive options and the handler of {@code mode} on {@code b}. The tuned mode sets its handler
     * before {@code DatagramChannelTuning.apply}, which wraps it to install the reader it chooses.
     */
    private static void configure(Bootstrap b, Transport transport, String mode, Counter counter) {
        switch (mode) {
            case "plain":
                // What a tuned plain Netty receiver does: many datagrams per read (recvmmsg on epoll, several
                // recvmsg submissions on io_uring), each in a slot of one buffer.
                if (transport == Transport.EPOLL) {
                    b.option(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, PLAIN_DATAGRAM_SLOT);
                } else if (transport == Transport.IO_URING) {
                    b.option(IoUringChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, PLAIN_DATAGRAM_SLOT);
                }
                if (transport != Transport.NIO) {
                    b.option(ChannelOption.RECVBUF_ALLOCATOR,
                            new FixedRecvByteBufAllocator(PLAIN_DATAGRAM_SLOT * PLAIN_SLOTS_PER_READ));
                }
                b.handler(counter);
                return;
            case "gro":
                // Without a batch reader, Netty's io_uring read loop ends after every datagram: batches need a
                // short delay. A batch reader's batches pass the aggregator at once.
                GroConfig config = transport == Transport.IO_URING
                        ? GroConfig.newBuilder().flushDelay(IO_URING_FLUSH_DELAY_MICROS, TimeUnit.MICROSECONDS).build()
                        : GroConfig.newBuilder().build();
                b.handler(new ChannelInitializer<DatagramChannel>() {
                    @Override
                    protected void initChannel(DatagramChannel ch) {
                        ch.pipeline().addLast(new GroAggregator(config), counter);
                    }
                });
                // The library's one-line setup: the reader for the transport and JVM, UDP_GRO, 64 KiB buffers.
                DatagramChannelTuning.apply(b, transport, DatagramChannelTuning.defaultReceiveBufferSize(transport),
                        RECEIVE_BUFFER);
                return;
            default:
                throw new IllegalArgumentException("unknown receiver mode: " + mode);
        }
    }

    /** Counts received payload on the event loop and takes the window's snapshots there. */
    static final class Counter extends ChannelInboundHandlerAdapter {
        final CompletableFuture<Side> done = new CompletableFuture<>();
        private final long warmupNanos;
        private final long windowNanos;
        volatile boolean started;
        private long bytes;
        private long datagrams;
        private long ops;
        private long beginAt;
        private long endAt;
        /** 0 warm-up, 1 measuring, 2 done. */
        private int phase;
        private EventExecutor executor;
        private long startNanos;
        private double startCpu;
        private long startBytes;
        private long startDatagrams;
        private long startOps;

        Counter(long warmupNanos, long windowNanos) {
            this.warmupNanos = warmupNanos;
            this.windowNanos = windowNanos;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            executor = ctx.executor();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof DatagramPacket) {
                    int n = ((DatagramPacket) msg).content().readableBytes();
                    bytes += n;
                    if (msg instanceof SegmentedDatagramPacket) {
                        int size = ((SegmentedDatagramPacket) msg).segmentSize();
                        datagrams += size > 0 ? (n + size - 1) / size : 1;
                    } else {
                        datagrams++;
                    }
                    ops++;
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
            long now = System.nanoTime();
            if (!started) {
                started = true;
                beginAt = now + warmupNanos;
                // Also checked per datagram below: a busy read loop may run scheduled tasks late, and a
                // stopped sender would otherwise leave the window open.
                ctx.executor().schedule(this::check, warmupNanos, TimeUnit.NANOSECONDS);
            }
            if (phase < 2 && (phase == 0 ? now >= beginAt : now >= endAt)) {
                check();
            }
        }

        private void check() {
            long now = System.nanoTime();
            if (phase == 0) {
                if (now >= beginAt) {
                    begin(now);
                } else {
                    executor.schedule(this::check, beginAt - now, TimeUnit.NANOSECONDS);
                }
            } else if (phase == 1) {
                if (now >= endAt) {
                    end(now);
                } else {
                    executor.schedule(this::check, endAt - now, TimeUnit.NANOSECONDS);
                }
            }
        }

        private void begin(long now) {
            phase = 1;
            endAt = now + windowNanos;
            executor.schedule(this::check, windowNanos, TimeUnit.NANOSECONDS);
            startNanos = now;
            startCpu = CpuClock.processCpuSeconds();
            startBytes = bytes;
            startDatagrams = datagrams;
            startOps = ops;
        }

        private void end(long now) {
            phase = 2;
            done.complete(new Side((now - startNanos) / 1e9, bytes - startBytes,
                    datagrams - startDatagrams, ops - startOps, CpuClock.processCpuSeconds() - startCpu));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            done.completeExceptionally(cause);
        }
    }
}
