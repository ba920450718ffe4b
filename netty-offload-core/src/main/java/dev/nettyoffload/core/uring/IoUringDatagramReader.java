package dev.nettyoffload.core.uring;

import dev.nettyoffload.core.OffloadChannelOption;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.Errors;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.SegmentedDatagramPacket;
import io.netty.channel.unix.UnixChannel;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.channel.uring.IoUringIoEvent;
import io.netty.channel.uring.IoUringIoHandle;
import io.netty.channel.uring.IoUringIoOps;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GenericFutureListener;
import io.netty.util.concurrent.Promise;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;

/**
 * Receives for an {@link IoUringDatagramChannel} with our own IORING_OP_RECVMSG and hands the pipeline one
 * message per kernel UDP_GRO batch, where Netty's reader would hand it one datagram per completion and never
 * asks for UDP_GRO.
 * <pre>{@code
 * Channel ch = bootstrap.option(ChannelOption.AUTO_READ, false).bind(port).sync().channel();
 * IoUringDatagramReader reader = IoUringDatagramReader.attach(ch).sync().getNow();
 * }</pre>
 * What {@link #attach} does, on the channel's event loop:
 * <ul>
 *   <li>stops Netty's reader: AUTO_READ off (which also cancels a read Netty already submitted) and a
 *       {@link ReadSuppressor} first in the pipeline, which swallows every later {@code read()} so none can
 *       restart Netty's reader beside ours;</li>
 *   <li>turns on UDP_GRO ({@link OffloadChannelOption#UDP_GRO}) on the socket, after Netty's cancelled read
 *       is gone (an IORING_OP_NOP queued behind the cancel tells when) so that no batch lands in Netty's
 *       small buffer;</li>
 *   <li>registers an {@link IoUringIoHandle} of its own on the channel's {@link IoEventLoop} and keeps
 *       {@value #DEFAULT_RECEIVES_IN_FLIGHT} RECVMSGs in flight, each into its own
 *       {@value #DEFAULT_BUFFER_SIZE}-byte direct buffer ({@link RecvSlot}).</li>
 * </ul>
 * Each completion reaches the pipeline as a {@code fireChannelRead}: a {@link SegmentedDatagramPacket} (segment
 * size from the UDP_GRO control message) when the kernel coalesced several datagrams, else a plain
 * {@link DatagramPacket}; the sender is parsed from the returned {@code sockaddr}, the recipient is the channel's
 * local address. Messages reach the pipeline in completion-queue order, which is the order the kernel took the
 * datagrams off the socket, whichever of our RECVMSGs each went to: a receive dequeues and posts its completion
 * in one step on the event loop's thread (see {@link RecvSlot}). One {@code fireChannelReadComplete} follows all
 * the reads of one event-loop round ({@link RoundReadComplete}), so a codec that flushes on read-complete, QUIC's,
 * answers a whole round at once. The reader reads continuously while the channel is open: {@code read()} and
 * AUTO_READ no longer pace it.
 * <p>
 * Attach right after bind/connect, before traffic: a datagram that Netty's reader had already taken reaches the
 * pipeline the usual way. Errors ({@link RecvError}): EAGAIN, EINTR and ECANCELED re-arm silently; errors of a
 * connected socket reported by ICMP (ECONNREFUSED, EHOSTUNREACH, ...) are fired as {@code exceptionCaught} and
 * re-armed; an error that says the request itself cannot work (EBADF, ENOTSOCK, EINVAL, EFAULT, EOPNOTSUPP) is
 * fired, stops this reader and hands reading back to Netty. A batch larger than the buffer (MSG_TRUNC) is cut to
 * its whole segments, and a datagram cut short is dropped; both are counted in {@link #truncated()}.
 * <p>
 * Close: when the channel closes (or its event loop shuts down) the reader cancels its RECVMSGs with
 * IORING_OP_ASYNC_CANCEL and cancels its registration; Netty calls {@code unregistered()} only after the last
 * completion of the registration arrived, and only then is the memory the kernel writes into released. Counters
 * are plain fields written on the event loop; read them there for exact values.
 */
public final class IoUringDatagramReader {
    /** Bytes of each receive buffer: room for the largest UDP_GRO batch (64 KiB of payload). */
    public static final int DEFAULT_BUFFER_SIZE = 65536;
    /** RECVMSGs kept in flight: enough that one wakeup reaps several batches. */
    public static final int DEFAULT_RECEIVES_IN_FLIGHT = 4;

    private static final InternalLogger logger = InternalLoggerFactory.getInstance(IoUringDatagramReader.class);
    private static final AttributeKey<IoUringDatagramReader> KEY =
            AttributeKey.valueOf(IoUringDatagramReader.class, "reader");
    // The data field of our other ops; a RECVMSG carries its slot's index.
    private static final short CANCEL_DATA = -2;
    private static final short NOP_DATA = -3;

