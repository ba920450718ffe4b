package dev.nettyoffload.gso;

import dev.nettyoffload.core.Errno;
import dev.nettyoffload.core.OffloadCapabilities;
import dev.nettyoffload.core.linux.OffloadReport;
import dev.nettyoffload.core.SocketPacing;
import dev.nettyoffload.core.Transport;
import dev.nettyoffload.core.UdpLimits;
import dev.nettyoffload.core.jfr.OffloadEvents;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.unix.SegmentedDatagramPacket;
import io.netty.util.concurrent.PromiseCombiner;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayDeque;

/**
 * Cuts large datagram writes into datagrams: by the kernel (UDP_SEGMENT) where the channel and kernel
 * support it, else by slicing the buffer into plain {@link DatagramPacket}s without copying. Raw IP packets
 * ({@code GsoPacket}) are cut by {@link PacketGsoEncoder}, placed after this handler.
 * <p>
 * Put it first in the pipeline of a datagram channel (nearest the channel), so every outbound datagram
 * passes through it. It handles a {@link SegmentedDatagramPacket} and a {@link DatagramPacket} whose payload
 * is larger than {@link GsoConfig#segmentSize()}; everything else passes through untouched.
 * <ul>
 *   <li>Kernel path (epoll or io_uring, kernel supports UDP_SEGMENT): the payload goes down as
 *   {@code SegmentedDatagramPacket}s of at most the probed segment count and {@link UdpLimits#maxSegmentedPayload}
 *   bytes (65493 over IPv4, 65473 over IPv6); a piece of one segment (the 1136-byte tail of 65536 bytes in
 *   1400-byte segments) goes as a plain datagram, counted in {@link GsoCounters#singleDatagrams()}.</li>
 *   <li>Software path (NIO, no kernel support, {@link GsoMode#SOFTWARE}, or after a refusal): retained
 *   slices of the payload as plain datagrams, so NIO never sends one oversized datagram.</li>
 *   <li>When the kernel refuses a segmented send as such (EIO, EINVAL: UDP checksums off, a segment count
 *   or a device it cannot segment for), that send is repeated in software, the channel stays on software
 *   from then on, and it is counted and logged once. The write's promise reports the final outcome.
 *   EMSGSIZE (a segment larger than the route allows) fails the promise, as it would a plain datagram.</li>
 *   <li>Order is kept across a refusal: until the kernel has accepted the channel's first segmented send,
 *   later writes wait in this handler, so a refused send is resent before anything written after it. A
 *   refusal that comes later (another route for an unconnected channel) can let datagrams already queued in
 *   the channel overtake the resend.</li>
 * </ul>
 * Not {@code @Sharable}: the path decision and the counters belong to one channel.
 *
 * @see <a href="https://docs.kernel.org/networking/segmentation-offloads.html">Segmentation Offloads</a>
 */
public class GsoEncoder extends ChannelOutboundHandlerAdapter {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(GsoEncoder.class);

    private final GsoConfig config;
    private final GsoCounters counters = new GsoCounters();
    private boolean kernelPath;
    private boolean kernelConfirmed;
    /** The configured segments per kernel send, or the probed limit when the configuration leaves it open. */
    private int effectiveMaxSegmentsPerSend = UdpLimits.LEGACY_MAX_SEGMENTS;
    /** Writes waiting for the outcome of the channel's first kernel send; null when none is pending. */
    private ArrayDeque<HeldWrite> held;
    private boolean flushHeld;
    /** Spaces sends when {@link GsoConfig#pacingRate()} is set; null otherwise. */
    private SendPacer pacer;
    private boolean reportLogged;

    /** An encoder with {@link GsoConfig#DEFAULT}. */
    public GsoEncoder() {
        this(GsoConfig.DEFAULT);
    }

    /** An encoder that splits plain datagrams larger than {@code segmentSize} payload bytes. */
    public GsoEncoder(int segmentSize) {
        this(GsoConfig.newBuilder().segmentSize(segmentSize).build());
    }

