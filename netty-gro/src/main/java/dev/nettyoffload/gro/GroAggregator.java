package dev.nettyoffload.gro;

import dev.nettyoffload.core.DatagramChannelTuning;
import dev.nettyoffload.core.jfr.OffloadEvents;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import io.netty.util.concurrent.Future;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * Receive offload for datagram channels: runs the rest of the pipeline once per batch of datagrams instead
 * of once per datagram. Put it first in the pipeline of a datagram channel.
 * <p>
 * Consecutive {@link DatagramPacket}s from the same sender to the same local address, all of one size
 * except a shorter last one, leave as one {@link SegmentedDatagramPacket} (recipient = local address,
 * sender = peer), with at most {@link GroConfig#maxSegmentsPerBatch()} segments and no more payload than one
 * USO write may carry, so that it can be forwarded unchanged through a GSO encoder. A datagram that joins
 * nothing leaves as the {@link DatagramPacket} it was. Order is never changed and different flows are never
 * merged. Payload bytes are never copied: on epoll with UDP_GRO (see {@link DatagramChannelTuning}) the
 * slices Netty cuts from one kernel batch become one slice again; elsewhere the batch is a composite buffer.
 * <p>
 * Batches are emitted at {@code channelReadComplete} (or, with {@link GroConfig#flushDelayNanos()}, by a
 * timer), when the flow or size changes, and when full. Software batching sees what one read loop delivers:
 * on NIO and epoll without kernel GRO up to the allocator's messages per read; Netty's io_uring datagram
 * read loop ends after every datagram, so there a short flush delay (100 µs to 1 ms) is what lets batches
 * form. Whatever is held is emitted on {@code close}, {@code disconnect}, {@code exceptionCaught} and removal,
 * and released on {@code channelInactive}. Any other message passes through, after the pending batch.
 * <p>
 * Not {@code @Sharable}. What it did is in {@link #counters()}.
 * <pre>{@code
 * Bootstrap b = new Bootstrap().group(group).channel(transport.datagramChannelClass())
 *         .handler(new ChannelInitializer<DatagramChannel>() {
 *             protected void initChannel(DatagramChannel ch) {
 *                 ch.pipeline().addLast(new GroAggregator(), new MyBatchHandler());
 *             }
 *         });
 * DatagramChannelTuning.apply(b, transport); // UDP_GRO, 64 KiB receive buffers, socket buffers
 * }</pre>
 *
 * @see <a href="https://docs.kernel.org/networking/segmentation-offloads.html">Segmentation Offloads</a>
 */
public class GroAggregator extends ChannelDuplexHandler {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(GroAggregator.class);
    /** At most one log line per reason in this interval. */
    private static final long LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final GroConfig config;
    private final GroCounters counters = new GroCounters();
    private final DatagramBatcher batcher;
    private final DatagramBatcher.Output output = this::emit;
    private final Runnable flushTask = this::flushByTimer;
    private ChannelHandlerContext ctx;
    private Future<?> flushTimer;
    private String receiveBufferProblem;
    private long lastTruncationLogNanos;
    private long truncationLogged;

    /** An aggregator with {@link GroConfig#DEFAULT} settings. */
    public GroAggregator() {
        this(GroConfig.DEFAULT);
    }

    /** An aggregator with the given settings. */
    public GroAggregator(GroConfig config) {
        if (config == null) {
            throw new IllegalArgumentException("config: null");
        }
        this.config = config;
        this.batcher = new DatagramBatcher(config, counters);
    }

    public GroConfig config() {
        return config;
    }

    /** What this aggregator did; {@link GroCounters#snapshot()} reads it from other threads. */
    public GroCounters counters() {
        return counters;
    }

    /** Datagrams held right now (event loop only). */
    public int pendingDatagrams() {
        return batcher.pending();
    }

    /**
     * Why the channel's receive buffers would truncate kernel GRO batches, as last checked at registration
     * or activation, or {@code null} when they are fine.
     */
    public String receiveBufferProblem() {
        return receiveBufferProblem;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (ctx.channel().isRegistered()) {
            checkReceiveBuffer(ctx);
        }
    }

    @Override
    public void channelRegistered(ChannelHandlerContext ctx) throws Exception {
        checkReceiveBuffer(ctx);
        super.channelRegistered(ctx);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        checkReceiveBuffer(ctx);
        super.channelActive(ctx);
    }

    private void checkReceiveBuffer(ChannelHandlerContext ctx) {
        String problem = DatagramChannelTuning.receiveBufferProblem(ctx.channel());
        if (problem != null && !problem.equals(receiveBufferProblem)) {
            logger.warn("{}: {}", ctx.channel(), problem);
        }
        receiveBufferProblem = problem;
        batcher.slotSize(DatagramChannelTuning.datagramSlotSize(ctx.channel()));
        batcher.fixedBuffers(DatagramChannelTuning.isReceiveBufferSizeFixed(ctx.channel()));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof DatagramPacket) {
            long truncated = counters.truncationSuspected;
            if (batcher.add((DatagramPacket) msg, ctx.alloc(), output) == DatagramBatcher.AddResult.STARTED
                    && config.flushDelayNanos() > 0 && flushTimer == null) {
                flushTimer = ctx.executor().schedule(flushTask, config.flushDelayNanos(), TimeUnit.NANOSECONDS);
            }
            if (counters.truncationSuspected != truncated) {
                OffloadEvents.receiveTruncation(ctx.channel(), ((DatagramPacket) msg).sender(),
                        ((DatagramPacket) msg).content().readableBytes());
                logTruncation(ctx);
            }
        } else {
            batcher.flush(ctx.alloc(), output);
            ctx.fireChannelRead(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (config.flushDelayNanos() == 0) {
            batcher.flush(ctx.alloc(), output);
        }
        counters.publish();
        ctx.fireChannelReadComplete();
    }

    private void flushByTimer() {
        flushTimer = null;
        if (batcher.pending() > 0) {
            batcher.flush(ctx.alloc(), output);
            counters.publish();
            ctx.fireChannelReadComplete();
        }
    }

    private void emit(DatagramPacket packet) {
        ctx.fireChannelRead(packet);
    }

    /** Emits what is held, followed by a read-complete so that handlers after us act on it. */
    private void drain(ChannelHandlerContext ctx) {
        cancelTimer();
        if (batcher.pending() > 0) {
            batcher.flush(ctx.alloc(), output);
            counters.publish();
            ctx.fireChannelReadComplete();
        }
    }

    private void cancelTimer() {
        Future<?> t = flushTimer;
        if (t != null) {
            flushTimer = null;
            t.cancel(false);
        }
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) throws Exception {
        drain(ctx);
        super.close(ctx, promise);
    }

    @Override
    public void disconnect(ChannelHandlerContext ctx, ChannelPromise promise) throws Exception {
        drain(ctx);
        super.disconnect(ctx, promise);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
        drain(ctx);
        super.exceptionCaught(ctx, cause);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        drain(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        cancelTimer();
        int dropped = batcher.release();
        if (dropped > 0) {
            counters.droppedOnInactive += dropped;
            logger.debug("{}: released {} datagrams held when the channel went inactive", ctx.channel(), dropped);
        }
        counters.publish();
        super.channelInactive(ctx);
    }

    private void logTruncation(ChannelHandlerContext ctx) {
        long now = System.nanoTime();
        if (truncationLogged == 0 || now - lastTruncationLogNanos >= LOG_INTERVAL_NANOS) {
            lastTruncationLogNanos = now;
            truncationLogged++;
            logger.warn("{}: a datagram exactly filled its receive buffer ({} so far), it was probably truncated;"
                            + " receive buffers should be {} bytes (DatagramChannelTuning)",
                    ctx.channel(), counters.truncationSuspected, DatagramChannelTuning.DEFAULT_RECEIVE_BUFFER_SIZE);
        }
    }

    @Override
    public String toString() {
        return "GroAggregator(" + config + ", " + counters + ')';
    }
}
