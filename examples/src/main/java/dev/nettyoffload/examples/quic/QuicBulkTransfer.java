package dev.nettyoffload.examples.quic;

import dev.nettyoffload.core.DatagramChannelTuning;
import dev.nettyoffload.core.OffloadCapabilities;
import dev.nettyoffload.core.Transport;
import dev.nettyoffload.examples.Cli;
import dev.nettyoffload.gso.GsoEncoder;
import dev.nettyoffload.gso.GsoMode;
import dev.nettyoffload.gso.QuicUso;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.channel.unix.IntegerUnixChannelOption;
import io.netty.channel.uring.IoUringChannelOption;
import io.netty.handler.codec.quic.InsecureQuicTokenHandler;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicChannelBootstrap;
import io.netty.handler.codec.quic.QuicClientCodecBuilder;
import io.netty.handler.codec.quic.QuicServerCodecBuilder;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamType;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * A QUIC bulk transfer over loopback: the client opens one stream and asks for N bytes, the server sends them
 * (a pattern the client checks byte by byte) and ends the stream. The server's datagram channel runs the codec
 * under {@link QuicUso}, so its packets leave in UDP_SEGMENT batches; {@code --no-checksum} sets SO_NO_CHECK
 * on the server socket, which makes the kernel refuse UDP_SEGMENT (EINVAL) and shows the software fallback.
 * <p>
 * {@code java -cp netty-offload-examples.jar dev.nettyoffload.examples.quic.QuicBulkTransfer --help}
 */
public final class QuicBulkTransfer {
    static final String ALPN = "nettyoffload-bulk";
    /** SOL_SOCKET and SO_NO_CHECK from Linux's asm-generic/socket.h. */
    private static final int SOL_SOCKET = 1;
    private static final int SO_NO_CHECK = 11;
    /** Turns UDP checksums off on a socket; Linux then refuses UDP_SEGMENT sends with EINVAL (udp_send_skb). */
    public static final ChannelOption<Integer> NO_CHECK_OPTION =
            new IntegerUnixChannelOption("SO_NO_CHECK", SOL_SOCKET, SO_NO_CHECK);
    private static final int CHUNK = 64 * 1024;
    private static final long WINDOW = 32L << 20;
    private static final int SOCKET_BUFFER = 8 << 20;
    /** Bytes per datagram slot for io_uring's linked reads: any QUIC packet on a 1500-byte MTU path fits. */
    private static final int UDP_PAYLOAD_SLOT = 1500;

    private QuicBulkTransfer() {
    }

    /** How the server's QUIC codec sends. */
    public enum SendMode {
        /** {@code QuicUso.server}: kernel USO where available, software fallback. */
        USO,
        /** {@code QuicUso.server} with the encoder in {@link GsoMode#SOFTWARE}: batches cut in user space. */
        SOFTWARE,
        /** The plain codec: one datagram per QUIC packet, no encoder. */
        NONE
    }

    /** How the datagram channels read (the QUIC codec sends after each read loop). */
    public enum ReadTuning {
        /** Netty's defaults. */
        DEFAULT,
        /** {@link DatagramChannelTuning} on the client: on epoll, kernel UDP_GRO split back into packets by Netty. */
        CLIENT_GRO,
        /**
         * On io_uring, both ends read with linked {@code recvmsg}s into 64 KiB buffers
         * ({@code IoUringChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE}), so one read loop takes many ACKs and the
         * codec has many packets to batch. A read loop can stay open while datagrams keep coming, which delays
         * the codec's sends; not for latency-sensitive use without measuring.
         */
        IO_URING_BATCHED_READS
    }

    /** What one transfer did. */
    public static final class Result {
        public final Transport transport;
        public final SendMode mode;
        public final boolean noChecksum;
        public final ReadTuning reads;
        public final long bytes;
        public final double seconds;
        public final SendStats server;

        Result(Transport transport, SendMode mode, boolean noChecksum, ReadTuning reads, long bytes, double seconds,
               SendStats server) {
            this.transport = transport;
            this.mode = mode;
            this.noChecksum = noChecksum;
            this.reads = reads;
            this.bytes = bytes;
            this.seconds = seconds;
            this.server = server;
        }

