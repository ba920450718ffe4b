package dev.nettyoffload.tun;

import dev.nettyoffload.core.Errno;
import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.PacketOffloadException;
import dev.nettyoffload.ffm.Syscalls;
import dev.nettyoffload.gso.PacketSegmenter;
import io.netty.buffer.ByteBuf;
import io.netty.channel.AbstractChannel;
import io.netty.channel.ChannelMetadata;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoEvent;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;
import io.netty.util.concurrent.Future;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.channels.ClosedChannelException;
import java.util.Set;

/**
 * A Linux TUN device as a Netty {@link io.netty.channel.Channel} on an epoll event loop ({@code EpollIoHandler}),
 * with segmentation and checksum offload through {@code virtio_net_hdr}. Java 22+: the device is opened and
 * driven with {@link Syscalls} ({@code java.lang.foreign}), no JNI of its own.
 * <pre>{@code
 * Bootstrap b = new Bootstrap()
 *         .group(new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory()))
 *         .channel(TunChannel.class)
 *         .option(TunChannelOption.MTU, 1420)
 *         .handler(initializer);
 * Channel tun = b.bind(new TunAddress("tun0")).sync().channel();   // then: ip addr add ... dev tun0; ip link set tun0 up
 * }</pre>
 * <b>Binding</b> opens {@code /dev/net/tun} with {@code IFF_TUN | IFF_NO_PI | IFF_VNET_HDR} (plus
 * {@code IFF_MULTI_QUEUE} per {@link TunChannelOption#MULTI_QUEUE}), sets the header size
 * ({@code TUNSETVNETHDRSZ}), asks for the {@link TunChannelOption#OFFLOADS} with {@code TUNSETOFFLOAD} (stepping
 * down on {@code EINVAL}: see {@link #offloads()}), sets the MTU, and registers the descriptor with the channel's
 * event loop as an {@link EpollIoHandle}. The channel is then active. Addresses and link state are the
 * application's business ({@code ip addr}, {@code ip link set up}); the device lives in the network namespace of
 * the thread that bound it, and keeps working through the descriptor after {@code ip link set DEV netns NS}.
 * <p>
 * <b>Reads</b> (level-triggered {@code EPOLLIN}, up to {@link TunChannelOption#MAX_READS_PER_WAKEUP} reads or
 * {@code EAGAIN} per event, one {@code channelReadComplete} per event; {@code AUTO_READ} and {@code read()} are
 * honoured): a packet with a GSO header ({@code TCPV4}, {@code TCPV6}, {@code UDP_L4}) is fired as a
 * {@link GsoPacket} (segment size from {@code gso_size}, incrementing IPv4 IDs, no tunnel) whose TCP/UDP checksum
 * is still <em>partial</em> (the pseudo-header sum, as the kernel's {@code CHECKSUM_PARTIAL}) unless
 * {@link TunChannelOption#COMPLETE_CHECKSUMS} is on; {@link PacketSegmenter} ignores that field and computes each
 * segment's checksum. Any other packet is fired as a {@link ByteBuf} starting at the IP header, its checksum
 * completed when the kernel left it to us.
 * <p>
 * <b>Writes</b> take {@link ByteBuf} (one packet, written as is, or with {@code NEEDS_CSUM} per
 * {@link TunChannelOption#PARTIAL_CHECKSUM_WRITES}) and {@link GsoPacket}. A GsoPacket whose type
 * the kernel accepted as offload ({@code TSO4}/{@code TSO6}/{@code USO*}) is written whole, with a GSO header and
 * {@code NEEDS_CSUM}: the channel rewrites its TCP/UDP checksum field, in place, to the pseudo-header sum, so a
 * packet with a complete checksum (what {@code PacketGroAggregator} emits) and one with a partial checksum (what
 * this channel reads) are both delivered as Linux GRO would deliver them. Otherwise the channel cuts it with a
 * {@link PacketSegmenter} (complete checksums) and writes each segment. A super-packet the kernel refuses
 * ({@code EINVAL}) is segmented and written again, and that type stays in software from then on (logged once).
 * A packet the device has no room for ({@code EAGAIN}) or cannot take because it is down ({@code EIO}) is
 * dropped and counted, as a NIC drops it; its promise succeeds.
 * <p>
 * Not thread-safe beyond Netty's guarantees: everything runs on the channel's event loop. What it did is in
 * {@link #counters()}. This class is the channel's life cycle (bind, registration, read loop, close); the read of
 * one packet is {@link TunPacketReader}, the write of one is {@link TunPacketWriter} over {@link TunIovecs}.
 *
 * @see <a href="https://docs.kernel.org/networking/tuntap.html">Universal TUN/TAP device driver</a>
 */
