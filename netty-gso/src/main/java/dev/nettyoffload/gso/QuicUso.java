package dev.nettyoffload.gso;

import dev.nettyoffload.core.DatagramChannelTuning;
import dev.nettyoffload.core.OffloadCapabilities;
import dev.nettyoffload.core.ReaderPreference;
import dev.nettyoffload.core.SegmentedDatagramSplitter;
import dev.nettyoffload.core.Transport;
import dev.nettyoffload.core.UdpLimits;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicChannelBootstrap;
import io.netty.handler.codec.quic.QuicChannelOption;
import io.netty.handler.codec.quic.QuicClientCodecBuilder;
import io.netty.handler.codec.quic.QuicCodecBuilder;
import io.netty.handler.codec.quic.QuicServerCodecBuilder;
import io.netty.handler.codec.quic.SegmentedDatagramPacketAllocator;

import java.net.InetSocketAddress;

/**
 * Turns on UDP segmentation offload (USO) for Netty's QUIC codec, and so for HTTP/3, on epoll and io_uring.
 * <p>
 * Use {@link #server(QuicServerCodecBuilder)} or {@link #client(QuicClientCodecBuilder)} as the handler of the
 * datagram channel instead of {@code builder.build()}:
 * <pre>{@code
 * new Bootstrap().group(group).channel(transport.datagramChannelClass())
 *         .handler(QuicUso.server(Http3.newQuicServerCodecBuilder().sslContext(ssl)...));
 * }</pre>
 * The handler puts a {@link GsoEncoder} first in the datagram channel's pipeline and the QUIC codec after it,
 * with the codec's {@link QuicChannelOption#SEGMENTED_DATAGRAM_PACKET_ALLOCATOR} chosen from the channel's
 * transport and {@link OffloadCapabilities}: {@code SegmentedDatagramPacket}s of up to the probed segment
 * count when the kernel takes UDP_SEGMENT on that transport, {@link SegmentedDatagramPacketAllocator#NONE}
 * (one datagram per packet, as without this class) otherwise, NIO included. If the kernel refuses a
 * segmented send, the encoder resends it in software and keeps doing so; the codec never sees the refusal.
 * <p>
 * A client's connections take the allocator from their {@link QuicChannelBootstrap}: create it with
 * {@link #newBootstrap(Channel)} instead of {@code QuicChannel.newBootstrap(channel)}.
 * <p>
 * Receive: on epoll and io_uring the handler also puts the best reader on the channel
 * ({@link DatagramChannelTuning#applyReader}: {@code IoUringDatagramReader} on io_uring, {@code EpollBatchReader}
 * on epoll with Java 22+ and netty-offload-ffm, else Netty's epoll reader with UDP_GRO) and a
 * {@link SegmentedDatagramSplitter} under the codec. The codec takes each {@code DatagramPacket} as one UDP
 * datagram (a QUIC packet with a short header has no length field), so the splitter hands it retained slices of
 * each kernel batch, one per datagram: the codec reads a whole batch per read and sends once, at the
 * read-complete after it, with many packets to pack into one USO send. Netty's own io_uring reader ends a read
 * loop after every datagram, so without a batch reader the codec sends after every ACK.
 * {@link ReaderPreference#NETTY} (or {@code -Ddev.nettyoffload.datagramReader=netty}) keeps Netty's reader.
 * <p>
 * This class needs {@code netty-codec-classes-quic} on the class path (an optional dependency of this module).
 */
public final class QuicUso {
    /**
     * Plain datagrams from the codec are single QUIC packets and must never be cut: the encoder only splits
     * plain datagrams larger than this, and no datagram is.
     */
    private static final int NEVER_SPLIT = UdpLimits.MAX_IPV6_PAYLOAD;

    private QuicUso() {
    }

    /** The datagram channel's handler for a QUIC (or HTTP/3) server with USO; a copy of {@code builder} is used. */
    public static ChannelHandler server(QuicServerCodecBuilder builder) {
        return new UsoInitializer(check(builder).clone(), GsoMode.AUTO, ReaderPreference.BEST);
    }

    /** The datagram channel's handler for a QUIC (or HTTP/3) client with USO; a copy of {@code builder} is used. */
    public static ChannelHandler client(QuicClientCodecBuilder builder) {
        return new UsoInitializer(check(builder).clone(), GsoMode.AUTO, ReaderPreference.BEST);
    }

    /**
     * Like {@link #server(QuicServerCodecBuilder)}, with the encoder in {@code mode}: {@link GsoMode#SOFTWARE}
     * keeps the codec's batching but cuts every batch in user space (for comparison runs).
     */
    public static ChannelHandler server(QuicServerCodecBuilder builder, GsoMode mode) {
        return server(builder, mode, ReaderPreference.BEST);
    }

    /** Like {@link #client(QuicClientCodecBuilder)}, with the encoder in {@code mode}. */
    public static ChannelHandler client(QuicClientCodecBuilder builder, GsoMode mode) {
        return client(builder, mode, ReaderPreference.BEST);
    }

    /**
     * Like {@link #server(QuicServerCodecBuilder, GsoMode)}, with the reader {@code reader} allows
     * ({@link ReaderPreference#NETTY}: Netty's, as without this class, but with UDP_GRO on epoll).
     */
    public static ChannelHandler server(QuicServerCodecBuilder builder, GsoMode mode, ReaderPreference reader) {
        return new UsoInitializer(check(builder).clone(), checkMode(mode), checkReader(reader));
    }

