package dev.nettyoffload.ffm;

import dev.nettyoffload.core.Errno;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoEvent;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.SegmentedDatagramPacket;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.nio.channels.ClosedChannelException;

/**
 * Reads an {@link EpollDatagramChannel}'s datagrams with {@code recvmsg} through {@code java.lang.foreign} and
 * fires each kernel batch as one {@link SegmentedDatagramPacket} (a {@link DatagramPacket} when the read holds
 * one datagram), followed by one {@code channelReadComplete} per readiness event.
 * <p>
 * Netty's epoll reader cannot do this: {@code EpollDatagramChannel} is final, its {@code recvmsg} is private,
 * and with {@code UDP_GRO} it cuts every batch into one slice per datagram. This reader {@code dup}s the
 * channel's descriptor (the event loop keys registrations by descriptor number), registers the duplicate as an
 * {@link EpollIoHandle} for {@code EPOLLIN} on the channel's own event loop, and on readiness calls
 * {@code recvmsg} into a pooled direct buffer of {@link EpollBatchReaderConfig#receiveBufferSize()} bytes, up to
 * {@link EpollBatchReaderConfig#maxReadsPerWakeup()} times or until {@code EAGAIN}. The segment size comes from
 * the {@code UDP_GRO} control message ({@code SOL_UDP}, type 104, an int gso_size). {@link RecvmsgMessage} holds
 * the native {@code msghdr} and decodes it; {@link ReceiveBuffer} owns the buffer it points at.
 * <p>
 * {@link #install} turns {@code AUTO_READ} off and puts a guard first in the pipeline that swallows every
 * {@code read()} travelling to the head, so Netty's reader never starts beside this one; see
 * {@link EpollBatchReaderGuard}. Two things it cannot stop, both counted: a handler added before the guard
 * calling {@code ctx.read()}, and the socket's {@code EPOLLERR} (an ICMP error on a connected socket), which epoll
 * reports to every registration of the socket and which makes Netty's reader run one round. Because of the
 * latter, a readiness event with {@code EPOLLERR} drains the socket without the usual budget, and the errno it
 * returns ({@code ECONNREFUSED}) becomes a {@link PortUnreachableException} in the pipeline, as with Netty;
 * the reader goes on reading. Reads are not flow-controlled: the reader reads whenever data is ready.
 * <p>
 * The reader closes with the channel (close, deregister, inactive, or the guard's removal): it cancels its
 * registration, closes the duplicate descriptor (which otherwise keeps the socket and its port alive) and
 * releases its buffer. All state lives on the channel's event loop; counters are plain fields, exact when read
 * on that loop.
 */
public final class EpollBatchReader {
    /** The pipeline name of the guard {@link #install} adds first. */
    public static final String GUARD_NAME = "epollBatchReaderGuard";

    /**
     * The budget of a readiness event that reports {@code EPOLLERR}: Netty's reader runs right after this one in
     * the same event loop iteration, and reads whatever this one leaves.
     */
    private static final int MAX_READS_ON_ERROR = 1024;

    private final EpollDatagramChannel channel;
    private final EpollBatchReaderConfig config;
    private final IoEventLoop loop;
    private final EpollBatchReaderGuard guard;
    private final Handle handle = new Handle();
    private final ReceiveBuffer receiveBuffer;

    private ChannelHandlerContext ctx;
    private DuplicateDescriptor duplicate;
    private IoRegistration registration;
    private RecvmsgMessage message;
    private boolean running;
    private boolean closed;

    private long wakeups;
    private long reads;
    private long batches;
    private long segmentedBatches;
    private long datagrams;
    private long bytes;
    private long truncatedReads;
    private long controlTruncatedReads;
    private long budgetExhausted;
    private long portUnreachable;
    private long readErrors;
    private long strayNettyReads;
    private long suppressedReadCalls;

    private EpollBatchReader(EpollDatagramChannel channel, EpollBatchReaderConfig config, IoEventLoop loop) {
        this.channel = channel;
        this.config = config;
        this.loop = loop;
        this.guard = new EpollBatchReaderGuard(this);
        this.receiveBuffer = new ReceiveBuffer(channel, config);
    }

