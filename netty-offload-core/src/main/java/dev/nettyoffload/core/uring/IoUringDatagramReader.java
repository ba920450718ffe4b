package dev.nettyoffload.core.uring;

import dev.nettyoffload.core.Errno;
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

// Over 500 lines: the public API (attach, counters, description) and the lifecycle both modes share (start, the
// UDP_GRO hand-over from Netty's reader, stop, memory release) live here; each mode's receives are in
// SingleShotReceiver and MultishotReceiver.
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
 *   <li>registers an {@link IoUringIoHandle} of its own on the channel's {@link IoEventLoop} and receives in
 *       one of two {@link ReaderMode}s: {@link ReaderMode#SINGLE_SHOT} (the default) keeps
 *       {@value #DEFAULT_RECEIVES_IN_FLIGHT} RECVMSGs in flight, each into its own
 *       {@value #DEFAULT_BUFFER_SIZE}-byte direct buffer ({@link RecvSlot}); {@link ReaderMode#MULTISHOT} (opt-in,
 *       Linux 6.0+; {@link ReaderMode#preferred()} says why it is not the default) keeps one multishot RECVMSG
 *       armed that takes each datagram or batch into one of {@value #DEFAULT_PROVIDED_BUFFERS}
 *       {@value #DEFAULT_BUFFER_SIZE}-byte buffers provided to the kernel ({@link MultishotReceiver}), and hands
 *       the payload up as a slice of that buffer without copying. A kernel that refuses the multishot ops makes
 *       the reader fall back to single-shot, and {@link #toString()} says so and why.</li>
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
 * Multishot buffers: a message's content ({@link ProvidedBuf}) holds its provided buffer until released; when
 * every buffer is taken (the application holds them, or a burst filled them before the event loop handed them on)
 * the kernel ends the multishot with ENOBUFS ({@link #noBufferStalls()}) and datagrams wait in the socket's
 * receive buffer (or are dropped there when it is full) until a buffer comes back, when the RECVMSG is armed
 * again. Release messages promptly, or copy what must be kept.
 * <p>
 * Close: when the channel closes (or its event loop shuts down) the reader cancels its RECVMSGs with
 * IORING_OP_ASYNC_CANCEL (multishot: and takes its buffers back with IORING_OP_REMOVE_BUFFERS) and cancels its
 * registration; Netty calls {@code unregistered()} only after the last completion of the registration arrived,
 * and only then is the memory the kernel writes into released; multishot buffers that the application still holds
 * stay valid, and their memory is freed when the last is released. Counters are plain fields written on the event
 * loop; read them there for exact values.
 */
public final class IoUringDatagramReader {
    /** Bytes of each receive buffer: room for the largest UDP_GRO batch (64 KiB of payload). */
    public static final int DEFAULT_BUFFER_SIZE = 65536;
    /** Single-shot RECVMSGs kept in flight: enough that one wakeup reaps several batches. */
    public static final int DEFAULT_RECEIVES_IN_FLIGHT = 4;
    /** Multishot buffers: room for the application to hold some batches while others arrive. */
    public static final int DEFAULT_PROVIDED_BUFFERS = 64;
    /** The most multishot buffers of one reader (their region must also stay below 1 GiB). */
    public static final int MAX_PROVIDED_BUFFERS = 4096;

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
    private final int buffers;
    private final SingleShotReceiver singleShot;
    private ReaderMode mode;
    private String fallbackReason;
    private MultishotReceiver multishot;
    private final ByteBufAllocator allocator;
    private final ReaderHandle handle = new ReaderHandle(this);
    private final GenericFutureListener<Future<Object>> loopTerminated = f -> onLoopTerminated();
    private final RoundReadComplete readComplete;
    /** Multishot: a read-complete may be fired early when half the group is held (again). */
    private boolean earlyReadComplete = true;

    private InetSocketAddress localAddress;
    private Promise<IoUringDatagramReader> startPromise;
    private State state = State.STARTING;
    private String stopReason;
    private boolean udpGroEnabled;
    private IoRegistration registration;
    // Volatile only for the loop-termination listener and for tests; everything else runs on the event loop.
    private volatile boolean released;
    private final ReaderCounters counters = new ReaderCounters();

    private IoUringDatagramReader(Channel channel, ReaderMode mode, int bufferSize, int buffers,
                                  ByteBufAllocator allocator) {
        this.channel = channel;
        this.fd = ((UnixChannel) channel).fd();
        this.mode = mode;
        this.bufferSize = bufferSize;
        this.buffers = buffers;
        this.singleShot = new SingleShotReceiver(this, mode == ReaderMode.SINGLE_SHOT ? buffers : DEFAULT_RECEIVES_IN_FLIGHT,
                bufferSize);
        this.readComplete = new RoundReadComplete(channel);
        this.allocator = allocator;
    }

    /** Same as {@link #attach(Channel, int)} with {@value #DEFAULT_BUFFER_SIZE}-byte buffers. */
    public static Future<IoUringDatagramReader> attach(Channel channel) {
        return attach(channel, DEFAULT_BUFFER_SIZE);
    }

    /**
     * Same as {@link #attach(Channel, ReaderMode, int, int)} in the {@link ReaderMode#preferred() preferred} mode
     * with its default number of buffers.
     */
    public static Future<IoUringDatagramReader> attach(Channel channel, int bufferSize) {
        ReaderMode mode = ReaderMode.preferred();
        return attach(channel, mode, bufferSize,
                mode == ReaderMode.MULTISHOT ? DEFAULT_PROVIDED_BUFFERS : DEFAULT_RECEIVES_IN_FLIGHT);
    }

    /** Same as {@link #attach(Channel, ReaderMode, int, int)} in {@link ReaderMode#SINGLE_SHOT} mode. */
    public static Future<IoUringDatagramReader> attach(Channel channel, int bufferSize, int receives) {
        return attach(channel, ReaderMode.SINGLE_SHOT, bufferSize, receives);
    }

    /**
     * Starts reading {@code channel}, a registered and bound (or connected) {@link IoUringDatagramChannel}, with
     * this reader instead of Netty's; see the class documentation. The future completes on the event loop once
     * the first receive is submitted; it fails when the channel is closed or not bound, or already has a reader.
     *
     * @throws IllegalArgumentException when the reader is not {@link #isSupported() supported} here, or
     *                                  {@code channel} is not a registered io_uring datagram channel
     * @param mode       {@link ReaderMode#MULTISHOT} falls back to single-shot where the kernel refuses it
     * @param bufferSize payload bytes of each receive buffer; a batch or datagram longer than this is truncated
     * @param buffers    single-shot: RECVMSGs kept in flight, 1 to 64, each with its own buffer; multishot:
     *                   buffers provided to the kernel, 1 to {@value #MAX_PROVIDED_BUFFERS} (a fallback to single-shot
     *                   keeps {@value #DEFAULT_RECEIVES_IN_FLIGHT} in flight)
     */
    public static Future<IoUringDatagramReader> attach(Channel channel, ReaderMode mode, int bufferSize,
                                                       int buffers) {
        if (bufferSize <= 0 || bufferSize > 1 << 20) {
            throw new IllegalArgumentException("bufferSize: " + bufferSize + " (expected 1-1048576)");
        }
        int max = mode == ReaderMode.SINGLE_SHOT ? 64 : MAX_PROVIDED_BUFFERS;
        if (buffers < 1 || buffers > max) {
            throw new IllegalArgumentException("buffers: " + buffers + " (expected 1-" + max + " for " + mode + ")");
        }
        if (mode == ReaderMode.MULTISHOT && (long) buffers * (bufferSize + MultishotRecv.PAYLOAD_OFFSET + 8) > 1 << 30) {
            throw new IllegalArgumentException("buffers x bufferSize: " + buffers + " x " + bufferSize
                    + " (expected at most 1 GiB of provided buffers)");
        }
        String problem = ReaderSupport.problem(channel, ReaderHandle.class);
        if (problem != null) {
            throw new IllegalArgumentException("channel: " + problem);
        }
        EventLoop loop = channel.eventLoop();
        Promise<IoUringDatagramReader> promise = loop.newPromise();
        IoUringDatagramReader reader = new IoUringDatagramReader(channel, mode, bufferSize, buffers,
                PooledByteBufAllocator.DEFAULT);
        if (loop.inEventLoop()) {
            reader.start(promise);
        } else {
            loop.execute(() -> reader.start(promise));
        }
        return promise;
    }

    /**
     * Why {@link ReaderMode#preferred()} is single-shot on this JVM: the kernel release is older than 6.0, or a
     * kernel refusal was seen; {@code null} when multishot is expected to work.
     */
    public static String multishotProblem() {
        return MultishotSupport.problem();
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
            if (mode == ReaderMode.MULTISHOT) {
                multishot = MultishotReceiver.allocate(this, buffers, bufferSize, allocator, channel.eventLoop());
            } else {
                singleShot.allocate(allocator);
            }
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
        if (multishot != null) {
            multishot.start(); // the promise completes when the kernel has the buffers (multishotStarted)
            return;
        }
        singleShot.arm();
        completeStart();
    }

    private void completeStart() {
        Promise<IoUringDatagramReader> promise = startPromise;
        startPromise = null;
        if (promise != null) {
            promise.trySuccess(this);
        }
    }

    /** Whether an op may be submitted on the fd now. */
    boolean canSubmit() {
        // A closed fd: Netty queued its IORING_OP_CLOSE and the number may be reused; the close future stops us.
        return state == State.READING && fd.isOpen();
    }

    int fdValue() {
        return fd.intValue();
    }

    ByteBufAllocator allocator() {
        return allocator;
    }

    DatagramPacket singleShotMessage(RecvSlot slot, int length) {
        return slot.message(length, udpGroEnabled, localAddress, counters, this);
    }

    void deliver(DatagramPacket packet) {
        channel.pipeline().fireChannelRead(packet);
        if (multishot != null) {
            ProvidedBuffers group = multishot.buffers();
            if (group.held() * 2 < group.count()) {
                earlyReadComplete = true;
            } else if (earlyReadComplete) {
                // Half the group is held: a pipeline that releases on read-complete (an aggregator, a codec that
                // flushes) gets it now, before the kernel runs out of buffers and ends the multishot; measured
                // 13 -> 36 Gbit/s on loopback. Once per crossing, so that an application that keeps its messages
                // does not get a read-complete per read.
                earlyReadComplete = false;
                readComplete.fireNow();
                return;
            }
        }
        readComplete.readDelivered();
    }

    /** Submits {@code op}; returns its id, or 0 (and stops) when the registration is no longer valid. */
    long submit(IoUringIoOps op) {
        long id = registration.submit(op);
        if (id == 0) {
            stop("registration no longer valid");
        }
        return id;
    }

    /** Submits the multishot RECVMSG unless stopped or the fd is closed. */
    long submitRecv(MultishotRecv recv, short group, short data) {
        return canSubmit() ? submit(recv.op(fd.intValue(), group, data)) : 0;
    }

    DatagramPacket multishotMessage(MultishotRecv recv, ProvidedBuffers provided, int id, int result) {
        return recv.message(provided, id, result, udpGroEnabled, localAddress, counters, this);
    }

    /** The kernel accepted the provided buffers and the multishot RECVMSG is armed. */
    void multishotStarted() {
        completeStart();
    }

    /**
     * The kernel refused a multishot op before anything was received: read with single-shot RECVMSGs.
     * {@code forTheJvm}: the refusal says the kernel lacks the op, so later readers start single-shot.
     */
    void multishotRefused(String why, boolean forTheJvm) {
        if (forTheJvm) {
            MultishotSupport.refused(why);
        }
        fallbackReason = "multishot refused by the kernel (" + why + ")";
        multishot.stop(registration);
        mode = ReaderMode.SINGLE_SHOT;
        try {
            singleShot.allocate(allocator);
        } catch (Throwable t) {
            fail(t);
            return;
        }
        singleShot.arm();
        completeStart();
    }

    void multishotBufferLost(int errno) {
        logger.warn("{}: the kernel refused a buffer back into the group ({}); it stays unused until close (logged "
                + "once per reader)", this, Errno.name(errno));
    }

    /** Returns whether to keep reading. */
    boolean onRecvError(int errno) {
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
    void fail(Throwable cause) {
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
        singleShot.cancel(r, CANCEL_DATA);
        if (multishot != null) {
            multishot.stop(r);
        }
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
        singleShot.release();
        if (multishot != null) {
            multishot.kernelDone();
        }
    }

    /** The channel this reader reads. */
    public Channel channel() {
        return channel;
    }

    /** Bytes of each receive buffer. */
    public int bufferSize() {
        return bufferSize;
    }

    /** Single-shot RECVMSGs kept in flight; 0 in multishot mode. */
    public int receivesInFlight() {
        return mode == ReaderMode.SINGLE_SHOT ? singleShot.count() : 0;
    }

    /** How the reader receives now: the mode asked for, or single-shot after the kernel refused multishot. */
    public ReaderMode mode() {
        return mode;
    }

    /** Why the reader runs single-shot though multishot was asked for, or {@code null}. */
    public String fallbackReason() {
        return fallbackReason;
    }

    /**
     * Times the kernel ended the multishot RECVMSG with ENOBUFS because every provided buffer was taken: held by the
     * application, or filled by a burst deeper than the group before the event loop handed them on. Each costs a
     * new RECVMSG submission, no data: the datagrams wait in the socket.
     */
    public long noBufferStalls() {
        return multishot != null ? multishot.noBufferStalls() : 0;
    }

    /** Provided buffers the application holds (messages not yet released); 0 in single-shot mode. Any thread. */
    public int heldBuffers() {
        MultishotReceiver m = multishot;
        return m != null ? m.buffers().held() : 0;
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
        MultishotReceiver m = multishot;
        return mode == ReaderMode.SINGLE_SHOT ? singleShot.inFlight() : m != null && m.isArmed() ? 1 : 0;
    }

    /** The multishot buffer group id, or -1 (tests). */
    int bufferGroup() {
        MultishotReceiver m = multishot;
        return m != null ? m.buffers().group() & 0xFFFF : -1;
    }

    /** Whether every buffer the reader allocated is freed, also those the application held (tests). */
    boolean isMemoryFreed() {
        MultishotReceiver m = multishot;
        return released && (m == null || m.buffers().isFreed());
    }

    /** Whether the memory the kernel writes into has been released (tests). */
    boolean isReleased() {
        return released;
    }

    /** How the reader receives, in a sentence: the mode, its buffers, and why it fell back if it did. */
    public String description() {
        StringBuilder sb = new StringBuilder(160).append("io_uring ").append(mode.description());
        if (mode == ReaderMode.MULTISHOT) {
            sb.append(" (").append(buffers).append(" x ").append(bufferSize).append(" bytes)");
        } else {
            sb.append(" (").append(singleShot.count()).append(" x ").append(bufferSize).append(" bytes)");
        }
        sb.append(udpGroEnabled ? " with UDP_GRO: one message per kernel batch" : " without UDP_GRO");
        if (fallbackReason != null) {
            sb.append("; ").append(fallbackReason);
        }
        return sb.toString();
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
                sb.append("reading: our io_uring ").append(mode.description());
                if (fallbackReason != null) {
                    sb.append(", ").append(fallbackReason);
                }
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
                .append(", ");
        MultishotReceiver m = multishot;
        if (mode == ReaderMode.MULTISHOT && m != null) {
            m.appendTo(sb).append(": ");
        } else if (mode == ReaderMode.MULTISHOT) {
            sb.append(buffers).append(" x ").append(bufferSize).append("-byte provided buffers: ");
        } else {
            sb.append(singleShot.count()).append(" x ").append(bufferSize).append("-byte buffers: ");
        }
        return counters.appendTo(sb, readComplete.fired()).append(')').toString();
    }

    /** A completion of one of our ops (from {@link ReaderHandle}). */
    void onCompletion(IoUringIoEvent e) {
        if (multishot != null && multishot.onCompletion(e)) {
            return;
        }
        if (singleShot.onCompletion(e)) {
            return;
        }
        if (e.opcode() == UringConstants.IORING_OP_NOP) {
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
