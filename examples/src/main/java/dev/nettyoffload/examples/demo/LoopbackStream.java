package dev.nettyoffload.examples.demo;

import dev.nettyoffload.core.DatagramChannelTuning;
import dev.nettyoffload.core.Transport;
import dev.nettyoffload.gro.GroAggregator;
import dev.nettyoffload.gro.GroConfig;
import dev.nettyoffload.gro.GroCounters;
import dev.nettyoffload.gso.GsoConfig;
import dev.nettyoffload.gso.GsoCounters;
import dev.nettyoffload.gso.GsoEncoder;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import io.netty.util.ReferenceCountUtil;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One timed loopback UDP stream of 64 KiB writes, sent plainly or through {@link GsoEncoder} and received
 * plainly or through {@link GroAggregator}, counting what the receiver got as well as what was sent.
 */
final class LoopbackStream {
    static final int WRITE_SIZE = 65536;
    /** Writes in flight per flush; keeps the sender busy without unbounded queueing. */
    private static final int WRITES_PER_FLUSH = 4;
    /** SO_RCVBUF asked for by both receivers (the kernel caps it at net.core.rmem_max). */
    private static final int RECEIVE_SOCKET_BUFFER = 8 << 20;
    /** GroAggregator's flush delay on io_uring, whose read loop ends after every datagram. */
    private static final long IO_URING_FLUSH_DELAY_MICROS = 200;

    private LoopbackStream() {
    }

    /** Who cuts the 64 KiB writes into datagrams, and who reads them. */
    enum Mode {
        /** The application writes one datagram per call; the receiver reads one datagram per message. */
        PLAIN("plain writes -> plain receiver", false, false),
        /** {@link GsoEncoder} cuts each write (the kernel, where it can); the receiver is unchanged. */
        GSO("GsoEncoder -> plain receiver", true, false),
        /** {@link GsoEncoder} sends; {@link DatagramChannelTuning} and {@link GroAggregator} receive in batches. */
        GSO_GRO("GsoEncoder -> GroAggregator", true, true);

        final String label;
        final boolean gso;
        final boolean gro;

        Mode(String label, boolean gso, boolean gro) {
            this.label = label;
            this.gso = gso;
            this.gro = gro;
        }
    }

    /** What one run sent and what its receiver got. */
    static final class Result {
        final Mode mode;
        /** From the first write to the last datagram received. */
        final double seconds;
        final long sentBytes;
        final long sentDatagrams;
        /** Messages the sending socket was handed: datagrams, or kernel sends plus single and software datagrams. */
        final long sendOps;
        final long receivedBytes;
        final long receivedDatagrams;
        /** Messages the receiving application read: datagrams, or batches from {@link GroAggregator}. */
        final long receivedMessages;
        /** The encoder's counters at the end of the run, or null without an encoder. */
        final GsoCounters.Snapshot gsoCounters;
        /** The aggregator's counters at the end of the run, or null without one. */
        final GroCounters groCounters;

        Result(Mode mode, double seconds, long sentBytes, long sentDatagrams, long sendOps, long receivedBytes,
               long receivedDatagrams, long receivedMessages, GsoCounters.Snapshot gsoCounters,
               GroCounters groCounters) {
            this.mode = mode;
            this.seconds = seconds;
            this.sentBytes = sentBytes;
            this.sentDatagrams = sentDatagrams;
            this.sendOps = sendOps;
            this.receivedBytes = receivedBytes;
            this.receivedDatagrams = receivedDatagrams;
            this.receivedMessages = receivedMessages;
            this.gsoCounters = gsoCounters;
            this.groCounters = groCounters;
        }

        /** Payload the receiver got per second: what the stream delivered, whatever was sent. */
        double deliveredGbps() {
            return receivedBytes * 8 / seconds / 1e9;
        }

        /** Percent of the datagrams sent that the receiver never got. */
        double lostPercent() {
            return sentDatagrams == 0 ? 0 : 100.0 * Math.max(0, sentDatagrams - receivedDatagrams) / sentDatagrams;
        }

        double sendOpsPerMb() {
            return sendOps / Math.max(1e-9, sentBytes / 1e6);
        }
    }