    /**
     * Whether the reader works here: {@link Syscalls#isSupported()} (Java 22+, 64-bit Linux, native access not
     * denied) and Netty's epoll transport is available.
     */
    public static boolean isSupported() {
        return unavailabilityCause() == null;
    }

    /** Why {@link #isSupported()} is false, or {@code null} when it is true. */
    public static Throwable unavailabilityCause() {
        if (!Syscalls.isSupported()) {
            return Syscalls.unavailabilityCause();
        }
        return Epoll.isAvailable() ? null : Epoll.unavailabilityCause();
    }

    /** {@link #install(EpollDatagramChannel, EpollBatchReaderConfig)} with {@link EpollBatchReaderConfig#DEFAULT}. */
    public static Future<EpollBatchReader> install(EpollDatagramChannel channel) {
        return install(channel, EpollBatchReaderConfig.DEFAULT);
    }

    /**
     * Starts reading {@code channel} with a new reader, on the channel's event loop; the future completes when it
     * runs, at once when called on that loop. The channel must be registered with an event loop of Netty's epoll
     * {@code IoHandler}; it may be bound or connected before or after.
     */
    public static Future<EpollBatchReader> install(EpollDatagramChannel channel, EpollBatchReaderConfig config) {
        if (config == null) {
            throw new NullPointerException("config");
        }
        if (!channel.isRegistered()) {
            throw new IllegalStateException("channel not registered with an event loop: " + channel);
        }
        EventLoop eventLoop = channel.eventLoop();
        if (!(eventLoop instanceof IoEventLoop ioLoop) || !ioLoop.isCompatible(EpollIoHandle.class)) {
            throw new IllegalArgumentException("not an epoll IoEventLoop: " + eventLoop);
        }
        EpollBatchReader reader = new EpollBatchReader(channel, config, ioLoop);
        Promise<EpollBatchReader> promise = ioLoop.newPromise();
        if (ioLoop.inEventLoop()) {
            reader.start(promise);
        } else {
            ioLoop.execute(() -> reader.start(promise));
        }
        return promise;
    }

    /** The reader installed on {@code channel}, or {@code null} when none is. */
    public static EpollBatchReader of(Channel channel) {
        EpollBatchReaderGuard guard = channel.pipeline().get(EpollBatchReaderGuard.class);
        return guard == null ? null : guard.reader();
    }

    private void start(Promise<EpollBatchReader> promise) {
        boolean autoRead = channel.config().isAutoRead();
        try {
            if (!channel.isOpen()) {
                throw new ClosedChannelException();
            }
            ChannelPipeline pipeline = channel.pipeline();
            if (pipeline.get(EpollBatchReaderGuard.class) != null) {
                throw new IllegalStateException("an EpollBatchReader is already installed on " + channel);
            }
            if (config.udpGro()) {
                channel.config().setOption(EpollChannelOption.UDP_GRO, true);
            }
            // Clears EPOLLIN on Netty's registration at once (we are on the loop); the guard keeps it clear.
            channel.config().setAutoRead(false);
            pipeline.addFirst(GUARD_NAME, guard);
            ctx = pipeline.context(guard);

            int fd = Syscalls.fcntl(channel.fd().intValue(), Syscalls.F_DUPFD_CLOEXEC, 0);
            if (fd < 0) {
                throw new IOException("fcntl(F_DUPFD_CLOEXEC) of fd " + channel.fd().intValue()
                        + " failed: errno " + -fd);
            }
            duplicate = new DuplicateDescriptor(fd);
            message = new RecvmsgMessage();

            Future<IoRegistration> registered = loop.register(handle);
            if (!registered.isSuccess()) {
                throw registered.cause();
            }
            registration = registered.getNow();
            running = true;
            registration.submit(EpollIoOps.EPOLLIN);
            channel.closeFuture().addListener(f -> closeWithChannel());
            promise.setSuccess(this);
        } catch (Throwable t) {
            close0(true);
            channel.config().setAutoRead(autoRead);
            promise.setFailure(t);
        }
    }

    /**
     * Stops this reader and gives the channel back to Netty's reader ({@code AUTO_READ} stays off; call
     * {@code read()} or turn it on). Safe from any thread and more than once.
     */
    public void close() {
        if (loop.inEventLoop()) {
            close0(true);
        } else {
            loop.execute(() -> close0(true));
        }
    }

