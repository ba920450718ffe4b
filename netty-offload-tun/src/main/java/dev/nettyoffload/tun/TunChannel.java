package dev.nettyoffload.tun;

import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.GsoType;
import dev.nettyoffload.core.packet.Ipv4IdMode;
import dev.nettyoffload.core.packet.LinkType;
import dev.nettyoffload.core.packet.PacketLayout;
import dev.nettyoffload.core.packet.PacketOffloadException;
import dev.nettyoffload.core.packet.TunnelType;
import dev.nettyoffload.ffm.NativeLayouts;
import dev.nettyoffload.ffm.Syscalls;
import dev.nettyoffload.gso.PacketSegmenter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
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
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

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
 * <b>Writes</b> take {@link ByteBuf} (one packet, written as is) and {@link GsoPacket}. A GsoPacket whose type
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
 * {@link #counters()}.
 *
 * @see <a href="https://docs.kernel.org/networking/tuntap.html">Universal TUN/TAP device driver</a>
 */
public final class TunChannel extends AbstractChannel {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(TunChannel.class);
    private static final ChannelMetadata METADATA = new ChannelMetadata(false, 16);

    /**
     * Room for one read: the header and the largest packet a TUN device hands over (its {@code gso_max_size} is
     * 64 KiB; an IPv6 packet may have 65535 payload bytes after its 40-byte header).
     */
    static final int READ_BUFFER_SIZE = VirtioNetHeader.MRG_RXBUF_LENGTH + 40 + 65535;
    /** Reads up to this many bytes are copied out, so that the large read buffer serves the next read. */
    static final int COPY_THRESHOLD = 2048;
    /** {@code UDP_MAX_SEGMENTS} ({@code include/linux/udp.h}): tun.c refuses a USO packet of more segments. */
    static final int UDP_MAX_SEGMENTS = 128;
    /** iovecs per write: the header plus the components of one packet; a packet of more pieces is copied. */
    private static final int MAX_IOVECS = 64;
    /** {@code EIO}: what a write to a TUN device that is down gets ({@code errno-base.h}). */
    private static final int EIO = 5;
    private static final long IOVEC_SIZE = NativeLayouts.IOVEC.byteSize();
    private static final long HEADER_OFFSET = MAX_IOVECS * IOVEC_SIZE;
    private static final long AREA_SIZE = HEADER_OFFSET + 16;

    private final TunChannelConfig config = new TunChannelConfig(this);
    private final TunCounters counters = new TunCounters();
    private final Handle handle = new Handle();
    private final PacketSegmenter segmenter = new PacketSegmenter();
    private final List<Object> segments = new ArrayList<>();

    private TunDescriptor fd;
    private IoRegistration registration;
    private EpollIoOps ops = EpollIoOps.NONE;
    private volatile TunAddress local;
    private volatile int offloadFlags;
    private int vnetHeaderSize;
    private Arena arena;
    private MemorySegment area;
    /** A view of {@link #area}'s header bytes, for {@link VirtioNetHeader}'s setters. */
    private ByteBuf writeHeader;
    private ByteBuf readBuffer;
    private MemorySegment readSegment;
    private ByteBuf copyBuffer;
    private boolean readPending;
    private boolean gsoWriteTcpv4;
    private boolean gsoWriteTcpv6;
    private boolean gsoWriteUdp;
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
        vnetHeaderSize = config.vnetHeaderSize();
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
            arena = Arena.ofShared();
            area = arena.allocate(AREA_SIZE, JAVA_LONG.byteSize());
            writeHeader = io.netty.buffer.Unpooled.wrappedBuffer(
                    area.asSlice(HEADER_OFFSET, VirtioNetHeader.MRG_RXBUF_LENGTH).asByteBuffer());
            writeHeader.clear();

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
            gsoWriteTcpv4 = (accepted & TunOffload.TSO4.flag()) != 0;
            gsoWriteTcpv6 = (accepted & TunOffload.TSO6.flag()) != 0;
            gsoWriteUdp = (accepted & TunOffload.USO4.flag()) != 0;
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
        if (readBuffer != null) {
            readBuffer.release();
            readBuffer = null;
            readSegment = null;
        }
        if (copyBuffer != null) {
            copyBuffer.release();
            copyBuffer = null;
        }
        if (arena != null) {
            arena.close();
            arena = null;
            area = null;
            writeHeader = null;
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
                ByteBuf buf = readBuffer();
                long n = Syscalls.read(fd.intValue(), readSegment, READ_BUFFER_SIZE);
                if (n < 0) {
                    int errno = (int) -n;
                    if (errno == Syscalls.EAGAIN) {
                        drained = true;
                        break;
                    }
                    if (errno == Syscalls.EINTR) {
                        continue;
                    }
                    counters.readErrors++;
                    // EBADFD: the device was deleted under us; nothing more will come.
                    error = new IOException("read on " + local + " failed: errno " + errno);
                    break;
                }
                Object msg = packet(buf, (int) n, completeGso);
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

    private ByteBuf readBuffer() {
        ByteBuf buf = readBuffer;
        if (buf == null) {
            buf = alloc().directBuffer(READ_BUFFER_SIZE, READ_BUFFER_SIZE);
            readSegment = segmentOf(buf, 0, READ_BUFFER_SIZE);
            readBuffer = buf;
        }
        return buf;
    }

    /** The message for a read of {@code n} bytes into {@code buf}, or null when it was dropped. */
    private Object packet(ByteBuf buf, int n, boolean completeGso) {
        int hdr = vnetHeaderSize;
        int length = n - hdr;
        if (length <= 0) {
            counters.malformedReads++;
            return null;
        }
        int flags = VirtioNetHeader.flags(buf, 0);
        int gsoType = VirtioNetHeader.gsoType(buf, 0);
        int gsoSize = VirtioNetHeader.gsoSize(buf, 0);
        int csumStart = VirtioNetHeader.csumStart(buf, 0);
        int csumOffset = VirtioNetHeader.csumOffset(buf, 0);
        GsoType type = gsoSize == 0 ? null : VirtioNetHeader.toGsoType(gsoType);
        boolean needsChecksum = (flags & VirtioNetHeader.F_NEEDS_CSUM) != 0;
        if (needsChecksum && (type == null || completeGso)) {
            if (!PartialChecksum.complete(buf, hdr, length, csumStart, csumOffset)) {
                counters.malformedReads++;
                return null;
            }
            counters.checksumsCompleted++;
        }
        counters.reads++;
        counters.bytesRead += length;
        if (type != null) {
            int payload = length - csumStart - l4HeaderLength(buf, hdr + csumStart, type, length - csumStart);
            counters.gsoReads++;
            counters.segmentsRead += payload <= 0 ? 1 : (payload + gsoSize - 1) / gsoSize;
            buf.setIndex(hdr, n);
            readBuffer = null;
            readSegment = null;
            return new GsoPacket(buf, type, TunnelType.NONE, gsoSize, Ipv4IdMode.INCREMENTING, 0);
        }
        counters.segmentsRead++;
        if (length <= COPY_THRESHOLD) {
            counters.copiedReads++;
            ByteBuf copy = alloc().directBuffer(length, length);
            copy.writeBytes(buf, hdr, length);
            return copy;
        }
        buf.setIndex(hdr, n);
        readBuffer = null;
        readSegment = null;
        return buf;
    }

    /** The TCP or UDP header length at {@code l4}, for counting segments; 0 when it cannot be read. */
    private static int l4HeaderLength(ByteBuf buf, int l4, GsoType type, int available) {
        if (type == GsoType.UDP_L4) {
            return 8;
        }
        return available > 12 ? (buf.getUnsignedByte(l4 + 12) >>> 4) * 4 : 0;
    }

    // ---------------------------------------------------------------- writes

    @Override
    protected void doWrite(ChannelOutboundBuffer in) throws Exception {
        try {
            for (;;) {
                Object msg = in.current();
                if (msg == null) {
                    break;
                }
                try {
                    if (msg instanceof GsoPacket packet) {
                        writeGsoPacket(packet);
                    } else {
                        ByteBuf buf = (ByteBuf) msg;
                        writePacket(buf, 0, 0, 0, 0, 0);
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

    private void writeGsoPacket(GsoPacket packet) throws IOException {
        ByteBuf content = packet.content();
        if (packet.tunnelType() == TunnelType.NONE && !content.isReadOnly() && gsoWriteAllowed(packet.gsoType())) {
            PacketLayout l = packet.layout(LinkType.RAW_IP);
            int segmentCount = packet.segmentsFor(l.payloadLength());
            boolean fits = l.jumboOption() == PacketLayout.ABSENT && l.strippedLength() == 0
                    && (packet.gsoType() != GsoType.UDP_L4 || segmentCount <= UDP_MAX_SEGMENTS);
            if (fits) {
                int csumOffset = PartialChecksum.makePartial(content, content.readerIndex(), l);
                int result = writePacket(content, VirtioNetHeader.F_NEEDS_CSUM,
                        VirtioNetHeader.fromGsoType(packet.gsoType()), l.headerLength(), packet.segmentSize(),
                        l.l4() | csumOffset << 16);
                if (result != -Syscalls.EINVAL) {
                    if (result >= 0) {
                        counters.gsoWrites++;
                    }
                    return;
                }
                counters.gsoWriteRefusals++;
                disableGsoWrites(packet.gsoType());
            }
        }
        segments.clear();
        try {
            int n = segmenter.segment(packet, alloc(), segments);
            counters.segmentedWrites++;
            for (int i = 0; i < n; i++) {
                ByteBuf segment = (ByteBuf) segments.get(i);
                writePacket(segment, 0, 0, 0, 0, 0);
                counters.segmentsWritten++;
            }
        } finally {
            for (int i = 0; i < segments.size(); i++) {
                ReferenceCountUtil.release(segments.get(i));
            }
            segments.clear();
        }
    }

    private boolean gsoWriteAllowed(GsoType type) {
        switch (type) {
            case TCPV4:
                return gsoWriteTcpv4;
            case TCPV6:
                return gsoWriteTcpv6;
            default:
                return gsoWriteUdp;
        }
    }

    private void disableGsoWrites(GsoType type) {
        logger.info("{}: the kernel refused a {} super-packet (EINVAL); segmenting {} in software from now on",
                local, type, type);
        switch (type) {
            case TCPV4:
                gsoWriteTcpv4 = false;
                break;
            case TCPV6:
                gsoWriteTcpv6 = false;
                break;
            default:
                gsoWriteUdp = false;
        }
    }

    /**
     * Writes {@code buf}'s readable bytes behind a header; {@code csum} packs csum_start (low 16 bits) and
     * csum_offset. Returns the bytes written, {@code -EINVAL} for a refused GSO header (the caller falls back),
     * or 0 for a packet dropped on {@code EAGAIN} or {@code EIO}; throws for other errors.
     */
    private int writePacket(ByteBuf buf, int flags, int gsoType, int hdrLen, int gsoSize, int csum)
            throws IOException {
        if (fd == null) {
            throw new ClosedChannelException();
        }
        int length = buf.readableBytes();
        VirtioNetHeader.set(writeHeader, 0, vnetHeaderSize, flags, gsoType, hdrLen, gsoSize, csum & 0xFFFF,
                csum >>> 16);
        MemorySegment iov = area;
        iov.set(JAVA_LONG, NativeLayouts.IOV_BASE, area.address() + HEADER_OFFSET);
        iov.set(JAVA_LONG, NativeLayouts.IOV_LEN, vnetHeaderSize);
        int count = gather(buf, 1);
        if (count < 0) {
            ByteBuf copy = copyBuffer();
            copy.clear().writeBytes(buf, buf.readerIndex(), length);
            count = gather(copy, 1);
        }
        for (;;) {
            long r = Syscalls.writev(fd.intValue(), iov, count);
            if (r >= 0) {
                counters.writes++;
                counters.bytesWritten += length;
                return (int) r;
            }
            int errno = (int) -r;
            if (errno == Syscalls.EINTR) {
                continue;
            }
            if (errno == Syscalls.EAGAIN || errno == EIO) {
                // No room in the queue, or the interface is down (tun.c answers EIO): a NIC drops those too.
                counters.writesDropped++;
                return 0;
            }
            if (errno == Syscalls.EINVAL && gsoType != VirtioNetHeader.GSO_NONE) {
                return -errno;
            }
            throw new IOException("writev to " + local + " failed: errno " + errno);
        }
    }

    /**
     * Fills iovecs from index {@code first} on with the readable bytes of {@code buf}; returns the iovec count,
     * or -1 when the bytes are not all in native memory or need more than {@link #MAX_IOVECS} iovecs.
     */
    private int gather(ByteBuf buf, int first) {
        int count = first;
        if (buf instanceof CompositeByteBuf c && c.readerIndex() == 0 && c.writerIndex() == c.capacity()) {
            int components = c.numComponents();
            if (first + components > MAX_IOVECS) {
                return -1;
            }
            for (int i = 0; i < components; i++) {
                ByteBuf component = c.internalComponent(i);
                count = addIovec(count, component, component.readerIndex(), component.readableBytes());
                if (count < 0) {
                    return -1;
                }
            }
            return count;
        }
        if (buf.nioBufferCount() == 1) {
            return addIovec(count, buf, buf.readerIndex(), buf.readableBytes());
        }
        ByteBuffer[] nio = buf.nioBuffers(buf.readerIndex(), buf.readableBytes());
        if (first + nio.length > MAX_IOVECS) {
            return -1;
        }
        for (ByteBuffer b : nio) {
            if (!b.isDirect()) {
                return -1;
            }
            if (b.hasRemaining()) {
                setIovec(count++, MemorySegment.ofBuffer(b).address(), b.remaining());
            }
        }
        return count;
    }

    private int addIovec(int index, ByteBuf buf, int offset, int length) {
        if (length == 0) {
            return index;
        }
        if (index >= MAX_IOVECS) {
            return -1;
        }
        long address;
        if (buf.hasMemoryAddress()) {
            address = buf.memoryAddress() + offset;
        } else if (buf.isDirect() && buf.nioBufferCount() == 1) {
            address = MemorySegment.ofBuffer(buf.internalNioBuffer(offset, length)).address();
        } else {
            return -1;
        }
        setIovec(index, address, length);
        return index + 1;
    }

    private void setIovec(int index, long address, long length) {
        long base = index * IOVEC_SIZE;
        area.set(JAVA_LONG, base + NativeLayouts.IOV_BASE, address);
        area.set(JAVA_LONG, base + NativeLayouts.IOV_LEN, length);
    }

    private ByteBuf copyBuffer() {
        if (copyBuffer == null) {
            copyBuffer = alloc().directBuffer(READ_BUFFER_SIZE, READ_BUFFER_SIZE);
        }
        return copyBuffer;
    }

    /** A native segment over {@code length} bytes of a direct buffer from {@code offset}. */
    @SuppressWarnings("restricted")
    private static MemorySegment segmentOf(ByteBuf buf, int offset, int length) {
        if (buf.hasMemoryAddress()) {
            return MemorySegment.ofAddress(buf.memoryAddress() + offset).reinterpret(length);
        }
        return MemorySegment.ofBuffer(buf.internalNioBuffer(offset, length));
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

    /** The device's descriptor; closed through {@link Syscalls}, so that Netty sees it closed. */
    private static final class TunDescriptor extends FileDescriptor {
        TunDescriptor(int fd) {
            super(fd);
        }

        void closeNow() {
            if (markClosed()) {
                Syscalls.close(intValue());
            }
        }
    }
}
