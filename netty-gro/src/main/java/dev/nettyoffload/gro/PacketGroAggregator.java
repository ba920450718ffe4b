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
 * be merged (counted per {@link PacketPassReason}). Every checksum is validated before a packet is held (TCP/UDP
 * ones not with {@link PacketGroConfig#trustL4Checksums()}). A
 * merged packet is at most 65535 bytes of IP datagram, or up to {@link PacketGroConfig#bigTcpMaxSize()} for
 * plain IPv6 TCP with a jumbo payload option (Linux BIG TCP). Order within a flow is kept.
 * <p>
 * Held packets are emitted at {@code channelReadComplete}, by a timer ({@link PacketGroConfig#flushDelayNanos()}),
 * when the flow table or its byte budget is full, before any message that is not a {@link ByteBuf} (which
 * passes through), and on {@code close}, {@code disconnect}, {@code exceptionCaught} and removal (counted per
 * {@link PacketFlushReason}); they are released on {@code channelInactive}.
 * <p>
 * Not {@code @Sharable}. What it did is in {@link #counters()}. Outside a pipeline, {@link PacketCoalescer} is the
 * same engine, and can also read packets in place from a buffer that holds a burst of them.
 * <p>
 * The rules are those of current Linux (net/ipv4/tcp_offload.c, udp_offload.c, af_inet.c, include/net/gro.h):
 * CWR must be equal along a run and a CWR run is marked {@link GsoPacket#cwrOnEverySegment()}, as AccECN kernels
 * do ({@code SKB_GSO_TCP_ACCECN}; older kernels flush on CWR); each IPv4 header's ID is fixed or incrementing on
 * its own, DF set or not, as since the per-header {@code ip_fixedid} bits; a run stays open until a segment no
 * longer fits in 65535 bytes. Where it differs from the kernel, on purpose:
 * <ul>
 * <li>At most {@link PacketGroConfig#maxSegmentsPerPacket()} (64) packets per merged packet, for TCP as for UDP
 *     ({@code UDP_GRO_CNT_MAX}); the kernel bounds a TCP run by bytes and buffer fragments only.</li>
 * <li>A merged packet is one direct buffer that the run's packets were copied into, each input released once
 *     copied; the kernel chains the inputs' pages instead. A flow whose run has begun holds one buffer of the
 *     largest size its merged packet may reach (about 64 KiB; more for BIG TCP), besides the
 *     {@link PacketGroConfig#maxHeldBytes()} of packet data.</li>
 * <li>One table of {@link PacketGroConfig#maxFlows()} flows, oldest flushed first, and a bound on held bytes
 *     ({@link PacketGroConfig#maxHeldBytes()}; a larger packet is never held); the kernel keeps 8 hash buckets of
 *     8 flows and bounds nothing else. Only when and how much is held differs, never what merges.</li>
 * <li>Every checksum is verified in software before a packet is held, the inner ones of a tunnel too; the
 *     kernel trusts a NIC's {@code CHECKSUM_UNNECESSARY}. There is no NIC here to trust.</li>
 * <li>The TCP urgent pointer must be equal along a run: the kernel does not compare it and its GSO writes the
 *     first packet's on every segment. Comparing it keeps GSO(GRO(x)) == x byte for byte.</li>
 * <li>A VXLAN packet whose outer UDP checksum is present where the run's is not (or the reverse) ends the run;
 *     the kernel ({@code udp_gro_receive}) holds it as another flow instead.</li>
 * <li>A UDP run with fixed IPv4 IDs is marked {@link dev.nettyoffload.core.packet.Ipv4IdMode#FIXED}: the kernel
 *     merges it too but sets {@code SKB_GSO_TCP_FIXEDID} for TCP only, so its GSO would rewrite the IDs as
 *     incrementing. Ours gives them back.</li>
 * <li>GRE, Geneve and FOU packets pass through unmerged (the kernel merges them); IPIP/SIT/IPv6-in-IPv6 and
 *     VXLAN runs are merged. Passing through is always correct, only not merged.</li>
 * </ul>
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
        ctx.fireChannelReadComplete();
    }

    private void emit(Object msg) {
        ctx.fireChannelRead(msg);
    }

    private void flushByTimer() {
        flushTimer = null;
        if (coalescer.heldPackets() > 0) {
            coalescer.flushAll(PacketFlushReason.TIMER, ctx.alloc(), output);
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
        super.channelInactive(ctx);
    }

    @Override
    public String toString() {
        return "PacketGroAggregator(" + config + ", " + counters + ')';
    }
}
