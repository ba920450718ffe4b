package dev.nettyoffload.benchmarks.harness;

import dev.nettyoffload.core.Transport;
import dev.nettyoffload.gso.GsoConfig;
import dev.nettyoffload.gso.GsoCounters;
import dev.nettyoffload.gso.GsoEncoder;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.DatagramPacket;

import io.netty.util.concurrent.EventExecutor;

import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The Java sending side of one run: streams {@code segmentSize}-byte datagrams and
 * reports what it handed to the kernel during the window.
 * <p>
 * The sender's window starts after its own warm-up; after the window it keeps sending until the parent says
 * {@code STOP} (when the receiver's window is over) or the maximum tail has passed.
 * <p>
 * A chunk is {@code batch} datagrams. Path 1 writes a chunk as {@code batch} {@link DatagramPacket}s (retained
 * slices of one buffer); the GSO paths write it as one {@link DatagramPacket} that {@link GsoEncoder} cuts. A
 * round is {@code writesPerFlush} chunks and one flush; the next round starts when the last write of the round
 * has completed, which bounds what is queued. Operations are counted at the API: one per datagram for path 1
 * (epoll still sends them with sendmmsg, many per system call), kernel sends plus single and software datagrams
 * of the encoder for the GSO paths.
 */
final class JavaSender {
    /** Asked of the kernel for every sender (Java and C); capped at net.core.wmem_max. */
    static final int SEND_BUFFER = 4 << 20;

    private JavaSender() {
    }

    static Side run(Transport transport, String mode, InetSocketAddress target, int segmentSize, int batch,
                    int writesPerFlush, double warmup, double window, double maxTail, AtomicBoolean stop)
            throws Exception {
        return run(transport, mode, List.of(target), segmentSize, batch, writesPerFlush, warmup, window, maxTail,
                stop);
    }

    /** Sends one flow to each target, each from a channel on its own event loop; the result adds them up. */
    static Side run(Transport transport, String mode, List<InetSocketAddress> targets, int segmentSize, int batch,
                    int writesPerFlush, double warmup, double window, double maxTail, AtomicBoolean stop)
            throws Exception {
        boolean gso;
        switch (mode) {
            case "plain":
                gso = false;
                break;
            case "gso":
                gso = true;
                break;
            default:
                throw new IllegalArgumentException("unknown sender mode: " + mode);
        }
        EventLoopGroup group = transport.newEventLoopGroup(targets.size());
        int chunk = segmentSize * batch;
        ByteBuf payload = PooledByteBufAllocator.DEFAULT.directBuffer(chunk).writeZero(chunk);
        List<Channel> channels = new ArrayList<>();
        List<Loop> loops = new ArrayList<>();
        try {
            Iterator<EventExecutor> executors = group.iterator();
            for (InetSocketAddress target : targets) {
                GsoEncoder encoder = gso ? new GsoEncoder(GsoConfig.newBuilder().segmentSize(segmentSize).build())
                        : null;
                ChannelHandler handler = encoder != null ? encoder : new ChannelInboundHandlerAdapter();
                InetSocketAddress local = target.getAddress() instanceof Inet6Address
                        ? new InetSocketAddress("::", 0) : new InetSocketAddress("0.0.0.0", 0);
                Channel ch = new Bootstrap().group((EventLoop) executors.next())
                        .channel(transport.datagramChannelClass())
                        .option(ChannelOption.SO_SNDBUF, SEND_BUFFER)
                        .handler(handler)
                        .bind(local).sync().channel();
                channels.add(ch);
                loops.add(new Loop(ch, payload, target, encoder, segmentSize, batch, writesPerFlush,
                        (long) (warmup * 1e9), (long) (window * 1e9), (long) (maxTail * 1e9), stop));
            }
            for (int i = 0; i < loops.size(); i++) {
                Loop loop = loops.get(i);
                channels.get(i).eventLoop().execute(loop::start);
            }
            List<Side> sides = new ArrayList<>();
            try {
                for (Loop loop : loops) {
                    sides.add(loop.done.get((long) ((warmup + window + maxTail) * 1000) + 10_000,
                            TimeUnit.MILLISECONDS));
                }
            } catch (TimeoutException e) {
                throw new RunFailedException("sender did not finish in time", e);
            } catch (ExecutionException e) {
                throw new RunFailedException("sender failed: " + e.getCause(), e.getCause());
            } finally {
                for (Loop loop : loops) {
                    loop.stopped = true;
                }
            }
            return Side.combine(sides, false);
        } finally {
            for (Channel ch : channels) {
                ch.close().sync();
            }
            payload.release();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /** Runs on the sender's event loop. */
    private static final class Loop implements ChannelFutureListener {
        final CompletableFuture<Side> done = new CompletableFuture<>();
        volatile boolean stopped;
        private final AtomicBoolean stopRequest;
        private final Channel channel;
        private final ByteBuf payload;
        private final InetSocketAddress target;
        private final GsoEncoder encoder;
        private final int segmentSize;
        private final int batch;
        private final int writesPerFlush;
        private final long warmupNanos;
        private final long windowNanos;
        private final long tailNanos;
        private long beginAt;
        private long endAt;
        private long stopAt;
        private boolean begun;
        private long bytes;
        private long datagrams;
        private long plainOps;
        private long failedWrites;
        private Throwable lastFailure;
        private long startNanos;
        private double startCpu;
        private long startBytes;
        private long startDatagrams;
        private long startOps;
        private Side result;

        Loop(Channel channel, ByteBuf payload, InetSocketAddress target, GsoEncoder encoder, int segmentSize,
             int batch, int writesPerFlush, long warmupNanos, long windowNanos, long tailNanos,
             AtomicBoolean stopRequest) {
            this.stopRequest = stopRequest;
            this.channel = channel;
            this.payload = payload;
            this.target = target;
            this.encoder = encoder;
            this.segmentSize = segmentSize;
            this.batch = batch;
            this.writesPerFlush = writesPerFlush;
            this.warmupNanos = warmupNanos;
            this.windowNanos = windowNanos;
            this.tailNanos = tailNanos;
        }

        void start() {
            long now = System.nanoTime();
            beginAt = now + warmupNanos;
            endAt = beginAt + windowNanos;
            stopAt = endAt + tailNanos;
            round();
        }

        private long ops() {
            if (encoder == null) {
                return plainOps;
            }
            GsoCounters c = encoder.counters();
            return c.kernelSends() + c.singleDatagrams() + c.softwareDatagrams();
        }

        private void begin(long now) {
            begun = true;
            startNanos = now;
            startCpu = CpuClock.processCpuSeconds();
            startBytes = bytes;
            startDatagrams = datagrams;
            startOps = ops();
        }

        private void end(long now) {
            result = new Side((now - startNanos) / 1e9, bytes - startBytes,
                    datagrams - startDatagrams, ops() - startOps, CpuClock.processCpuSeconds() - startCpu);
        }

        private void round() {
            // The window is checked between rounds (a round takes well under a millisecond) rather than by
            // scheduled tasks, which a loop that always has a task queued may run late.
            long now = System.nanoTime();
            if (!begun && now >= beginAt) {
                begin(now);
            }
            if (begun && result == null && now >= endAt) {
                end(now);
            }
            // After its own window the sender keeps the traffic going until the receiver's window is over too
            // (the parent asks it to stop), but never longer than the maximum tail.
            if (stopped || now >= stopAt || (result != null && stopRequest.get()) || !channel.isActive()) {
                finish();
                return;
            }
            ChannelFuture last = null;
            for (int w = 0; w < writesPerFlush; w++) {
                if (encoder != null) {
                    last = channel.write(new DatagramPacket(payload.retainedDuplicate(), target));
                } else {
                    for (int i = 0; i < batch; i++) {
                        last = channel.write(new DatagramPacket(
                                payload.retainedSlice(i * segmentSize, segmentSize), target));
                    }
                }
            }
            channel.flush();
            // Writes complete in order, so the last one completing means the round is out.
            last.addListener(this);
        }

        @Override
        public void operationComplete(ChannelFuture future) {
            if (future.isSuccess()) {
                long n = (long) writesPerFlush * batch;
                bytes += n * segmentSize;
                datagrams += n;
                plainOps += encoder == null ? n : 0;
            } else {
                failedWrites++;
                lastFailure = future.cause();
                if (failedWrites > 1000 && bytes == 0) {
                    done.completeExceptionally(new RunFailedException("every write fails: " + lastFailure,
                            lastFailure));
                    return;
                }
            }
            channel.eventLoop().execute(this::round);
        }

        private void finish() {
            if (result == null) {
                done.completeExceptionally(new RunFailedException("sender stopped before its window ended"));
            } else {
                done.complete(result);
            }
        }
    }
}