    public GsoEncoder(GsoConfig config) {
        if (config == null) {
            throw new IllegalArgumentException("config: null");
        }
        this.config = config;
    }

    public GsoConfig config() {
        return config;
    }

    /** What this encoder did so far. */
    public GsoCounters counters() {
        return counters;
    }

    /** Whether segmented writes currently go to the kernel (false before the handler is added). */
    public boolean isKernelPath() {
        return kernelPath;
    }

    /**
     * The most segments per kernel send this encoder uses: {@link GsoConfig#maxSegmentsPerSend()}, or the probed
     * kernel limit when that is {@link GsoConfig#PROBED_MAX_SEGMENTS_PER_SEND} (known once the handler is added).
     */
    public int effectiveMaxSegmentsPerSend() {
        return effectiveMaxSegmentsPerSend;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        Channel channel = ctx.channel();
        switch (config.mode()) {
            case SOFTWARE:
                kernelPath = false;
                break;
            case KERNEL:
                if (channel instanceof NioDatagramChannel) {
                    throw new IllegalStateException("GsoMode.KERNEL on " + channel.getClass().getSimpleName()
                            + ": NIO ignores segment sizes and would send one oversized datagram;"
                            + " use GsoMode.AUTO or SOFTWARE");
                }
                kernelPath = true;
                break;
            default:
                Transport transport = Transport.of(channel.getClass());
                kernelPath = transport != Transport.NIO
                        && OffloadCapabilities.get().isKernelSegmentationAvailable(transport);
                break;
        }
        if (config.maxSegmentsPerSend() != GsoConfig.PROBED_MAX_SEGMENTS_PER_SEND) {
            effectiveMaxSegmentsPerSend = config.maxSegmentsPerSend();
        } else if (kernelPath) {
            int probed = OffloadCapabilities.get().maxSegmentsPerSend();
            effectiveMaxSegmentsPerSend = probed > 0 ? probed : UdpLimits.LEGACY_MAX_SEGMENTS;
        }
        long rate = config.pacingRate();
        if (rate > 0) {
            pacer = new SendPacer(ctx, rate, Math.max(1, rate / 1000), counters);
            if (SocketPacing.isSupported(channel)) {
                try {
                    SocketPacing.setMaxPacingRate(channel, rate);
                } catch (ChannelException | UnsupportedOperationException e) {
                    logger.info("{}: SO_MAX_PACING_RATE not set ({}); pacing in software only",
                            channel, e.getMessage());
                }
            }
        }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (held != null) {
            held.add(new HeldWrite(msg, promise, false));
            return;
        }
        if (!(msg instanceof DatagramPacket)) {
            emit(ctx, msg, promise);
            return;
        }
        DatagramPacket packet = (DatagramPacket) msg;
        ByteBuf content = packet.content();
        int segmentSize = msg instanceof SegmentedDatagramPacket
                ? ((SegmentedDatagramPacket) msg).segmentSize() : config.segmentSize();
        int length = content.readableBytes();
        if (length <= segmentSize) {
            counters.increment(GsoCounters.PASSED_THROUGH);
            if (msg instanceof SegmentedDatagramPacket) {
                // One datagram needs no UDP_SEGMENT, and a socket that refuses it still sends this.
                emit(ctx, new DatagramPacket(content, packet.recipient(), packet.sender()), promise);
            } else {
                emit(ctx, msg, promise);
            }
            return;
        }
        String problem = validate(ctx.channel(), packet.recipient(), segmentSize);
        if (problem != null) {
            counters.increment(GsoCounters.INVALID);
            // Release before failing, so that whoever the failure wakes sees the buffer already gone.
            packet.release();
            promise.setFailure(new GsoException(problem));
            return;
        }
        if (!reportLogged) {
            reportLogged = true;
            logOffloadReport(ctx.channel(), packet.recipient());
        }
        try {
            counters.increment(GsoCounters.WRITES);
            if (kernelPath) {
                writeKernel(ctx, packet, segmentSize, promise);
            } else {
                writeSoftware(ctx, content, content.readerIndex(), length, segmentSize,
                        packet.recipient(), packet.sender(), promise);
            }
        } finally {
            packet.release();
        }
    }

