package dev.nettyoffload.gro;

import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.jfr.OffloadEvents;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.concurrent.Future;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * Receive offload for raw IP packets: merges runs of TCP segments and equal-size UDP datagrams of a flow into
 * one {@link GsoPacket}, by the Linux kernel's GRO rules. Put it in the pipeline where each inbound message is a
 * {@link ByteBuf} holding one packet (readable bytes = the packet) that starts at the IP header, or at the
 * Ethernet header per {@link PacketGroConfig#linkType()}: after a TUN/TAP reader, a packet socket, a capture
 * reader or a tunnel decoder.
 * <p>
 * Runs are merged plain, in IP in IP (IPIP, SIT, IPv6-in-IPv6) or in VXLAN (UDP port
 * {@link PacketGroConfig#vxlanPort()}). The merged {@link GsoPacket}'s lengths and checksums are rewritten so that
 * it is a valid packet on its own, and its metadata lets a GSO encoder cut it back into the identical packets.
 * A packet that merges with nothing leaves as the {@link ByteBuf} it came in, and so does anything that cannot
 * be merged (counted per {@link PacketPassReason}). Every checksum is validated before a packet is held. A
 * merged packet is at most 65535 bytes of IP datagram, or up to {@link PacketGroConfig#bigTcpMaxSize()} for
 * plain IPv6 TCP with a jumbo payload option (Linux BIG TCP). Order within a flow is kept.
 * <p>
 * Held packets are emitted at {@code channelReadComplete}, by a timer ({@link PacketGroConfig#flushDelayNanos()}),
 * when the flow table or its byte budget is full, before any message that is not a {@link ByteBuf} (which
 * passes through), and on {@code close}, {@code disconnect}, {@code exceptionCaught} and removal (counted per
 * {@link PacketFlushReason}); they are released on {@code channelInactive}.
 * <p>
 * Not {@code @Sharable}. What it did is in {@link #counters()}.
 *
 * @see <a href="https://docs.kernel.org/networking/segmentation-offloads.html">Segmentation Offloads</a>
 */
public class PacketGroAggregator extends ChannelDuplexHandler {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(PacketGroAggregator.class);

    private final PacketGroConfig config;
    private final PacketGroCounters counters = new PacketGroCounters();
    private final PacketCoalescer coalescer;
    private final PacketCoalescer.Output output = this::emit;
    private final Runnable flushTask = this::flushByTimer;
    private ChannelHandlerContext ctx;
    private Future<?> flushTimer;

    /** An aggregator with {@link PacketGroConfig#DEFAULT} settings. */
    public PacketGroAggregator() {
        this(PacketGroConfig.DEFAULT);
    }

    /** An aggregator with the given settings. */
    public PacketGroAggregator(PacketGroConfig config) {
        if (config == null) {
            throw new IllegalArgumentException("config: null");
        }
        this.config = config;
        this.coalescer = new PacketCoalescer(config, counters);
    }

    public PacketGroConfig config() {
        return config;
    }

    /** What this aggregator did; {@link PacketGroCounters#snapshot()} reads it from other threads. */
    public PacketGroCounters counters() {
        return counters;
    }

    /** Packets held right now (event loop only). */
    public int heldPackets() {
        return coalescer.heldPackets();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf) {
            long checksumFailures = counters.checksumFailures;
            int length = ((ByteBuf) msg).readableBytes();
            coalescer.add((ByteBuf) msg, ctx.alloc(), output);
            if (counters.checksumFailures != checksumFailures) {
                OffloadEvents.checksumFailure(ctx.channel(), coalescer.lastChecksumFailureProtocol(), length);
            }
            if (coalescer.heldPackets() > 0 && flushTimer == null && config.flushDelayNanos() > 0) {
                flushTimer = ctx.executor().schedule(flushTask, config.flushDelayNanos(), TimeUnit.NANOSECONDS);
            }
        } else {
            coalescer.flushAll(PacketFlushReason.OTHER_MESSAGE, ctx.alloc(), output);
            ctx.fireChannelRead(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        cancelTimer();
        coalescer.flushAll(PacketFlushReason.READ_COMPLETE, ctx.alloc(), output);
        counters.publish();
        ctx.fireChannelReadComplete();
    }

    private void emit(Object msg) {
        ctx.fireChannelRead(msg);
    }

    private void flushByTimer() {
        flushTimer = null;
        if (coalescer.heldPackets() > 0) {
            coalescer.flushAll(PacketFlushReason.TIMER, ctx.alloc(), output);
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

    /** Emits what is held, followed by a read-complete so that handlers after us act on it. */
    private void drain(ChannelHandlerContext ctx) {
        cancelTimer();
        if (coalescer.heldPackets() > 0) {
            coalescer.flushAll(PacketFlushReason.CLOSE, ctx.alloc(), output);
            counters.publish();
            ctx.fireChannelReadComplete();
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
        int released = coalescer.release();
        if (released > 0) {
            logger.debug("{}: released {} packets held when the channel went inactive", ctx.channel(), released);
        }
        counters.publish();
        super.channelInactive(ctx);
    }

    @Override
    public String toString() {
        return "PacketGroAggregator(" + config + ", " + counters + ')';
    }
}
