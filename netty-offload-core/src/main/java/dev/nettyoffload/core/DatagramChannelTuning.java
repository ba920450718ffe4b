package dev.nettyoffload.core;

import dev.nettyoffload.core.uring.IoUringDatagramReader;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelOption;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.uring.IoUringChannelOption;

/**
 * Applies the socket options a datagram channel needs for receive and segmentation offload, so that the
 * common case is one line:
 * <pre>{@code
 * DatagramChannelTuning.apply(new Bootstrap().group(group).channel(t.datagramChannelClass()), t);
 * }</pre>
 * What it sets, on every transport:
 * <ul>
 *   <li>{@link ChannelOption#RECVBUF_ALLOCATOR}: a {@link FixedRecvByteBufAllocator} of
 *       {@value #DEFAULT_RECEIVE_BUFFER_SIZE} bytes with kernel UDP_GRO: a batch is up to 64 KiB of payload
 *       and the kernel silently truncates it to the buffer it is given (Netty's default for datagram
 *       channels is 2048 bytes); {@value #DEFAULT_SOFTWARE_RECEIVE_BUFFER_SIZE} bytes elsewhere
 *       ({@link #defaultReceiveBufferSize}). It reads up to {@value #DEFAULT_MAX_MESSAGES_PER_READ} messages per read
 *       loop with {@code respectMaybeMoreData(false)} (see {@link #newAllocator(int)}).</li>
 *   <li>{@link ChannelOption#ALLOCATOR}: {@link PooledByteBufAllocator#DEFAULT}. Netty 4.2's default adaptive
 *       allocator does not pool buffers of 64 KiB, so every read would allocate and zero a fresh direct
 *       buffer; profiled, that was 14% of an epoll UDP_GRO receiver and most of a NIO one.</li>
 *   <li>{@link ChannelOption#SO_RCVBUF} and {@link ChannelOption#SO_SNDBUF}: {@value #DEFAULT_SOCKET_BUFFER_SIZE}
 *       bytes (the kernel caps them at {@code net.core.rmem_max}/{@code wmem_max}).</li>
 * </ul>
 * and on epoll only:
 * <ul>
 *   <li>{@link EpollChannelOption#UDP_GRO} {@code true} when {@link OffloadCapabilities#isUdpGroSupported()}.</li>
 *   <li>{@link EpollChannelOption#MAX_DATAGRAM_PAYLOAD_SIZE} {@code 0}. A non-zero value makes Netty read
 *       with {@code recvmmsg} into slots of that size, which truncates every GRO batch to one slot; with 0
 *       it reads with {@code recvmsg} into the whole buffer and splits the batch itself.</li>
 * </ul>
 * io_uring and NIO have no UDP_GRO receive path in Netty; batching there is done in software. Netty's
 * io_uring datagram read loop ends after every datagram (it continues only on IORING_CQE_F_SOCK_NONEMPTY,
 * which the kernel does not report for UDP), so on io_uring batches form only across read loops: give the
 * {@code GroAggregator} a short flush delay there. Its linked-{@code recvmsg} mode
 * ({@link IoUringChannelOption#MAX_DATAGRAM_PAYLOAD_SIZE}) is left off: tried on Linux 6.18, one read loop
 * stayed open across three sends 200 ms apart (their 30 datagrams came in one loop), so a batch could wait
 * for the next sender's burst without bound. For kernel batches on io_uring, attach an
 * {@link IoUringDatagramReader} to the bound channel: it asks for UDP_GRO and reads into its own 64 KiB
 * buffers, and the queries below ({@link #isUdpGroEnabled}, {@link #receiveBufferProblem},
 * {@link #datagramSlotSize}) then describe that reader.
 */
public final class DatagramChannelTuning {
    /** Bytes of each receive buffer with kernel UDP_GRO: room for the largest batch (and any single datagram). */
    public static final int DEFAULT_RECEIVE_BUFFER_SIZE = 65536;
    /**
     * Bytes of each receive buffer without kernel GRO (NIO, io_uring, epoll on a kernel without UDP_GRO):
     * Netty's own default for datagram channels, one datagram of a 1500-byte MTU path. A 64 KiB buffer per
     * datagram would pin 64 KiB for every 1.4 KB held in a batch. Pass a larger size for larger datagrams; a
     * datagram that fills its buffer is counted as truncated by {@code GroAggregator}.
     */
    public static final int DEFAULT_SOFTWARE_RECEIVE_BUFFER_SIZE = 2048;
    /** Reads per read loop: one full batch of 64 datagrams (or 64 kernel GRO batches on epoll). */
    public static final int DEFAULT_MAX_MESSAGES_PER_READ = 64;
    /** Requested SO_RCVBUF and SO_SNDBUF. */
    public static final int DEFAULT_SOCKET_BUFFER_SIZE = 4 * 1024 * 1024;