    private enum State { STARTING, READING, STOPPED }

    private final Channel channel;
    private final FileDescriptor fd;
    private final int bufferSize;
    private final RecvSlots slots;
    private final ByteBufAllocator allocator;
    private final ReaderHandle handle = new ReaderHandle(this);
    private final GenericFutureListener<Future<Object>> loopTerminated = f -> onLoopTerminated();
    private final RoundReadComplete readComplete;

    private InetSocketAddress localAddress;
    private Promise<IoUringDatagramReader> startPromise;
    private State state = State.STARTING;
    private String stopReason;
    private boolean udpGroEnabled;
    private IoRegistration registration;
    // Volatile only for the loop-termination listener and for tests; everything else runs on the event loop.
    private volatile boolean released;
    private final ReaderCounters counters = new ReaderCounters();

    private IoUringDatagramReader(Channel channel, int bufferSize, int receives, ByteBufAllocator allocator) {
        this.channel = channel;
        this.fd = ((UnixChannel) channel).fd();
        this.bufferSize = bufferSize;
        this.slots = new RecvSlots(receives);
        this.readComplete = new RoundReadComplete(channel);
        this.allocator = allocator;
    }

    /** Same as {@link #attach(Channel, int)} with {@value #DEFAULT_BUFFER_SIZE}-byte buffers. */
    public static Future<IoUringDatagramReader> attach(Channel channel) {
        return attach(channel, DEFAULT_BUFFER_SIZE);
    }

    /** Same as {@link #attach(Channel, int, int)} with {@value #DEFAULT_RECEIVES_IN_FLIGHT} receives in flight. */
    public static Future<IoUringDatagramReader> attach(Channel channel, int bufferSize) {
        return attach(channel, bufferSize, DEFAULT_RECEIVES_IN_FLIGHT);
    }

    /**
     * Starts reading {@code channel}, a registered and bound (or connected) {@link IoUringDatagramChannel}, with
     * this reader instead of Netty's; see the class documentation. The future completes on the event loop once
     * the first receive is submitted; it fails when the channel is closed or not bound, or already has a reader.
     *
     * @throws IllegalArgumentException when the reader is not {@link #isSupported() supported} here, or
     *                                  {@code channel} is not a registered io_uring datagram channel
     * @param bufferSize bytes of each receive buffer; a batch or datagram longer than this is truncated
     * @param receives   RECVMSGs kept in flight, 1 to 64, each with its own buffer
     */
    public static Future<IoUringDatagramReader> attach(Channel channel, int bufferSize, int receives) {
        if (bufferSize <= 0) {
            throw new IllegalArgumentException("bufferSize: " + bufferSize + " (expected > 0)");
        }
        if (receives < 1 || receives > 64) {
            throw new IllegalArgumentException("receives: " + receives + " (expected 1-64)");
        }
        String problem = ReaderSupport.problem(channel, ReaderHandle.class);
        if (problem != null) {
            throw new IllegalArgumentException("channel: " + problem);
        }
        EventLoop loop = channel.eventLoop();
        Promise<IoUringDatagramReader> promise = loop.newPromise();
        IoUringDatagramReader reader = new IoUringDatagramReader(channel, bufferSize, receives,
                PooledByteBufAllocator.DEFAULT);
        if (loop.inEventLoop()) {
            reader.start(promise);
        } else {
            loop.execute(() -> reader.start(promise));
        }
        return promise;
    }

    /** Whether this JVM can run the reader: io_uring is available and the platform is 64-bit little-endian Linux. */
    public static boolean isSupported() {
        return unavailabilityReason() == null;
    }

    /** Why {@link #isSupported()} is false, or {@code null}. */
    public static String unavailabilityReason() {
        return ReaderSupport.unavailabilityReason();
    }

    /** The reader attached to {@code channel}, or {@code null}. */
    public static IoUringDatagramReader of(Channel channel) {
        return channel.hasAttr(KEY) ? channel.attr(KEY).get() : null;
    }