    static Result run(Transport transport, Mode mode, int segmentSize, double seconds) throws Exception {
        EventLoopGroup receiverGroup = transport.newEventLoopGroup(1);
        EventLoopGroup senderGroup = transport.newEventLoopGroup(1);
        ByteBuf payload = PooledByteBufAllocator.DEFAULT.directBuffer(WRITE_SIZE).writeZero(WRITE_SIZE);
        try {
            Receiver counter = new Receiver(segmentSize);
            GroAggregator aggregator = mode.gro ? new GroAggregator(groConfig(transport)) : null;
            Bootstrap rb = new Bootstrap().group(receiverGroup).channel(transport.datagramChannelClass());
            if (mode.gro) {
                // UDP_GRO on epoll, receive buffers a batch fits in, pooled buffers: the library's one-line setup.
                DatagramChannelTuning.apply(rb, transport, DatagramChannelTuning.defaultReceiveBufferSize(transport),
                        RECEIVE_SOCKET_BUFFER);
                rb.handler(new ChannelInitializer<DatagramChannel>() {
                    @Override
                    protected void initChannel(DatagramChannel ch) {
                        ch.pipeline().addLast(aggregator, counter);
                    }
                });
            } else {
                rb.option(ChannelOption.SO_RCVBUF, RECEIVE_SOCKET_BUFFER).handler(counter);
            }
            Channel receiver = rb.bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
            GsoEncoder encoder = mode.gso
                    ? new GsoEncoder(GsoConfig.newBuilder().segmentSize(segmentSize).build()) : null;
            Channel sender = new Bootstrap().group(senderGroup).channel(transport.datagramChannelClass())
                    .option(ChannelOption.SO_SNDBUF, 4 << 20)
                    .handler(encoder != null ? encoder : new ChannelInboundHandlerAdapter())
                    .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
            InetSocketAddress target = (InetSocketAddress) receiver.localAddress();
            Sender loop = new Sender(sender, payload, target, mode.gso, segmentSize,
                    System.nanoTime() + (long) (seconds * 1e9));
            long start = System.nanoTime();
            sender.eventLoop().execute(loop::sendRound);
            loop.done.get((long) (seconds * 1000) + 10_000, TimeUnit.MILLISECONDS);
            Thread.sleep(100); // let the receiver drain its socket buffer
            sender.close().sync();
            // Closing on the receiver's event loop orders its counts before this thread reads them.
            receiver.close().sync();
            GsoCounters.Snapshot gsoCounters = encoder != null ? encoder.counters().snapshot() : null;
            long sendOps = gsoCounters != null
                    ? gsoCounters.kernelSends() + gsoCounters.singleDatagrams() + gsoCounters.softwareDatagrams()
                    + gsoCounters.passedThrough()
                    : loop.datagrams;
            long end = counter.messages > 0 ? counter.lastReadNanos : System.nanoTime();
            return new Result(mode, Math.max(1e-9, (end - start) / 1e9), loop.bytes, loop.datagrams, sendOps,
                    counter.bytes, counter.datagrams, counter.messages, gsoCounters,
                    aggregator != null ? aggregator.counters().snapshot() : null);
        } finally {
            payload.release();
            senderGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
            receiverGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    private static GroConfig groConfig(Transport transport) {
        return transport == Transport.IO_URING
                ? GroConfig.newBuilder().flushDelay(IO_URING_FLUSH_DELAY_MICROS, TimeUnit.MICROSECONDS).build()
                : GroConfig.DEFAULT;
    }

    /** Counts payload, datagrams and messages on the receiver's event loop, in plain fields. */
    private static final class Receiver extends ChannelInboundHandlerAdapter {
        private final int segmentSize;
        long bytes;
        long datagrams;
        long messages;
        long lastReadNanos;

        Receiver(int segmentSize) {
            this.segmentSize = segmentSize;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof DatagramPacket) {
                    int n = ((DatagramPacket) msg).content().readableBytes();
                    bytes += n;
                    messages++;
                    if (msg instanceof SegmentedDatagramPacket) {
                        // Every segment is segmentSize bytes but a shorter last one.
                        int size = ((SegmentedDatagramPacket) msg).segmentSize();
                        datagrams += size > 0 ? (n + size - 1) / size : 1;
                    } else {
                        datagrams++;
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            lastReadNanos = System.nanoTime();
        }
    }

    /** Runs on the sender's event loop: a round of writes, a flush, and the next round when it completes. */
    private static final class Sender {
        final CompletableFuture<Void> done = new CompletableFuture<>();
        private final Channel channel;
        private final ByteBuf payload;
        private final InetSocketAddress target;
        private final boolean gso;
        private final int segmentSize;
        private final long deadline;
        long bytes;
        long datagrams;

        Sender(Channel channel, ByteBuf payload, InetSocketAddress target, boolean gso, int segmentSize,
               long deadline) {
            this.channel = channel;
            this.payload = payload;
            this.target = target;
            this.gso = gso;
            this.segmentSize = segmentSize;
            this.deadline = deadline;
        }

        void sendRound() {
            if (System.nanoTime() >= deadline || !channel.isActive()) {
                done.complete(null);
                return;
            }
            ChannelFuture last = null;
            for (int w = 0; w < WRITES_PER_FLUSH; w++) {
                if (gso) {
                    last = channel.write(new DatagramPacket(payload.retainedDuplicate(), target));
                    datagrams += (WRITE_SIZE + segmentSize - 1) / segmentSize;
                } else {
                    for (int off = 0; off < WRITE_SIZE; off += segmentSize) {
                        int n = Math.min(segmentSize, WRITE_SIZE - off);
                        last = channel.write(new DatagramPacket(payload.retainedSlice(off, n), target));
                        datagrams++;
                    }
                }
                bytes += WRITE_SIZE;
            }
            channel.flush();
            // Writes complete in order, so the last one completing means the round is out.
            last.addListener(f -> channel.eventLoop().execute(this::sendRound));
        }
    }
}