    /**
     * At DEBUG level, logs who will segment this channel's first large write (NIC, kernel or this encoder)
     * and why; the report runs {@code ip} and {@code ethtool}, so it is made off the event loop.
     */
    private static void logOffloadReport(Channel channel, InetSocketAddress recipient) {
        SocketAddress target = recipient != null ? recipient : channel.remoteAddress();
        InetAddress address = target instanceof InetSocketAddress ? ((InetSocketAddress) target).getAddress() : null;
        if (address != null) {
            OffloadReport.logAsync(logger, address, Transport.of(channel.getClass()));
        }
    }

    /** Returns what is wrong with sending {@code segmentSize}-byte segments to {@code recipient}, or null. */
    private static String validate(Channel channel, InetSocketAddress recipient, int segmentSize) {
        SocketAddress target = recipient != null ? recipient : channel.remoteAddress();
        if (!(target instanceof InetSocketAddress)) {
            return "no recipient: the datagram has none and " + channel + " is not connected";
        }
        InetSocketAddress to = (InetSocketAddress) target;
        if (to.isUnresolved()) {
            return "recipient " + to + " is unresolved";
        }
        SocketAddress local = channel.localAddress();
        if (local instanceof InetSocketAddress && ((InetSocketAddress) local).getAddress() instanceof Inet4Address
                && to.getAddress() instanceof Inet6Address) {
            return "recipient " + to + " is IPv6 but the channel is bound to IPv4 address " + local;
        }
        int max = UdpLimits.maxPayload(to);
        if (segmentSize > max) {
            return "segmentSize " + segmentSize + " is larger than one datagram to " + to + " can carry (max "
                    + max + " payload bytes)";
        }
        return null;
    }

    private void writeKernel(ChannelHandlerContext ctx, DatagramPacket packet, int segmentSize,
                             ChannelPromise promise) {
        ByteBuf content = packet.content();
        InetSocketAddress recipient = packet.recipient();
        InetSocketAddress sender = packet.sender();
        SocketAddress target = recipient != null ? recipient : ctx.channel().remoteAddress();
        // UDP_MAX_SEGMENTS bounds the count, the device's gso_max_size the bytes: a larger send is accepted but cut
        // into datagrams by the kernel before the device (no USO, no UDP_GRO batch at the receiver).
        int segmentsPerSend = Math.max(1, Math.min(effectiveMaxSegmentsPerSend,
                UdpLimits.maxSegmentedPayload(((InetSocketAddress) target).getAddress()) / segmentSize));
        if (pacer != null) {
            // fq paces whole sends: keep each to about a millisecond of data so that a burst is spread.
            segmentsPerSend = SocketPacing.maxSegmentsPerSend(config.pacingRate(), segmentSize, segmentsPerSend);
        }
        int bytesPerSend = segmentsPerSend * segmentSize;
        int length = content.readableBytes();
        int sends = (length + bytesPerSend - 1) / bytesPerSend;
        boolean combine = sends > 1 && !promise.isVoid();
        PromiseCombiner combiner = combine ? new PromiseCombiner(ctx.executor()) : null;
        int offset = content.readerIndex();
        for (int end = offset + length; offset < end; offset += bytesPerSend) {
            int n = Math.min(bytesPerSend, end - offset);
            ChannelPromise sendPromise = combine ? ctx.newPromise() : promise;
            if (n <= segmentSize) {
                // A send of one segment needs no UDP_SEGMENT: usually the tail of the write (65536 bytes in 1400-byte
                // segments: 46 of them fill a send to the 65493-byte limit, 1136 bytes remain). It cannot join a
                // neighbouring send: the one before is full, and only the last segment of a send may be short.
                counters.increment(GsoCounters.SINGLE_DATAGRAMS);
                emit(ctx, new DatagramPacket(content.retainedSlice(offset, n), recipient, sender), sendPromise);
            } else {
                counters.increment(GsoCounters.KERNEL_SENDS);
                counters.add(GsoCounters.KERNEL_SEGMENTS, (n + segmentSize - 1) / segmentSize);
                ByteBuf payload = content.retainedSlice(offset, n);
                ChannelPromise kernelPromise = ctx.newPromise();
                boolean probe = !kernelConfirmed;
                kernelPromise.addListener(
                        new KernelSend(ctx, payload, segmentSize, recipient, sender, sendPromise, probe));
                if (probe) {
                    held = new ArrayDeque<>();
                }
                emit(ctx, new SegmentedDatagramPacket(payload.retain(), segmentSize, recipient, sender),
                        kernelPromise);
            }
            if (combine) {
                combiner.add(sendPromise);
            }
            int rest = end - offset - n;
            if (rest > 0 && !kernelPath) {
                // The send just made was refused at once (the channel fails writes synchronously).
                ChannelPromise restPromise = combine ? ctx.newPromise() : promise;
                writeSoftware(ctx, content, offset + n, rest, segmentSize, recipient, sender, restPromise);
                if (combine) {
                    combiner.add(restPromise);
                }
                break;
            }
            if (rest > 0 && held != null) {
                // The rest of this write waits, like any later write, for the first send's outcome.
                ChannelPromise restPromise = combine ? ctx.newPromise() : promise;
                held.add(new HeldWrite(new SegmentedDatagramPacket(content.retainedSlice(offset + n, rest),
                        segmentSize, recipient, sender), restPromise, true));
                if (combine) {
                    combiner.add(restPromise);
                }
                break;
            }
        }
        if (combine) {
            combiner.finish(promise);
        }
    }