    private void start(Promise<IoUringDatagramReader> promise) {
        if (!channel.isOpen()) {
            promise.setFailure(new ClosedChannelException());
            return;
        }
        localAddress = (InetSocketAddress) channel.localAddress();
        if (localAddress == null) {
            promise.setFailure(new IllegalStateException("channel is not bound: " + channel));
            return;
        }
        if (channel.attr(KEY).setIfAbsent(this) != null) {
            promise.setFailure(new IllegalStateException("a reader is already attached to " + channel));
            return;
        }
        boolean nettyReading = ReadSuppressor.takeOver(channel);
        try {
            slots.allocate(PooledByteBufAllocator.DEFAULT);
        } catch (Throwable t) {
            ReadSuppressor.handBack(channel, null);
            state = State.STOPPED;
            stopReason = "memory: " + t;
            released = true;
            promise.setFailure(t);
            return;
        }
        channel.closeFuture().addListener(f -> stop("channel closed"));
        ((IoEventLoop) channel.eventLoop()).register(handle).addListener(f -> {
            if (!f.isSuccess()) {
                stop("registration failed: " + f.cause());
                ReadSuppressor.handBack(channel, null);
                promise.tryFailure(f.cause());
                return;
            }
            registration = (IoRegistration) f.getNow();
            terminationFuture().addListener(loopTerminated);
            if (state == State.STOPPED) {
                registration.cancel(); // the channel closed while we registered
                promise.tryFailure(new ClosedChannelException());
                return;
            }
            state = State.READING;
            startPromise = promise;
            if (nettyReading) {
                // UDP_GRO waits until Netty's RECVMSG is gone, or a batch could land in its 2048-byte buffer and
                // be cut. Netty's cancel is ahead of this NOP in the submission queue and cancelling a waiting
                // receive completes at submission, so by the NOP's completion only our receive remains.
                if (registration.submit(new IoUringIoOps(UringConstants.IORING_OP_NOP, (byte) 0, (short) 0, -1, 0L,
                        0L, 0, 0, NOP_DATA, (short) 0, (short) 0, 0, 0L)) == 0) {
                    stop("registration no longer valid");
                }
            } else {
                enableUdpGroAndArm();
            }
        });
    }

    private void enableUdpGroAndArm() {
        if (state != State.READING) {
            return;
        }
        try {
            udpGroEnabled = channel.config().setOption(OffloadChannelOption.UDP_GRO, 1);
        } catch (ChannelException e) {
            // Kernels before 5.0: read datagram by datagram, still one completion each.
            logger.debug("UDP_GRO refused on {}", channel, e);
            udpGroEnabled = false;
        }
        arm();
        Promise<IoUringDatagramReader> promise = startPromise;
        startPromise = null;
        if (promise != null) {
            promise.trySuccess(this);
        }
    }

    /** Puts every idle slot's RECVMSG in flight, in slot order; called on the event loop. */
    private void arm() {
        for (int i = 0; i < slots.count(); i++) {
            arm(slots.get(i));
        }
    }

    private void arm(RecvSlot slot) {
        if (state != State.READING || slot.isInFlight()) {
            return;
        }
        if (!fd.isOpen()) {
            // Netty marked the fd closed and queued its IORING_OP_CLOSE: the number may be reused, never submit
            // on it again. The close future stops us.
            return;
        }
        IoUringIoOps op;
        try {
            op = slot.prepare(fd.intValue(), allocator, bufferSize);
        } catch (IllegalStateException e) {
            fail(e);
            return;
        }
        long id = registration.submit(op);
        if (id == 0) {
            stop("registration no longer valid");
            return;
        }
        slot.submitted(id);
    }

    private void onRecvmsg(RecvSlot slot, int res) {
        slot.completed();
        if (state != State.READING) {
            return; // stopping: the buffers are released in unregistered()
        }
        if (res >= 0) {
            deliver(slot, res);
        } else if (!onError(-res)) {
            return;
        }
        // Re-armed at once: if the socket holds more, Netty's completion loop submits it and reaps the result
        // in this same round.
        arm(slot);
    }

    private void deliver(RecvSlot slot, int length) {
        DatagramPacket packet = slot.message(length, udpGroEnabled, localAddress, counters, this);
        if (packet != null) {
            channel.pipeline().fireChannelRead(packet);
            readComplete.readDelivered();
        }
    }

    /** Returns whether to keep reading. */
    private boolean onError(int errno) {
        RecvError action = RecvError.of(errno);
        if (action == RecvError.RETRY) {
            return true;
        }
        counters.errors++;
        IOException cause = Errors.newIOException("io_uring recvmsg", -errno);
        if (action == RecvError.FATAL) {
            fail(cause);
            return false;
        }
        channel.pipeline().fireExceptionCaught(cause);
        return true;
    }

    /** Stops on an error the reader cannot recover from and hands reading back to Netty's reader. */
    private void fail(Throwable cause) {
        logger.info("{} stops and hands reading back to Netty's reader", this, cause);
        stop("failed: " + cause);
        ReadSuppressor.handBack(channel, cause);
    }

    private void stop(String reason) {
        if (state == State.STOPPED) {
            return;
        }
        state = State.STOPPED;
        stopReason = reason;
        Promise<IoUringDatagramReader> promise = startPromise;
        startPromise = null;
        if (promise != null) {
            promise.tryFailure(new IllegalStateException("stopped before the first receive: " + reason));
        }
        IoRegistration r = registration;
        if (r == null) {
            // Not registered (yet): nothing is in flight. A registration completing later is cancelled at once.
            releaseMemory();
            return;
        }
        slots.cancelAll(r, CANCEL_DATA);
        // Netty calls unregistered() once every submitted op has completed, so the memory outlives the RECVMSG.
        r.cancel();
    }

