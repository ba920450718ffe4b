package dev.nettyoffload.gro;

import dev.nettyoffload.core.DatagramChannelTuning;
import dev.nettyoffload.core.packet.GsoPacket;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import io.netty.util.concurrent.Future;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.concurrent.TimeUnit;

/**
 * Receive offload for datagram channels: runs the rest of the pipeline once per batch of datagrams instead
 * of once per datagram.
 * <p>
 * Consecutive {@link DatagramPacket}s from the same sender to the same local address, all of one size
 * except a shorter last one, leave as one {@link SegmentedDatagramPacket} (recipient = local address,
 * sender = peer), with at most {@link GroConfig#maxSegments()} segments and no more payload than one USO
 * write may carry, so that it can be forwarded unchanged through a GSO encoder. A datagram that joins
 * nothing leaves as the {@link DatagramPacket} it was. Order is never changed and different flows are never
 * merged. Payload bytes are never copied: on epoll with UDP_GRO (see {@link DatagramChannelTuning}) the
 * slices Netty cuts from one kernel batch become one slice again; elsewhere the batch is a composite buffer.
 * <p>
 * Batches are emitted at {@code channelReadComplete} (or, with {@link GroConfig#flushDelayNanos()}, by a
 * timer), when the flow or size changes, and when full. Software batching sees what one read loop delivers:
 * on NIO and epoll without kernel GRO up to the allocator's messages per read; Netty's io_uring datagram
 * read loop ends after every datagram, so there a short flush delay (100 µs to 1 ms) is what lets batches
 * form; whatever is held is emitted on {@code close},
 * {@code disconnect}, {@code exceptionCaught} and removal, and released on {@code channelInactive}.
 * Other messages pass through, after the pending batch. Put it first in the pipeline of a datagram
 * channel.
 * <p>
 * Raw packets: a {@link ByteBuf} is one IP packet (or Ethernet frame, per {@link GroConfig#linkType()}), as read
 * from a TUN/TAP device, a packet socket or a capture. Runs of TCP segments and equal-size UDP datagrams of a
 * flow, plain, in IP in IP (IPIP, SIT, IPv6-in-IPv6) or in VXLAN (UDP port {@link GroConfig#vxlanPort()}), are
 * merged by the Linux kernel's GRO rules into one {@link GsoPacket} whose lengths and checksums are rewritten so
 * that it is a valid packet on its own and whose metadata lets a GSO encoder cut it back into the identical
 * packets; a packet that merges with nothing leaves as the {@link ByteBuf} it came in, and so does anything
 * that cannot be merged (counted per {@link PacketPassReason}). Every checksum is validated before a packet is
 * held. A merged packet is at most 65535 bytes of IP datagram, or up to {@link GroConfig#bigTcpMaxSize()} for
 * plain IPv6 TCP with a jumbo payload option (Linux BIG TCP). Held packets are emitted at
 * {@code channelReadComplete}, by a timer ({@link GroConfig#packetFlushTimeoutNanos()}), when the flow table is
 * full, and on close (counted per {@link PacketFlushReason}).
 * <p>
 * Not {@code @Sharable}; the counters are plain fields, read them from the event loop for exact values.
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
    private static final Logger logger = System.getLogger(GroAggregator.class.getName());
    /** At most one log line per reason in this interval. */
    private static final long LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final GroConfig config;
    private final DatagramBatcher batcher;
    private final DatagramBatcher.Output output = this::emit;
    private final Runnable flushTask = this::flushByTimer;
    private final PacketCoalescer coalescer;
    private final PacketCoalescer.Output packetOutput = this::emitPacket;
    private final Runnable packetFlushTask = this::flushPacketsByTimer;
    private Future<?> packetTimer;
    private ChannelHandlerContext ctx;
    private Future<?> flushTimer;
    private String receiveBufferProblem;
    private long lastTruncationLogNanos;
    private long truncationLogged;
    private long droppedOnInactive;

    /** An aggregator with {@link GroConfig} defaults. */
    public GroAggregator() {
        this(GroConfig.DEFAULT);
    }

    public GroAggregator(GroConfig config) {
        if (config == null) {
            throw new IllegalArgumentException("config: null");
        }
        this.config = config;
        this.batcher = new DatagramBatcher(config);
        this.coalescer = new PacketCoalescer(config);
    }

    public GroConfig config() {
        return config;
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
            logger.log(Level.WARNING, "{0}: {1}", ctx.channel(), problem);
        }
        receiveBufferProblem = problem;
        batcher.slotSize(DatagramChannelTuning.datagramSlotSize(ctx.channel()));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof DatagramPacket) {
            long truncated = batcher.truncationSuspected;
            if (batcher.add((DatagramPacket) msg, ctx.alloc(), output) == DatagramBatcher.AddResult.STARTED
                    && config.flushDelayNanos() > 0 && flushTimer == null) {
                flushTimer = ctx.executor().schedule(flushTask, config.flushDelayNanos(), TimeUnit.NANOSECONDS);
            }
            if (batcher.truncationSuspected != truncated) {
                logTruncation(ctx);
            }
        } else if (msg instanceof ByteBuf) {
            batcher.flush(ctx.alloc(), output);
            coalescer.add((ByteBuf) msg, ctx.alloc(), packetOutput);
            if (coalescer.heldPackets() > 0 && packetTimer == null && config.packetFlushTimeoutNanos() > 0) {
                packetTimer = ctx.executor().schedule(packetFlushTask, config.packetFlushTimeoutNanos(),
                        TimeUnit.NANOSECONDS);
            }
        } else {
            batcher.flush(ctx.alloc(), output);
            coalescer.flushAll(PacketFlushReason.OTHER_MESSAGE, ctx.alloc(), packetOutput);
            ctx.fireChannelRead(msg);
        }
    }

    private void emitPacket(Object msg) {
        ctx.fireChannelRead(msg);
    }

    private void flushPacketsByTimer() {
        packetTimer = null;
        if (coalescer.heldPackets() > 0) {
            coalescer.flushAll(PacketFlushReason.TIMER, ctx.alloc(), packetOutput);
            ctx.fireChannelReadComplete();
        }
    }

    private void cancelPacketTimer() {
        Future<?> t = packetTimer;
        if (t != null) {
            packetTimer = null;
            t.cancel(false);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        cancelPacketTimer();
        coalescer.flushAll(PacketFlushReason.READ_COMPLETE, ctx.alloc(), packetOutput);
        if (config.flushDelayNanos() == 0) {
            batcher.flush(ctx.alloc(), output);
        }
        ctx.fireChannelReadComplete();
    }

    private void flushByTimer() {
        flushTimer = null;
        if (batcher.pending() > 0) {
            batcher.flush(ctx.alloc(), output);
            ctx.fireChannelReadComplete();
        }
    }

    private void emit(DatagramPacket packet) {
        ctx.fireChannelRead(packet);
    }

    /** Emits what is held, followed by a read-complete so that handlers after us act on it. */
    private void drain(ChannelHandlerContext ctx) {
        cancelTimer();
        cancelPacketTimer();
        boolean any = batcher.pending() > 0 || coalescer.heldPackets() > 0;
        if (batcher.pending() > 0) {
            batcher.flush(ctx.alloc(), output);
        }
        coalescer.flushAll(PacketFlushReason.CLOSE, ctx.alloc(), packetOutput);
        if (any) {
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
        cancelPacketTimer();
        int packets = coalescer.release();
        if (packets > 0) {
            logger.log(Level.DEBUG, "{0}: released {1} raw packets held when the channel went inactive",
                    ctx.channel(), packets);
        }
        int dropped = batcher.release();
        if (dropped > 0) {
            droppedOnInactive += dropped;
            logger.log(Level.DEBUG, "{0}: released {1} datagrams held when the channel went inactive",
                    ctx.channel(), dropped);
        }
        super.channelInactive(ctx);
    }

    private void logTruncation(ChannelHandlerContext ctx) {
        long now = System.nanoTime();
        if (truncationLogged == 0 || now - lastTruncationLogNanos >= LOG_INTERVAL_NANOS) {
            lastTruncationLogNanos = now;
            truncationLogged++;
            logger.log(Level.WARNING, "{0}: a datagram exactly filled its receive buffer ({1} so far), it was"
                            + " probably truncated; receive buffers should be {2} bytes (DatagramChannelTuning)",
                    ctx.channel(), batcher.truncationSuspected,
                    Integer.toString(DatagramChannelTuning.DEFAULT_RECEIVE_BUFFER_SIZE));
        }
    }

    /** Datagrams received (each slice of a kernel batch counts as one). */
    public long datagramsIn() {
        return batcher.datagramsIn;
    }

    /** Payload bytes received. */
    public long bytesIn() {
        return batcher.bytesIn;
    }

    /** Messages emitted: batches, lone datagrams and pass-throughs. */
    public long batchesOut() {
        return batcher.messagesOut;
    }

    /** Of {@link #batchesOut()}, those emitted as a {@link SegmentedDatagramPacket} built here. */
    public long segmentedBatchesOut() {
        return batcher.segmentedOut;
    }

    /** Datagrams per emitted message, or 0 before the first. */
    public double meanBatchSize() {
        long out = batcher.messagesOut;
        return out == 0 ? 0 : (double) (batcher.datagramsIn - batcher.pending()) / out;
    }

    /** Runs of datagrams that arrived adjacent in one receive buffer: batches the kernel coalesced (UDP_GRO). */
    public long kernelGroBatches() {
        return batcher.kernelGroBatches;
    }

    /** Datagrams that arrived inside a {@linkplain #kernelGroBatches() kernel batch}. */
    public long kernelGroDatagrams() {
        return batcher.kernelGroDatagrams;
    }

    /** Batches rebuilt as one slice of the receive buffer. */
    public long contiguousRebuilds() {
        return batcher.contiguousRebuilds;
    }

    /** Batches rebuilt as a composite buffer. */
    public long compositeRebuilds() {
        return batcher.compositeRebuilds;
    }

    /** Datagrams that exactly filled their receive buffer and were probably truncated by the kernel. */
    public long truncationSuspected() {
        return batcher.truncationSuspected;
    }

    /** Zero-length datagrams (passed through alone). */
    public long zeroLengthDatagrams() {
        return batcher.zeroLength;
    }

    /** Datagrams larger than a batch may be (passed through alone). */
    public long oversizeDatagrams() {
        return batcher.oversize;
    }

    /** {@link SegmentedDatagramPacket}s that arrived already segmented (passed through). */
    public long presegmentedPackets() {
        return batcher.presegmented;
    }

    /** Datagrams released unprocessed because the channel went inactive while holding them. */
    public long droppedOnInactive() {
        return droppedOnInactive;
    }

    /** Datagrams held right now. */
    public int pendingDatagrams() {
        return batcher.pending();
    }

    /** Raw packets ({@link ByteBuf}s) received. */
    public long packetsIn() {
        return coalescer.packetsIn;
    }

    /** Bytes of raw packets received. */
    public long packetBytesIn() {
        return coalescer.bytesIn;
    }

    /** {@link GsoPacket}s emitted, each merging two or more raw packets. */
    public long mergedPacketsOut() {
        return coalescer.mergedOut;
    }

    /** Raw packets that went into an emitted {@link GsoPacket}. */
    public long packetsMerged() {
        return coalescer.packetsMergedOut;
    }

    /** Raw packets held for merging that left alone, unchanged, because nothing joined them. */
    public long lonePacketsOut() {
        return coalescer.lonePacketsOut;
    }

    /** Raw packets forwarded unchanged without being held, for any {@link PacketPassReason}. */
    public long packetsPassedThrough() {
        return coalescer.passedOut;
    }

    /** Raw packets forwarded unchanged for {@code reason}. */
    public long packetsPassedThrough(PacketPassReason reason) {
        return coalescer.passed[reason.ordinal()];
    }

    /** Flows (runs of held packets) emitted for {@code reason}. */
    public long flowsFlushed(PacketFlushReason reason) {
        return coalescer.flushed[reason.ordinal()];
    }

    /** Raw packets whose IPv4 header, TCP, UDP or outer UDP checksum did not verify (passed through). */
    public long checksumFailures() {
        return coalescer.checksumFailures;
    }

    /**
     * Raw packets dropped (released) after an unexpected failure, such as an allocation failure while building a
     * merged packet; logged at WARNING, rate-limited. Bad input is never dropped: it passes through.
     */
    public long packetsDropped() {
        return coalescer.dropped;
    }

    /** Raw packets released unprocessed because the channel went inactive while holding them. */
    public long packetsDroppedOnInactive() {
        return coalescer.releasedOnClose;
    }

    /** Raw packets held right now. */
    public int heldPackets() {
        return coalescer.heldPackets();
    }

    /**
     * Why the channel's receive buffers would truncate kernel GRO batches, as last checked at registration
     * or activation, or {@code null} when they are fine.
     */
    public String receiveBufferProblem() {
        return receiveBufferProblem;
    }

    @Override
    public String toString() {
        return "GroAggregator(datagramsIn=" + datagramsIn() + ", batchesOut=" + batchesOut()
                + ", meanBatchSize=" + String.format("%.1f", meanBatchSize())
                + ", kernelGroBatches=" + kernelGroBatches() + ", truncationSuspected=" + truncationSuspected()
                + ", packetsIn=" + packetsIn() + ", mergedPacketsOut=" + mergedPacketsOut() + ", packetsMerged="
                + packetsMerged() + ", packetsPassedThrough=" + packetsPassedThrough() + ", checksumFailures="
                + checksumFailures() + ')';
    }
}