    private DatagramChannelTuning() {
    }

    /** Same as {@link #apply(Bootstrap, Transport, int, int)} with the defaults for {@code transport}. */
    public static Bootstrap apply(Bootstrap bootstrap, Transport transport) {
        return apply(bootstrap, transport, defaultReceiveBufferSize(transport), DEFAULT_SOCKET_BUFFER_SIZE);
    }

    /**
     * {@value #DEFAULT_RECEIVE_BUFFER_SIZE} where the kernel fills receive buffers with GRO batches (epoll with
     * UDP_GRO), else {@value #DEFAULT_SOFTWARE_RECEIVE_BUFFER_SIZE}.
     */
    public static int defaultReceiveBufferSize(Transport transport) {
        return transport == Transport.EPOLL && OffloadCapabilities.get().isUdpGroSupported()
                ? DEFAULT_RECEIVE_BUFFER_SIZE : DEFAULT_SOFTWARE_RECEIVE_BUFFER_SIZE;
    }

    /**
     * Sets the options listed in the class documentation on {@code bootstrap}, whose channel must be
     * {@code transport}'s datagram channel, and returns it.
     *
     * @param receiveBufferSize bytes of each receive buffer; at least 2048
     * @param socketBufferSize  SO_RCVBUF and SO_SNDBUF to request, or 0 to leave them alone
     */
    public static Bootstrap apply(Bootstrap bootstrap, Transport transport, int receiveBufferSize,
                                  int socketBufferSize) {
        checkSizes(receiveBufferSize, socketBufferSize);
        bootstrap.option(ChannelOption.RECVBUF_ALLOCATOR, newAllocator(receiveBufferSize));
        bootstrap.option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT);
        if (socketBufferSize > 0) {
            bootstrap.option(ChannelOption.SO_RCVBUF, socketBufferSize);
            bootstrap.option(ChannelOption.SO_SNDBUF, socketBufferSize);
        }
        if (transport == Transport.EPOLL) {
            bootstrap.option(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, 0);
            if (OffloadCapabilities.get().isUdpGroSupported()) {
                bootstrap.option(EpollChannelOption.UDP_GRO, true);
            }
        }
        return bootstrap;
    }

    /** Same as {@link #apply(Channel, int, int)} with the defaults for the channel's transport. */
    public static void apply(Channel channel) {
        apply(channel, defaultReceiveBufferSize(Transport.of(channel.getClass())), DEFAULT_SOCKET_BUFFER_SIZE);
    }

    /**
     * Sets the same options on an existing (registered) datagram channel; the transport is taken from the
     * channel's class.
     */
    public static void apply(Channel channel, int receiveBufferSize, int socketBufferSize) {
        checkSizes(receiveBufferSize, socketBufferSize);
        ChannelConfig config = channel.config();
        config.setRecvByteBufAllocator(newAllocator(receiveBufferSize));
        config.setAllocator(PooledByteBufAllocator.DEFAULT);
        if (socketBufferSize > 0) {
            config.setOption(ChannelOption.SO_RCVBUF, socketBufferSize);
            config.setOption(ChannelOption.SO_SNDBUF, socketBufferSize);
        }
        if (Transport.of(channel.getClass()) == Transport.EPOLL) {
            config.setOption(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, 0);
            if (OffloadCapabilities.get().isUdpGroSupported()) {
                config.setOption(EpollChannelOption.UDP_GRO, true);
            }
        }
    }

    /**
     * A {@link FixedRecvByteBufAllocator} of {@code receiveBufferSize} that reads up to
     * {@value #DEFAULT_MAX_MESSAGES_PER_READ} datagrams per read loop and does not stop a loop just because a
     * datagram did not fill its buffer (with 64 KiB buffers none does), so one read loop can deliver a batch.
     */
    public static FixedRecvByteBufAllocator newAllocator(int receiveBufferSize) {
        FixedRecvByteBufAllocator allocator = new FixedRecvByteBufAllocator(receiveBufferSize);
        allocator.respectMaybeMoreData(false);
        allocator.maxMessagesPerRead(DEFAULT_MAX_MESSAGES_PER_READ);
        return allocator;
    }

    /**
     * Whether {@code channel} is an epoll datagram channel with UDP_GRO turned on, or an io_uring one read by an
     * {@link IoUringDatagramReader} with UDP_GRO.
     */
    public static boolean isUdpGroEnabled(Channel channel) {
        IoUringDatagramReader reader = ioUringReader(channel);
        if (reader != null) {
            return reader.isUdpGroEnabled();
        }
        if (Transport.of(channel.getClass()) != Transport.EPOLL) {
            return false;
        }
        return Boolean.TRUE.equals(channel.config().getOption(EpollChannelOption.UDP_GRO));
    }

    /**
     * The size of the next receive buffer {@code channel}'s allocator would hand out (exact for a
     * {@link FixedRecvByteBufAllocator}, the initial guess for adaptive ones).
     */
    public static int receiveBufferSize(Channel channel) {
        RecvByteBufAllocator allocator = channel.config().getRecvByteBufAllocator();
        return allocator.newHandle().guess();
    }

    /**
     * Whether {@code channel} reads every datagram into a buffer of one fixed size (a
     * {@link FixedRecvByteBufAllocator}, as {@link #apply} sets), so that a datagram that fills its buffer was
     * most likely cut short by the kernel. With an adaptive allocator, or on an {@code EmbeddedChannel} fed by
     * hand, a full buffer says nothing.
     */
    public static boolean isReceiveBufferSizeFixed(Channel channel) {
        return channel.config().getRecvByteBufAllocator() instanceof FixedRecvByteBufAllocator;
    }

    /**
     * Why {@code channel} would lose data of kernel GRO batches, or {@code null} when it is configured
     * right (or does not use UDP_GRO at all): a receive buffer under {@value #DEFAULT_RECEIVE_BUFFER_SIZE}
     * bytes, or a non-zero {@link EpollChannelOption#MAX_DATAGRAM_PAYLOAD_SIZE}.
     */
    public static String receiveBufferProblem(Channel channel) {
        if (!isUdpGroEnabled(channel)) {
            return null;
        }
        IoUringDatagramReader reader = ioUringReader(channel);
        int size = reader != null ? reader.bufferSize() : receiveBufferSize(channel);
        if (size < DEFAULT_RECEIVE_BUFFER_SIZE) {
            return "UDP_GRO is on but receive buffers are " + size + " bytes (need "
                    + DEFAULT_RECEIVE_BUFFER_SIZE + "): the kernel silently truncates larger GRO batches";
        }
        if (reader != null) {
            return null; // it reads whole batches with recvmsg
        }
        Integer maxPayload = channel.config().getOption(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE);
        if (maxPayload != null && maxPayload > 0 && size / maxPayload > 1) {
            return "UDP_GRO is on but MAX_DATAGRAM_PAYLOAD_SIZE is " + maxPayload
                    + " (need 0): recvmmsg slots of that size truncate GRO batches";
        }
        return null;
    }

    /**
     * The size of the slots {@code channel} reads datagrams into when one read fills several of them
     * (epoll's {@code recvmmsg} or io_uring's linked {@code recvmsg}s), or 0 when each read gets the whole
     * receive buffer. A datagram of exactly this size was probably truncated.
     */
    public static int datagramSlotSize(Channel channel) {
        if (ioUringReader(channel) != null) {
            return 0;
        }
        Transport t = Transport.of(channel.getClass());
        Integer size = t == Transport.EPOLL ? channel.config().getOption(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE)
                : t == Transport.IO_URING ? channel.config().getOption(IoUringChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE)
                : null;
        if (size == null || size <= 0 || receiveBufferSize(channel) / size <= 1) {
            return 0;
        }
        return size;
    }

    /** The {@link IoUringDatagramReader} reading {@code channel}, or {@code null}. */
    private static IoUringDatagramReader ioUringReader(Channel channel) {
        if (Transport.of(channel.getClass()) != Transport.IO_URING) {
            return null;
        }
        IoUringDatagramReader reader = IoUringDatagramReader.of(channel);
        return reader != null && reader.isReading() ? reader : null;
    }

    private static void checkSizes(int receiveBufferSize, int socketBufferSize) {
        if (receiveBufferSize < 2048) {
            throw new IllegalArgumentException("receiveBufferSize: " + receiveBufferSize + " (expected >= 2048)");
        }
        if (socketBufferSize < 0) {
            throw new IllegalArgumentException("socketBufferSize: " + socketBufferSize + " (expected >= 0)");
        }
    }
}