public final class TunChannel extends AbstractChannel {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(TunChannel.class);
    private static final ChannelMetadata METADATA = new ChannelMetadata(false, 16);

    private final TunChannelConfig config = new TunChannelConfig(this);
    private final TunCounters counters = new TunCounters();
    private final Handle handle = new Handle();

    private TunDescriptor fd;
    private IoRegistration registration;
    private EpollIoOps ops = EpollIoOps.NONE;
    private volatile TunAddress local;
    private volatile int offloadFlags;
    /** The read path, from bind to close. */
    private TunPacketReader reader;
    /** The write path (iovecs, header, GSO decisions), from bind to close. */
    private TunPacketWriter writer;
    private boolean readPending;
    private volatile boolean open = true;

    /** A channel not yet bound to a device. */
    public TunChannel() {
        super(null);
    }

    @Override
    public TunChannelConfig config() {
        return config;
    }

    @Override
    public ChannelMetadata metadata() {
        return METADATA;
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public boolean isActive() {
        return open && fd != null;
    }

    @Override
    public TunAddress localAddress() {
        return (TunAddress) super.localAddress();
    }

    @Override
    public SocketAddress remoteAddress() {
        return null;
    }

    /** What this channel did; {@link TunCounters#snapshot()} reads it from other threads. */
    public TunCounters counters() {
        return counters;
    }

    /**
     * The offloads the kernel accepted at bind, a subset of {@link TunChannelOption#OFFLOADS}: the first of these
     * requests that the kernel took ({@code TUNSETOFFLOAD} refuses an unknown bit with {@code EINVAL}): as asked,
     * without USO (kernels before 6.2), checksum only, nothing. Empty before bind.
     */
    public Set<TunOffload> offloads() {
        return TunOffload.of(offloadFlags);
    }

    /** Whether this JVM can open TUN devices through {@link Syscalls} (Java 22+, 64-bit Linux, native access). */
    public static boolean isSupported() {
        return Syscalls.isSupported();
    }

    @Override
    protected AbstractUnsafe newUnsafe() {
        return new TunUnsafe();
    }

    @Override
    protected boolean isCompatible(EventLoop loop) {
        return loop instanceof IoEventLoop io && io.isCompatible(EpollIoHandle.class);
    }

    @Override
    protected SocketAddress localAddress0() {
        return local;
    }

    @Override
    protected SocketAddress remoteAddress0() {
        return null;
    }

    @Override
    protected void doBind(SocketAddress localAddress) throws Exception {
        if (!(localAddress instanceof TunAddress address)) {
            throw new IllegalArgumentException("localAddress: " + localAddress + " (expected: a TunAddress)");
        }
        if (fd != null) {
            throw new IllegalStateException("already bound to " + local);
        }
        int vnetHeaderSize = config.vnetHeaderSize();
        String[] name = new String[1];
        int descriptor = TunDevice.open(address.name(), config.isMultiQueue(), vnetHeaderSize, name);
        TunDescriptor tunFd = new TunDescriptor(descriptor);
        boolean success = false;
        try {
            int requested = TunOffload.flags(config.offloads());
            int accepted = TunDevice.setOffload(descriptor, requested);
            if (accepted != requested) {
                logger.info("{}: the kernel accepted offloads {} of {}", name[0], TunOffload.of(accepted),
                        TunOffload.of(requested));
            }
            if (config.mtu() != 0) {
                TunDevice.setMtu(name[0], config.mtu());
            }
            reader = new TunPacketReader(vnetHeaderSize, counters);
            writer = new TunPacketWriter(tunFd, name[0], vnetHeaderSize, accepted, counters);
            fd = tunFd;
            Future<IoRegistration> registered = ((IoEventLoop) eventLoop()).register(handle);
            if (!registered.isDone()) {
                registered.syncUninterruptibly();
            }
            if (!registered.isSuccess()) {
                fd = null;
                throw new IOException("registering " + name[0] + " with the event loop failed", registered.cause());
            }
            registration = registered.getNow();
            offloadFlags = accepted;
            local = new TunAddress(name[0]);
            success = true;
        } finally {
            if (!success) {
                fd = null;
                releaseNative();
                tunFd.closeNow();
            }
        }
    }

    /** Applies an MTU set on a bound channel. */
    void applyMtu(int mtu) {
        TunAddress address = local;
        if (address != null && open) {
            try {
                TunDevice.setMtu(address.name(), mtu);
            } catch (IOException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
        }
    }

    @Override
    protected void doDisconnect() throws Exception {
        doClose();
    }

    @Override
    protected void doClose() throws Exception {
        open = false;
        if (registration != null) {
            registration.cancel();
            registration = null;
        }
        if (fd != null) {
            fd.closeNow();
        }
        releaseNative();
    }

    private void releaseNative() {
        if (reader != null) {
            reader.release();
            reader = null;
        }
        if (writer != null) {
            writer.release();
            writer = null;
        }
    }

    @Override
    protected void doDeregister() throws Exception {
        if (registration != null) {
            registration.cancel();
            registration = null;
        }
    }

    @Override
    protected void doBeginRead() {
        readPending = true;
        setOps(ops.with(EpollIoOps.EPOLLIN));
    }

    private void setOps(EpollIoOps newOps) {
        if (!newOps.equals(ops) && registration != null) {
            ops = newOps;
            registration.submit(newOps);
        }
    }

    @Override
    protected Object filterOutboundMessage(Object msg) {
        if (msg instanceof ByteBuf || msg instanceof GsoPacket) {
            return msg;
        }
        throw new UnsupportedOperationException("unsupported message type: " + msg.getClass().getName()
                + " (expected: ByteBuf or GsoPacket)");
    }

    // ---------------------------------------------------------------- reads

    private void readReady() {
        readPending = false;
        ChannelPipeline pipeline = pipeline();
        int budget = config.maxReadsPerWakeup();
        boolean completeGso = config.isCompleteChecksums();
        int fired = 0;
        int attempts = 0;
        boolean drained = false;
        Throwable error = null;
        try {
            while (attempts < budget && open) {
                attempts++;
                long n = reader.read(fd.intValue(), alloc());
                if (n < 0) {
                    int errno = (int) -n;
                    if (errno == Errno.EAGAIN) {
                        drained = true;
                        break;
                    }
                    if (errno == Errno.EINTR) {
                        continue;
                    }
                    counters.readErrors++;
                    // EBADFD: the device was deleted under us; nothing more will come.
                    error = new IOException("read on " + local + " failed: errno " + errno);
                    break;
                }
                Object msg = reader.packet((int) n, completeGso, alloc());
                if (msg != null) {
                    fired++;
                    pipeline.fireChannelRead(msg);
                }
            }
            if (!drained && attempts == budget) {
                counters.budgetExhausted++;
            }
        } finally {
            counters.publish();
            if (fired > 0) {
                pipeline.fireChannelReadComplete();
            }
        }
        if (error != null) {
            pipeline.fireExceptionCaught(error);
            unsafe().close(voidPromise());
            return;
        }
        if (!config.isAutoRead() && !readPending) {
            setOps(ops.without(EpollIoOps.EPOLLIN));
        }
    }

    // ---------------------------------------------------------------- writes

    @Override
    protected void doWrite(ChannelOutboundBuffer in) throws Exception {
        boolean partial = config.isPartialChecksumWrites();
        try {
            for (;;) {
                Object msg = in.current();
                if (msg == null) {
                    break;
                }
                try {
                    if (writer == null) {
                        throw new ClosedChannelException();
                    }
                    if (msg instanceof GsoPacket packet) {
                        writer.write(packet, alloc());
                    } else {
                        writer.write((ByteBuf) msg, partial, alloc());
                    }
                    in.remove();
                } catch (IOException | PacketOffloadException e) {
                    counters.writeErrors++;
                    in.remove(e);
                }
            }
        } finally {
            counters.publish();
        }
    }

    @Override
    public String toString() {
        TunAddress address = local;
        return "TunChannel(" + id().asShortText() + (address == null ? "" : ", " + address)
                + (isActive() ? ", offloads " + offloads() : open ? ", unbound" : ", closed") + ')';
    }

    private final class TunUnsafe extends AbstractUnsafe {
        @Override
        public void connect(SocketAddress remoteAddress, SocketAddress localAddress, ChannelPromise promise) {
            promise.setFailure(new UnsupportedOperationException("a TUN channel binds; it does not connect"));
        }
    }

    /** The descriptor's registration with the event loop; the loop calls {@link #close()} when it shuts down. */
    private final class Handle implements EpollIoHandle {
        @Override
        public FileDescriptor fd() {
            return fd;
        }

        @Override
        public void handle(IoRegistration registration, IoEvent event) {
            EpollIoOps ready = ((EpollIoEvent) event).ops();
            if (ready.contains(EpollIoOps.EPOLLERR) || ready.contains(EpollIoOps.EPOLLIN)) {
                try {
                    readReady();
                } catch (Throwable t) {
                    // Out of (direct) memory most likely: not thrown into the event loop; EPOLLIN stays set.
                    counters.readErrors++;
                    pipeline().fireExceptionCaught(t);
                }
            }
        }

        @Override
        public void close() {
            unsafe().close(voidPromise());
        }
    }
}
