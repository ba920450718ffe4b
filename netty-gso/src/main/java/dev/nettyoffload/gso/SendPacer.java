package dev.nettyoffload.gso;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.concurrent.Ticker;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * Spaces a channel's sends so that their bytes leave at no more than a set rate: a token bucket that holds
 * sends which arrive early and releases them from the channel's event loop when they are due.
 * <p>
 * This is pacing that works on every transport and qdisc. The kernel's own (SO_MAX_PACING_RATE) needs the
 * fq qdisc for UDP, which many machines lack; where fq is present both apply the same rate. An idle bucket holds
 * at most {@code burstBytes}, so a sender that was quiet may send one burst of that size at once and no more.
 * Confined to the event loop, like the handler that owns it.
 */
final class SendPacer {
    /** Shortest wait scheduled: below this the event loop's timer is not more precise anyway. */
    private static final long MIN_WAIT_NANOS = TimeUnit.MICROSECONDS.toNanos(50);

    private final long bytesPerSecond;
    private final long burstBytes;
    private final ArrayDeque<PacedSend> queue = new ArrayDeque<>();
    private long tokens;
    private long lastRefillNanos = Long.MIN_VALUE;
    private boolean drainScheduled;
    private boolean flushPending;
    private final GsoCounters counters;

    /** The one drain task, made once so that scheduling a drain allocates nothing. */
    private final Runnable drainTask;

    SendPacer(ChannelHandlerContext ctx, long bytesPerSecond, long burstBytes, GsoCounters counters) {
        this.drainTask = () -> drain(ctx);
        this.counters = counters;
        this.bytesPerSecond = bytesPerSecond;
        this.burstBytes = burstBytes;
        this.tokens = burstBytes;
    }

    /** Writes {@code msg} now if the bucket allows, else queues it behind earlier sends. */
    void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        int bytes = sizeOf(msg);
        if (queue.isEmpty()) {
            refill(ctx);
            if (tokens >= 0) {
                // A send may overdraw the bucket; the debt delays the sends after it.
                tokens -= bytes;
                ctx.write(msg, promise);
                return;
            }
        }
        counters.increment(GsoCounters.PACED_SENDS);
        queue.add(new PacedSend(msg, promise, bytes));
        scheduleDrain(ctx);
    }

    /** Flushes what was written; queued sends are flushed when they are released. */
    void flush(ChannelHandlerContext ctx) {
        if (!queue.isEmpty()) {
            flushPending = true;
        }
        ctx.flush();
    }

    /** Writes every queued send down at once (the channel is closing or the handler leaves). */
    void releaseAll(ChannelHandlerContext ctx) {
        if (queue.isEmpty()) {
            return;
        }
        for (PacedSend s; (s = queue.poll()) != null; ) {
            ctx.write(s.msg, s.promise);
        }
        if (flushPending) {
            flushPending = false;
            ctx.flush();
        }
    }

    private void drain(ChannelHandlerContext ctx) {
        drainScheduled = false;
        refill(ctx);
        boolean wrote = false;
        while (tokens >= 0) {
            PacedSend s = queue.poll();
            if (s == null) {
                break;
            }
            tokens -= s.bytes;
            ctx.write(s.msg, s.promise);
            wrote = true;
        }
        if (wrote && flushPending) {
            if (queue.isEmpty()) {
                flushPending = false;
            }
            ctx.flush();
        }
        if (!queue.isEmpty()) {
            scheduleDrain(ctx);
        }
    }

    private void scheduleDrain(ChannelHandlerContext ctx) {
        if (drainScheduled) {
            return;
        }
        drainScheduled = true;
        long wait = tokens >= 0 ? 0 : Math.max(MIN_WAIT_NANOS, -tokens * 1_000_000_000L / bytesPerSecond);
        ctx.executor().schedule(drainTask, wait, TimeUnit.NANOSECONDS);
    }

    private void refill(ChannelHandlerContext ctx) {
        Ticker ticker = ctx.executor().ticker();
        long now = ticker.nanoTime();
        if (lastRefillNanos != Long.MIN_VALUE) {
            // Capping the interval at a second keeps the product below overflow.
            long elapsed = Math.min(now - lastRefillNanos, 1_000_000_000L);
            tokens += elapsed * bytesPerSecond / 1_000_000_000L;
            if (queue.isEmpty()) {
                // Only idle time is capped: a sender that was quiet may burst by burstBytes, no more. With sends
                // queued, a timer that fired late owes them the time it lost, or the stream would fall behind.
                tokens = Math.min(burstBytes, tokens);
            }
        }
        lastRefillNanos = now;
    }

    private static int sizeOf(Object msg) {
        if (msg instanceof ByteBufHolder) {
            return ((ByteBufHolder) msg).content().readableBytes();
        }
        if (msg instanceof ByteBuf) {
            return ((ByteBuf) msg).readableBytes();
        }
        return 0;
    }

    /** A send waiting for its turn. */
    private static final class PacedSend {
        final Object msg;
        final ChannelPromise promise;
        final int bytes;

        PacedSend(Object msg, ChannelPromise promise, int bytes) {
            this.msg = msg;
            this.promise = promise;
            this.bytes = bytes;
        }
    }
}