    void closeWithChannel() {
        close0(false);
    }

    private void close0(boolean removeGuard) {
        if (closed) {
            return;
        }
        closed = true;
        running = false;
        if (registration != null) {
            // On the loop this removes the duplicate from the epoll set before it is closed.
            registration.cancel();
        }
        if (duplicate != null) {
            duplicate.closeNow();
        }
        receiveBuffer.release();
        if (message != null) {
            message.close();
            message = null;
        }
        if (removeGuard && ctx != null && !ctx.isRemoved()) {
            channel.pipeline().remove(guard);
        }
    }

    private void readReady(boolean errorPending) {
        if (!channel.isOpen()) {
            closeWithChannel();
            return;
        }
        wakeups++;
        int budget = errorPending ? MAX_READS_ON_ERROR : config.maxReadsPerWakeup();
        int fired = 0;
        int attempts = 0;
        boolean drained = false;
        Throwable error = null;
        try {
            while (attempts < budget && running) {
                attempts++;
                RecvmsgMessage msg = message;
                // A new buffer (and the iovec pointed at it) only when the last read took the old one along.
                receiveBuffer.current(msg);
                msg.reset();
                long n = Syscalls.recvmsg(duplicate.intValue(), msg.msghdr(), Syscalls.MSG_DONTWAIT);
                if (n < 0) {
                    int errno = (int) -n;
                    if (errno == Errno.EAGAIN) {
                        drained = true;
                        break;
                    }
                    if (errno == Errno.EINTR) {
                        continue;
                    }
                    if (errno == Errno.ECONNREFUSED) {
                        // The pending ICMP error of a connected socket, reported once; the datagrams behind it are
                        // still to be read, and are read before the error is fired (whose handler might react at
                        // once, while Netty's reader, woken by the same EPOLLERR, waits for its turn).
                        portUnreachable++;
                        error = new PortUnreachableException("recvmsg: ECONNREFUSED");
                        continue;
                    }
                    readErrors++;
                    error = new IOException("recvmsg on fd " + duplicate.intValue() + " failed: errno " + errno);
                    break;
                }
                reads++;
                int length = (int) n;
                int flags = msg.flags();
                if ((flags & Syscalls.MSG_TRUNC) != 0) {
                    truncatedReads++;
                }
                if ((flags & Syscalls.MSG_CTRUNC) != 0) {
                    controlTruncatedReads++;
                }
                int segmentSize = msg.segmentSize();
                InetSocketAddress sender = msg.sender();
                ByteBuf data = receiveBuffer.take(length);
                InetSocketAddress recipient = channel.localAddress();
                DatagramPacket packet;
                if (segmentSize > 0 && length > segmentSize) {
                    packet = new SegmentedDatagramPacket(data, segmentSize, recipient, sender);
                    segmentedBatches++;
                    datagrams += (length + segmentSize - 1) / segmentSize;
                } else {
                    packet = new DatagramPacket(data, recipient, sender);
                    datagrams++;
                }
                batches++;
                bytes += length;
                fired++;
                ctx.fireChannelRead(packet);
            }
            if (!drained && attempts == budget) {
                budgetExhausted++;
            }
        } finally {
            // Also when an allocation failure ends the round early.
            if (fired > 0 && !ctx.isRemoved()) {
                ctx.fireChannelReadComplete();
            }
        }
        if (error != null) {
            // After the packets read before and after it, as Netty's reader does, and after the rest of this
            // event loop iteration: an EPOLLERR also runs Netty's reader in it, which reads whatever arrives
            // between our EAGAIN and its turn, so a handler that answers the error at once (a peer restarted)
            // must not make that window wider.
            Throwable cause = error;
            loop.execute(() -> {
                if (!ctx.isRemoved()) {
                    ctx.fireExceptionCaught(cause);
                }
            });
        }
    }

    void readCallSuppressed() {
        suppressedReadCalls++;
    }

    void strayNettyRead() {
        strayNettyReads++;
    }

    /** The channel this reader reads. */
    public EpollDatagramChannel channel() {
        return channel;
    }

