package dev.nettyoffload.examples.demo;

import dev.nettyoffload.core.Transport;
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
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** One timed loopback UDP stream of 64 KiB writes, plain or through {@link GsoEncoder}. */
final class LoopbackStream {
    static final int WRITE_SIZE = 65536;
    /** Writes in flight per flush; keeps the sender busy without unbounded queueing. */
    private static final int WRITES_PER_FLUSH = 4;

    private LoopbackStream() {
    }

    /** What one run moved. */
    static final class Result {
        final double seconds;
        final long sentBytes;
        final long sentDatagrams;
        final long sendOps;
        final long receivedBytes;
        final long receivedDatagrams;
        /** The encoder's counters at the end of the run, or null without an encoder. */
        final GsoCounters.Snapshot counters;

        Result(double seconds, long sentBytes, long sentDatagrams, long sendOps, long receivedBytes,
               long receivedDatagrams, GsoCounters.Snapshot counters) {
            this.seconds = seconds;
            this.sentBytes = sentBytes;
            this.sentDatagrams = sentDatagrams;
            this.sendOps = sendOps;
            this.receivedBytes = receivedBytes;
            this.receivedDatagrams = receivedDatagrams;
            this.counters = counters;
        }

        double sentGbps() {
            return sentBytes * 8 / seconds / 1e9;
        }

        double receivedGbps() {
            return receivedBytes * 8 / seconds / 1e9;
        }

        double sendOpsPerMb() {
            return sendOps / Math.max(1e-9, sentBytes / 1e6);
        }

        static String header() {
            return String.format(Locale.ROOT, "%-27s %12s %14s %12s %14s %12s", "mode", "sent Gbit/s",
                    "sent datagrams", "send ops/MB", "recv datagrams", "recv Gbit/s");
        }

        String row(String mode) {
            return String.format(Locale.ROOT, "%-27s %12.2f %14d %12.1f %14d %12.2f", mode, sentGbps(),
                    sentDatagrams, sendOpsPerMb(), receivedDatagrams, receivedGbps());
        }

        /** The run with the median sent throughput. */
        static Result median(List<Result> runs) {
            List<Result> sorted = new ArrayList<>(runs);
            sorted.sort(Comparator.comparingDouble(Result::sentGbps));
            return sorted.get(sorted.size() / 2);
        }
    }

    static Result run(Transport transport, boolean gso, int segmentSize, double seconds) throws Exception {
        EventLoopGroup receiverGroup = transport.newEventLoopGroup(1);
        EventLoopGroup senderGroup = transport.newEventLoopGroup(1);
        AtomicLong receivedBytes = new AtomicLong();
        AtomicLong receivedDatagrams = new AtomicLong();
        ByteBuf payload = PooledByteBufAllocator.DEFAULT.directBuffer(WRITE_SIZE).writeZero(WRITE_SIZE);
        try {
            Channel receiver = new Bootstrap().group(receiverGroup).channel(transport.datagramChannelClass())
                    .option(ChannelOption.SO_RCVBUF, 8 << 20)
                    .handler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            receivedBytes.addAndGet(((DatagramPacket) msg).content().readableBytes());
                            receivedDatagrams.incrementAndGet();
                            ReferenceCountUtil.release(msg);
                        }
                    })
                    .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
            GsoEncoder encoder = gso ? new GsoEncoder(GsoConfig.newBuilder().segmentSize(segmentSize).build()) : null;
            Channel sender = new Bootstrap().group(senderGroup).channel(transport.datagramChannelClass())
                    .option(ChannelOption.SO_SNDBUF, 4 << 20)
                    .handler(encoder != null ? encoder : new ChannelInboundHandlerAdapter())
                    .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
            InetSocketAddress target = (InetSocketAddress) receiver.localAddress();
            Sender loop = new Sender(sender, payload, target, gso, segmentSize,
                    System.nanoTime() + (long) (seconds * 1e9));
            long start = System.nanoTime();
            sender.eventLoop().execute(loop::sendRound);
            loop.done.get((long) (seconds * 1000) + 10_000, TimeUnit.MILLISECONDS);
            double elapsed = (System.nanoTime() - start) / 1e9;
            Thread.sleep(100); // let the receiver drain its socket buffer
            sender.close().sync();
            receiver.close().sync();
            GsoCounters.Snapshot counters = encoder != null ? encoder.counters().snapshot() : null;
            long sendOps = gso
                    ? counters.kernelSends() + counters.singleDatagrams() + counters.softwareDatagrams() : loop.datagrams;
            return new Result(elapsed, loop.bytes, loop.datagrams, sendOps, receivedBytes.get(),
                    receivedDatagrams.get(), counters);
        } finally {
            payload.release();
            senderGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
            receiverGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
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