    /** Like {@link #client(QuicClientCodecBuilder, GsoMode)}, with the reader {@code reader} allows. */
    public static ChannelHandler client(QuicClientCodecBuilder builder, GsoMode mode, ReaderPreference reader) {
        return new UsoInitializer(check(builder).clone(), checkMode(mode), checkReader(reader));
    }

    /**
     * A bootstrap for client connections over {@code datagramChannel} with the allocator for its transport;
     * use it in place of {@code QuicChannel.newBootstrap(datagramChannel)}.
     */
    public static QuicChannelBootstrap newBootstrap(Channel datagramChannel) {
        if (datagramChannel == null) {
            throw new IllegalArgumentException("datagramChannel: null");
        }
        return QuicChannel.newBootstrap(datagramChannel)
                .option(QuicChannelOption.SEGMENTED_DATAGRAM_PACKET_ALLOCATOR, allocator(datagramChannel));
    }

    /**
     * The allocator for {@code datagramChannel}: segmented packets when its {@link GsoEncoder} sends through
     * the kernel, {@link SegmentedDatagramPacketAllocator#NONE} when the channel has no encoder or the encoder
     * segments in software from the start.
     */
    public static SegmentedDatagramPacketAllocator allocator(Channel datagramChannel) {
        GsoEncoder encoder = datagramChannel.pipeline().get(GsoEncoder.class);
        if (encoder == null) {
            return SegmentedDatagramPacketAllocator.NONE;
        }
        if (encoder.config().mode() == GsoMode.SOFTWARE) {
            return new UsoAllocator(UdpLimits.LEGACY_MAX_SEGMENTS);
        }
        return allocator(Transport.of(datagramChannel.getClass()));
    }

    /**
     * The allocator for channels of {@code transport}: segmented packets of up to the probed segment count
     * when the kernel takes UDP_SEGMENT there, else {@link SegmentedDatagramPacketAllocator#NONE}.
     */
    public static SegmentedDatagramPacketAllocator allocator(Transport transport) {
        OffloadCapabilities caps = OffloadCapabilities.get();
        if (transport == Transport.NIO || !caps.isKernelSegmentationAvailable(transport)) {
            return SegmentedDatagramPacketAllocator.NONE;
        }
        return new UsoAllocator(caps.maxSegmentsPerSend());
    }

    /** The {@link GsoEncoder} that {@link #server} or {@link #client} put in {@code datagramChannel}, or null. */
    public static GsoEncoder encoder(Channel datagramChannel) {
        return datagramChannel.pipeline().get(GsoEncoder.class);
    }

    private static <B extends QuicCodecBuilder<B>> B check(B builder) {
        if (builder == null) {
            throw new IllegalArgumentException("builder: null");
        }
        return builder;
    }

    private static ReaderPreference checkReader(ReaderPreference reader) {
        if (reader == null) {
            throw new IllegalArgumentException("reader: null");
        }
        return reader;
    }

    private static GsoMode checkMode(GsoMode mode) {
        if (mode == null) {
            throw new IllegalArgumentException("mode: null");
        }
        return mode;
    }

    /** Adds the reader, the encoder, the splitter and the codec built for the channel's transport, then removes itself. */
    @ChannelHandler.Sharable
    private static final class UsoInitializer extends ChannelInitializer<Channel> {
        private final QuicCodecBuilder<?> builder;
        private final GsoMode mode;
        private final ReaderPreference reader;

        UsoInitializer(QuicCodecBuilder<?> builder, GsoMode mode, ReaderPreference reader) {
            this.builder = builder;
            this.mode = mode;
            this.reader = reader;
        }

        @Override
        protected void initChannel(Channel ch) {
            if (Transport.of(ch.getClass()) != Transport.NIO) {
                DatagramChannelTuning.applyReader(ch, reader);
            }
            GsoEncoder encoder = new GsoEncoder(GsoConfig.newBuilder().segmentSize(NEVER_SPLIT).mode(mode).build());
            ch.pipeline().addLast(encoder, SegmentedDatagramSplitter.INSTANCE);
            ChannelHandler codec;
            if (builder instanceof QuicServerCodecBuilder) {
                // The server sets its connections' options through the codec; each channel gets its own copy.
                QuicServerCodecBuilder server = ((QuicServerCodecBuilder) builder).clone();
                codec = server.option(QuicChannelOption.SEGMENTED_DATAGRAM_PACKET_ALLOCATOR, allocator(ch)).build();
            } else {
                codec = builder.clone().build();
            }
            ch.pipeline().addLast(codec);
        }
    }

    /** Packs the codec's equal-size packets into one {@link SegmentedDatagramPacket} for {@link GsoEncoder}. */
    private static final class UsoAllocator implements SegmentedDatagramPacketAllocator {
        private final int maxSegmentsPerSend;

        UsoAllocator(int maxSegmentsPerSend) {
            this.maxSegmentsPerSend = maxSegmentsPerSend;
        }

        @Override
        public int maxNumSegments() {
            return maxSegmentsPerSend;
        }

        @Override
        public DatagramPacket newPacket(ByteBuf buffer, int segmentSize, InetSocketAddress remoteAddress) {
            return new SegmentedDatagramPacket(buffer, segmentSize, remoteAddress);
        }

        @Override
        public String toString() {
            return "UsoAllocator(maxSegmentsPerSend=" + maxSegmentsPerSend + ')';
        }
    }
}