    /**
     * Writes {@code length} bytes of {@code buf} from {@code offset} as retained slices, one per datagram, all with
     * their outcomes counted by one {@link SlicesPromise}: on NIO this path has to cost no more than the application
     * writing the same datagrams itself, and a listener per slice was most of the difference.
     */
    private void writeSoftware(ChannelHandlerContext ctx, ByteBuf buf, int offset, int length, int segmentSize,
                               InetSocketAddress recipient, InetSocketAddress sender, ChannelPromise promise) {
        SlicesPromise slices = length > segmentSize && !promise.isVoid() ? new SlicesPromise(promise) : null;
        for (int end = offset + length; offset < end; offset += segmentSize) {
            int n = Math.min(segmentSize, end - offset);
            counters.increment(GsoCounters.SOFTWARE_DATAGRAMS);
            emit(ctx, new DatagramPacket(buf.retainedSlice(offset, n), recipient, sender),
                    slices != null ? slices.next() : promise);
        }
        if (slices != null) {
            slices.seal();
        }
    }

    /**
     * Completes one kernel send: on success the held payload is released; on a refusal of segmentation
     * (EIO, EINVAL) the payload is resent in software; any other failure is the write's outcome.
     */
    private final class KernelSend implements ChannelFutureListener {
        private final ChannelHandlerContext ctx;
        private final ByteBuf payload;
        private final int segmentSize;
        private final InetSocketAddress recipient;
        private final InetSocketAddress sender;
        private final ChannelPromise result;
        private final boolean probe;

        KernelSend(ChannelHandlerContext ctx, ByteBuf payload, int segmentSize, InetSocketAddress recipient,
                   InetSocketAddress sender, ChannelPromise result, boolean probe) {
            this.probe = probe;
            this.ctx = ctx;
            this.payload = payload;
            this.segmentSize = segmentSize;
            this.recipient = recipient;
            this.sender = sender;
            this.result = result;
        }

        @Override
        public void operationComplete(ChannelFuture future) {
            try {
                complete(future);
            } finally {
                payload.release();
                if (probe) {
                    releaseHeld(ctx);
                }
            }
        }