        public double mbPerSecond() {
            return bytes / seconds / 1e6;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%-8s %-8s%s%s %d MiB intact in %.2f s (%.0f MB/s); server %s",
                    transport, mode, noChecksum ? " SO_NO_CHECK" : "", reads == ReadTuning.DEFAULT ? "" : " " + reads, bytes >> 20, seconds, mbPerSecond(), server);
        }
    }

    /**
     * Sends {@code bytes} from server to client and checks them; fails if a byte is wrong or missing, or after
     * {@code timeoutMillis}.
     */
    public static Result run(Transport transport, long bytes, SendMode mode, boolean noChecksum, long timeoutMillis)
            throws Exception {
        return run(transport, bytes, mode, noChecksum, ReadTuning.DEFAULT, timeoutMillis);
    }

    /**
     * Like {@link #run(Transport, long, SendMode, boolean, long)}, with the datagram channels reading as
     * {@code reads} says.
     */
    public static Result run(Transport transport, long bytes, SendMode mode, boolean noChecksum, ReadTuning reads,
                             long timeoutMillis) throws Exception {
        transport.ensureAvailable();
        if (noChecksum && transport == Transport.NIO) {
            throw new IllegalArgumentException("SO_NO_CHECK needs a native transport");
        }
        TestCertificate cert = TestCertificate.get();
        EventLoopGroup group = transport.newEventLoopGroup(2);
        Channel server = null;
        Channel client = null;
        try {
            QuicSslContext serverSsl = QuicSslContextBuilder.forServer(cert.key(), null, cert.cert())
                    .applicationProtocols(ALPN).build();
            QuicServerCodecBuilder codec = new QuicServerCodecBuilder()
                    .sslContext(serverSsl)
                    .maxIdleTimeout(timeoutMillis, TimeUnit.MILLISECONDS)
                    .initialMaxData(WINDOW)
                    .initialMaxStreamDataBidirectionalRemote(WINDOW)
                    .initialMaxStreamsBidirectional(4)
                    .tokenHandler(InsecureQuicTokenHandler.INSTANCE)
                    .handler(new ChannelInboundHandlerAdapter())
                    .streamHandler(new ChannelInitializer<QuicStreamChannel>() {
                        @Override
                        protected void initChannel(QuicStreamChannel ch) {
                            ch.pipeline().addLast(new BulkSender());
                        }
                    });
            ChannelHandler serverHandler = mode == SendMode.NONE ? codec.build()
                    : QuicUso.server(codec, mode == SendMode.SOFTWARE ? GsoMode.SOFTWARE : GsoMode.AUTO);
            Bootstrap sb = datagramBootstrap(transport, group).handler(serverHandler);
            if (noChecksum) {
                sb.option(NO_CHECK_OPTION, 1);
            }
            if (reads == ReadTuning.IO_URING_BATCHED_READS) {
                batchedReads(sb, transport);
            }
            InetAddress loopback = InetAddress.getLoopbackAddress();
            server = sb.bind(loopback, 0).sync().channel();

            QuicSslContext clientSsl = QuicSslContextBuilder.forClient()
                    .trustManager(InsecureTrustManagerFactory.INSTANCE).applicationProtocols(ALPN).build();
            QuicClientCodecBuilder clientCodec = new QuicClientCodecBuilder()
                    .sslContext(clientSsl)
                    .maxIdleTimeout(timeoutMillis, TimeUnit.MILLISECONDS)
                    .initialMaxData(WINDOW)
                    .initialMaxStreamDataBidirectionalLocal(WINDOW);
            Bootstrap cb = datagramBootstrap(transport, group).handler(QuicUso.client(clientCodec));
            if (reads == ReadTuning.CLIENT_GRO) {
                DatagramChannelTuning.apply(cb, transport);
            }
            if (reads == ReadTuning.IO_URING_BATCHED_READS) {
                batchedReads(cb, transport);
            }
            client = cb.bind(loopback, 0).sync().channel();
            QuicChannelBootstrap qb = QuicUso.newBootstrap(client);
            QuicChannel quic = qb.handler(new ChannelInboundHandlerAdapter())
                    .remoteAddress(server.localAddress()).connect().get(timeoutMillis, TimeUnit.MILLISECONDS);
            try {
                Promise<Long> done = quic.eventLoop().newPromise();
                long start = System.nanoTime();
                QuicStreamChannel stream = quic.createStream(QuicStreamType.BIDIRECTIONAL, new BulkReceiver(bytes, done))
                        .get(timeoutMillis, TimeUnit.MILLISECONDS);
                ByteBuf request = stream.alloc().buffer(8).writeLong(bytes);
                stream.writeAndFlush(request).addListener(QuicStreamChannel.SHUTDOWN_OUTPUT);
                if (!done.await(timeoutMillis, TimeUnit.MILLISECONDS)) {
                    throw new IllegalStateException("transfer not done after " + timeoutMillis + " ms");
                }
                if (!done.isSuccess()) {
                    throw new IllegalStateException("transfer failed", done.cause());
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                return new Result(transport, mode, noChecksum, reads, done.getNow(), seconds, readStats(server));
            } finally {
                quic.close().await(timeoutMillis, TimeUnit.MILLISECONDS);
            }
        } finally {
            if (client != null) {
                client.close().await(5, TimeUnit.SECONDS);
            }
            if (server != null) {
                server.close().await(5, TimeUnit.SECONDS);
            }
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
        }
    }

    private static Bootstrap datagramBootstrap(Transport transport, EventLoopGroup group) {
        return new Bootstrap().group(group).channel(transport.datagramChannelClass())
                .option(ChannelOption.SO_RCVBUF, SOCKET_BUFFER)
                .option(ChannelOption.SO_SNDBUF, SOCKET_BUFFER);
    }

    private static void batchedReads(Bootstrap b, Transport transport) {
        if (transport != Transport.IO_URING) {
            throw new IllegalArgumentException("IO_URING_BATCHED_READS needs the io_uring transport");
        }
        b.option(IoUringChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, UDP_PAYLOAD_SLOT)
                .option(ChannelOption.RECVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(64 * 1024));
    }

    private static SendStats readStats(Channel server) throws Exception {
        return server.eventLoop().submit(() -> SendStats.of(QuicUso.encoder(server))).get(5, TimeUnit.SECONDS);
    }

    /** Server side of a stream: reads the 8-byte request, then sends that many pattern bytes and ends the stream. */
    private static final class BulkSender extends ChannelInboundHandlerAdapter {
        private final ByteBuf request = Unpooled.buffer(8, 8);
        private long position;
        private long end = -1;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (end < 0 && msg instanceof ByteBuf) {
                    ByteBuf in = (ByteBuf) msg;
                    request.writeBytes(in, Math.min(in.readableBytes(), request.writableBytes()));
                    if (!request.isWritable()) {
                        end = request.readLong();
                        send(ctx);
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            send(ctx);
            ctx.fireChannelWritabilityChanged();
        }

        private void send(ChannelHandlerContext ctx) {
            if (end < 0 || position >= end) {
                return;
            }
            while (position < end && ctx.channel().isWritable()) {
                int n = (int) Math.min(CHUNK, end - position);
                ByteBuf chunk = ctx.alloc().directBuffer(n);
                BulkPattern.fill(chunk, position, n);
                position += n;
                if (position == end) {
                    ctx.writeAndFlush(chunk).addListener(QuicStreamChannel.SHUTDOWN_OUTPUT);
                    return;
                }
                ctx.write(chunk);
            }
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** Client side: checks every byte and completes {@code done} with the count once all have come. */
    private static final class BulkReceiver extends ChannelInboundHandlerAdapter {
        private final long expected;
        private final Promise<Long> done;
        private long position;

        BulkReceiver(long expected, Promise<Long> done) {
            this.expected = expected;
            this.done = done;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (!(msg instanceof ByteBuf) || done.isDone()) {
                    return;
                }
                ByteBuf in = (ByteBuf) msg;
                long bad = BulkPattern.mismatch(in, position);
                if (bad >= 0) {
                    done.tryFailure(new IllegalStateException("wrong byte at stream offset " + bad));
                    ctx.close();
                    return;
                }
                position += in.readableBytes();
                if (position > expected) {
                    done.tryFailure(new IllegalStateException("got " + position + " bytes, asked for " + expected));
                } else if (position == expected) {
                    done.trySuccess(position);
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt == ChannelInputShutdownReadComplete.INSTANCE) {
                ended();
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            ended();
            ctx.fireChannelInactive();
        }

        private void ended() {
            if (position != expected) {
                done.tryFailure(new IllegalStateException("stream ended after " + position + " of " + expected
                        + " bytes"));
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            done.tryFailure(cause);
            ctx.close();
        }
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the transfer with {@code args}; returns the exit status (2 for bad input, with nothing started). */
    static int run(String... args) {
        BulkOptions options = new BulkOptions();
        return Cli.execute(options, () -> transfer(options), args);
    }

    private static int transfer(BulkOptions options) throws Exception {
        Transport transport = options.transport;
        long mib = options.mib;
        ReadTuning reads = options.reads();
        System.out.println(OffloadCapabilities.get());
        System.out.println("QUIC allocator on " + transport + ": " + QuicUso.allocator(transport));
        long timeout = Math.max(60_000, mib * 1000);
        if (options.compare) {
            System.out.println(run(transport, mib << 20, SendMode.NONE, false, reads, timeout));
            System.out.println(run(transport, mib << 20, SendMode.SOFTWARE, false, reads, timeout));
            System.out.println(run(transport, mib << 20, SendMode.USO, false, reads, timeout));
            if (transport != Transport.NIO) {
                System.out.println(run(transport, mib << 20, SendMode.USO, true, reads, timeout));
            }
        } else {
            System.out.println(run(transport, mib << 20, options.mode, options.noChecksum, reads, timeout));
        }
        return Cli.OK;
    }
}