    /** The settings this reader was installed with. */
    public EpollBatchReaderConfig config() {
        return config;
    }

    /** Whether this reader still reads the channel. */
    public boolean isRunning() {
        return running;
    }

    /** Readiness events handled. */
    public long wakeups() {
        return wakeups;
    }

    /** {@code recvmsg} calls that returned a datagram or a batch. */
    public long reads() {
        return reads;
    }

    /** Packets fired: one per read. */
    public long batches() {
        return batches;
    }

    /** Packets fired as {@link SegmentedDatagramPacket}: reads of more than one datagram. */
    public long segmentedBatches() {
        return segmentedBatches;
    }

    /** Datagrams received, counting each segment of a batch. */
    public long datagrams() {
        return datagrams;
    }

    /** Payload bytes received. */
    public long bytes() {
        return bytes;
    }

    /** Reads shorter than {@link EpollBatchReaderConfig#copyThreshold()}, copied to a buffer of their size. */
    public long copiedReads() {
        return receiveBuffer.copiedReads();
    }

    /** Reads the kernel flagged {@code MSG_TRUNC}: the datagram or batch was longer than the buffer. */
    public long truncatedReads() {
        return truncatedReads;
    }

    /** Reads the kernel flagged {@code MSG_CTRUNC}: control messages did not fit. */
    public long controlTruncatedReads() {
        return controlTruncatedReads;
    }

    /** Readiness events that ended at the read budget with data possibly left (epoll reports it again). */
    public long budgetExhausted() {
        return budgetExhausted;
    }

    /** {@code ECONNREFUSED} errors (ICMP port unreachable on a connected socket) fired as exceptions. */
    public long portUnreachable() {
        return portUnreachable;
    }

    /** Other {@code recvmsg} errors, each fired as an {@link IOException}. */
    public long readErrors() {
        return readErrors;
    }

    /** Packets Netty's own reader delivered past the guard (woken by {@code EPOLLERR}); forwarded unchanged. */
    public long strayNettyReads() {
        return strayNettyReads;
    }

    /** {@code read()} calls the guard kept from reaching Netty's reader. */
    public long suppressedReadCalls() {
        return suppressedReadCalls;
    }

    @Override
    public String toString() {
        String reader = running
                ? "EpollBatchReader (FFM recvmsg on dup fd " + duplicate.intValue() + "; Netty's reader suppressed)"
                : "Netty's reader (EpollBatchReader closed)";
        return "EpollBatchReader(channel=" + channel.id().asShortText() + ", reader=" + reader
                + ", wakeups=" + wakeups + ", reads=" + reads + ", batches=" + batches
                + ", segmentedBatches=" + segmentedBatches + ", datagrams=" + datagrams + ", bytes=" + bytes
                + ", copiedReads=" + copiedReads() + ", truncatedReads=" + truncatedReads
                + ", controlTruncatedReads=" + controlTruncatedReads + ", budgetExhausted=" + budgetExhausted
                + ", portUnreachable=" + portUnreachable + ", readErrors=" + readErrors
                + ", strayNettyReads=" + strayNettyReads + ", suppressedReadCalls=" + suppressedReadCalls + ')';
    }

    /** The duplicate's registration with the event loop; the loop calls {@link #close()} when it shuts down. */
    private final class Handle implements EpollIoHandle {
        @Override
        public FileDescriptor fd() {
            return duplicate;
        }

        @Override
        public void handle(IoRegistration registration, IoEvent event) {
            EpollIoOps ops = ((EpollIoEvent) event).ops();
            boolean error = ops.contains(EpollIoOps.EPOLLERR);
            if (running && (error || ops.contains(EpollIoOps.EPOLLIN))) {
                try {
                    readReady(error);
                } catch (Throwable t) {
                    // Out of (direct) memory, most likely. Not thrown into the event loop, which would log it
                    // and pause every channel of the loop for a second; EPOLLIN stays set, so the next event
                    // loop iteration retries.
                    readErrors++;
                    if (!ctx.isRemoved()) {
                        ctx.fireExceptionCaught(t);
                    }
                }
            }
        }

        @Override
        public void close() {
            closeWithChannel();
        }
    }
}