    /**
     * The safety net for an event loop that ends without closing its handles. Netty 4.2.18's
     * {@code SingleThreadIoEventLoop} calls {@code prepareToDestroy()} (which closes every handle) only if it
     * sees the shutdown before its {@code confirmShutdown()}; with a zero quiet period a shutdown requested in
     * between ends the loop at once, and {@code destroy()} closes the ring without telling the handles (the
     * channel stays open too). Closing the ring cancels its requests and the loop thread is gone, so no
     * completion will come and the kernel no longer writes into our memory: release it here.
     */
    private void onLoopTerminated() {
        if (!released) {
            logger.debug("{}: event loop ended without closing its io_uring handles; releasing the buffers", this);
            state = State.STOPPED;
            stopReason = "event loop terminated";
            releaseMemory();
        }
    }

    @SuppressWarnings("unchecked")
    private Future<Object> terminationFuture() {
        return (Future<Object>) channel.eventLoop().terminationFuture();
    }

    private void releaseMemory() {
        if (released) {
            return;
        }
        released = true;
        if (registration != null) {
            terminationFuture().removeListener(loopTerminated);
        }
        slots.release();
    }

    /** The channel this reader reads. */
    public Channel channel() {
        return channel;
    }

    /** Bytes of each receive buffer. */
    public int bufferSize() {
        return bufferSize;
    }

    /** RECVMSGs kept in flight. */
    public int receivesInFlight() {
        return slots.count();
    }

    /** Whether the kernel accepted UDP_GRO on the socket, so that completions can carry batches. */
    public boolean isUdpGroEnabled() {
        return udpGroEnabled;
    }

    /** Whether the reader is (about to be) receiving: attached, and neither closed nor failed. */
    public boolean isReading() {
        return state != State.STOPPED;
    }

    /** Completions that delivered a message to the pipeline. */
    public long reads() {
        return counters.reads;
    }

    /** Messages that carried more than one datagram ({@link SegmentedDatagramPacket}s). */
    public long batches() {
        return counters.batches;
    }

    /** Datagrams delivered, counting each segment of a batch. */
    public long datagrams() {
        return counters.datagrams;
    }

    /** Payload bytes delivered. */
    public long bytes() {
        return counters.bytes;
    }

    /** Receives the kernel truncated (MSG_TRUNC): the datagram or batch was larger than {@link #bufferSize()}. */
    public long truncated() {
        return counters.truncated;
    }

    /** Failed receives other than EAGAIN, EINTR and ECANCELED (ICMP errors of a connected socket, mostly). */
    public long errors() {
        return counters.errors;
    }

    /** {@code channelReadComplete}s fired: one per round that delivered at least one message. */
    public long readCompletes() {
        return readComplete.fired();
    }

    /** RECVMSGs in flight (tests; event loop only). */
    int inFlight() {
        return slots.inFlight();
    }

    /** Whether the memory the kernel writes into has been released (tests). */
    boolean isReleased() {
        return released;
    }

    /** Which reader runs on the channel, how, and its counters. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(192);
        sb.append("IoUringDatagramReader(");
        switch (state) {
            case STARTING:
                sb.append("starting");
                break;
            case READING:
                sb.append("reading: our io_uring RECVMSG");
                break;
            default:
                sb.append("stopped (").append(stopReason).append(')');
                if (ReadSuppressor.isHandedBack(channel)) {
                    sb.append(", Netty's reader reads");
                }
                break;
        }
        sb.append(", UDP_GRO ").append(udpGroEnabled ? "on" : "off")
                .append(", fd ").append(fd.intValue())
                .append(", ").append(slots.count()).append(" x ").append(bufferSize).append("-byte buffers: ");
        return counters.appendTo(sb, readComplete.fired()).append(')').toString();
    }

    /** A completion of one of our ops (from {@link ReaderHandle}). */
    void onCompletion(IoUringIoEvent e) {
        if (e.opcode() == UringConstants.IORING_OP_RECVMSG) {
            RecvSlot slot = slots.get(e.data());
            if (slot != null) {
                onRecvmsg(slot, e.res());
            }
        } else if (e.opcode() == UringConstants.IORING_OP_NOP) {
            enableUdpGroAndArm();
        }
        // IORING_OP_ASYNC_CANCEL completes with 0, -ENOENT or -EALREADY: nothing to do.
    }

    /** The event loop is shutting down and closes its handles (from {@link ReaderHandle}). */
    void onLoopClosing() {
        stop("event loop shut down");
    }

    /** Every op of the registration has completed (from {@link ReaderHandle}): the kernel is done with the memory. */
    void onUnregistered() {
        releaseMemory();
    }
}