        private void complete(ChannelFuture future) {
            if (future.isSuccess()) {
                kernelConfirmed = true;
                result.trySuccess();
                return;
            }
            Throwable cause = future.cause();
            int errno = Errno.of(cause);
            counters.rejected(errno);
            if (errno != Errno.EIO && errno != Errno.EINVAL) {
                result.tryFailure(cause);
                return;
            }
            counters.increment(GsoCounters.FALLBACKS);
            OffloadEvents.kernelRefusal(ctx.channel(), recipient, Errno.name(errno), segmentSize,
                    (payload.readableBytes() + segmentSize - 1) / segmentSize);
            if (kernelPath) {
                kernelPath = false;
                logger.info("{}: the kernel refused a UDP_SEGMENT send to {} ({}); this channel"
                        + " segments in software from now on", ctx.channel(), recipient, Errno.name(errno));
            }
            writeSoftware(ctx, payload, payload.readerIndex(), payload.readableBytes(), segmentSize,
                    recipient, sender, result);
            flushDown(ctx);
        }
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        if (held != null) {
            // The first kernel send must still go out; what is held is flushed once it is released.
            flushHeld = true;
        }
        flushDown(ctx);
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        releaseAll(ctx);
        ctx.close(promise);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        releaseAll(ctx);
    }

    /** Hands everything this encoder still holds to the channel, in order. */
    private void releaseAll(ChannelHandlerContext ctx) {
        releaseHeld(ctx);
        if (pacer != null) {
            pacer.releaseAll(ctx);
        }
    }

    /** Writes one finished message towards the channel, through the pacer when pacing is on. */
    private void emit(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (pacer == null) {
            ctx.write(msg, promise);
        } else {
            pacer.write(ctx, msg, promise);
        }
    }

    private void flushDown(ChannelHandlerContext ctx) {
        if (pacer == null) {
            ctx.flush();
        } else {
            pacer.flush(ctx);
        }
    }

    /** Passes the held writes on, in order, now that the path they take is known. */
    private void releaseHeld(ChannelHandlerContext ctx) {
        ArrayDeque<HeldWrite> writes = held;
        if (writes == null) {
            return;
        }
        held = null;
        boolean flush = flushHeld;
        flushHeld = false;
        for (HeldWrite w; (w = writes.poll()) != null; ) {
            if (held != null) {
                // A released write became the next first kernel send (the previous one failed for another
                // reason, such as EMSGSIZE): the rest keep waiting behind it.
                held.add(w);
            } else if (w.rest) {
                writeRest(ctx, (SegmentedDatagramPacket) w.msg, w.promise);
            } else {
                write(ctx, w.msg, w.promise);
            }
        }
        if (flush) {
            flush(ctx);
        }
    }

    /**
     * Sends the rest of a write that waited behind the first kernel send. It was counted and checked with its
     * write, so it goes straight to the path now known: a one-segment rest is a single datagram, as it would
     * have been without the wait, not a datagram passed through.
     */
    private void writeRest(ChannelHandlerContext ctx, SegmentedDatagramPacket rest, ChannelPromise promise) {
        try {
            if (kernelPath) {
                writeKernel(ctx, rest, rest.segmentSize(), promise);
            } else {
                ByteBuf content = rest.content();
                writeSoftware(ctx, content, content.readerIndex(), content.readableBytes(), rest.segmentSize(),
                        rest.recipient(), rest.sender(), promise);
            }
        } finally {
            rest.release();
        }
    }

    /** A write waiting for the outcome of the first kernel send. */
    private static final class HeldWrite {
        final Object msg;
        final ChannelPromise promise;
        /** The rest of a write this encoder has begun to send, rather than a write of the application. */
        final boolean rest;

        HeldWrite(Object msg, ChannelPromise promise, boolean rest) {
            this.msg = msg;
            this.promise = promise;
            this.rest = rest;
        }
    }
}
