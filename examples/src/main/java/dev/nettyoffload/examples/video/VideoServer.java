package dev.nettyoffload.examples.video;

import dev.nettyoffload.core.OffloadCapabilities;
import dev.nettyoffload.core.linux.OffloadReport;
import dev.nettyoffload.core.Transport;
import dev.nettyoffload.examples.Cli;
import dev.nettyoffload.examples.quic.SendStats;
import dev.nettyoffload.examples.quic.TestCertificate;
import dev.nettyoffload.gso.GsoMode;
import dev.nettyoffload.gso.QuicUso;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.http3.Http3ServerConnectionHandler;
import io.netty.handler.codec.quic.InsecureQuicTokenHandler;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicServerCodecBuilder;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.codec.quic.QuicStreamChannel;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * One server that streams a sample video three ways: UDP MPEG-TS with USO (the IPTV format), HTTP/1.1
 * progressive download with byte ranges and zero-copy file regions, and HTTP/3 over QUIC with USO. Each path
 * also serves a small HTML page with a {@code <video>} player (HTTP paths).
 * <p>
 * {@code java -cp netty-offload-examples.jar dev.nettyoffload.examples.video.VideoServer --help}
 */
public final class VideoServer implements AutoCloseable {
    private final VideoOptions options;
    private final SampleClip clip;
    private final MediaFiles files;
    private final EventLoopGroup group;
    private Channel http;
    private Channel h3;
    private MpegTsStreamer udp;

    private VideoServer(VideoOptions options) {
        this.options = options;
        this.clip = SampleClip.open(options.mp4, options.ts);
        this.files = new MediaFiles(clip);
        this.group = options.transport.newEventLoopGroup(2);
    }

    /** Starts the paths that {@code options} turn on; closes what was started if one fails. */
    static VideoServer start(VideoOptions options) throws Exception {
        VideoServer s = new VideoServer(options);
        boolean ok = false;
        try {
            if (options.h3 != null) {
                s.startHttp3();
            }
            if (options.http != null) {
                s.startHttp();
            }
            if (!options.udpTargets().isEmpty()) {
                s.udp = MpegTsStreamer.start(s.group, options.transport, s.clip.ts, options.udpTargets(),
                        options.udpSource, options.multicastTtl, options.multicastInterface(), options.uso ? GsoMode.AUTO : GsoMode.SOFTWARE,
                        options.loops, options.burstMillis, options.bitRate);
            }
            ok = true;
            return s;
        } finally {
            if (!ok) {
                s.close();
            }
        }
    }

    private void startHttp() throws InterruptedException {
        String altSvc = h3 != null ? "h3=\":" + h3Address().getPort() + "\"; ma=60" : null;
        ServerBootstrap b = new ServerBootstrap().group(group).channel(options.transport.serverSocketChannelClass())
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(16 * 1024),
                                new HttpVideoHandler(files, altSvc));
                    }
                });
        http = b.bind(options.http).sync().channel();
    }

    private void startHttp3() throws InterruptedException {
        TestCertificate cert = TestCertificate.get();
        QuicSslContext ssl = QuicSslContextBuilder.forServer(cert.key(), null, cert.cert())
                .applicationProtocols(Http3.supportedApplicationProtocols()).build();
        QuicServerCodecBuilder codec = Http3.newQuicServerCodecBuilder()
                .sslContext(ssl)
                .maxIdleTimeout(30, TimeUnit.SECONDS)
                .initialMaxData(16 << 20)
                .initialMaxStreamDataBidirectionalLocal(4 << 20)
                .initialMaxStreamDataBidirectionalRemote(4 << 20)
                .initialMaxStreamsBidirectional(100)
                .tokenHandler(InsecureQuicTokenHandler.INSTANCE)
                .handler(new ChannelInitializer<QuicChannel>() {
                    @Override
                    protected void initChannel(QuicChannel ch) {
                        ch.pipeline().addLast(new Http3ServerConnectionHandler(
                                new ChannelInitializer<QuicStreamChannel>() {
                                    @Override
                                    protected void initChannel(QuicStreamChannel stream) {
                                        stream.pipeline().addLast(new Http3VideoHandler(files));
                                    }
                                }));
                    }
                });
        h3 = new Bootstrap().group(group).channel(options.transport.datagramChannelClass())
                .option(ChannelOption.SO_RCVBUF, 4 << 20)
                .option(ChannelOption.SO_SNDBUF, 4 << 20)
                .handler(QuicUso.server(codec, options.uso ? GsoMode.AUTO : GsoMode.SOFTWARE))
                .bind(options.h3).sync().channel();
    }

    /** The bound HTTP/1.1 address, or null when that path is off. */
    InetSocketAddress httpAddress() {
        return http == null ? null : (InetSocketAddress) http.localAddress();
    }

    /** The bound HTTP/3 address, or null when that path is off. */
    InetSocketAddress h3Address() {
        return h3 == null ? null : (InetSocketAddress) h3.localAddress();
    }

    /** The HTTP/3 channel's encoder counters, read on its event loop. */
    SendStats h3Stats() throws Exception {
        return h3.eventLoop().submit(() -> SendStats.of(QuicUso.encoder(h3))).get(5, TimeUnit.SECONDS);
    }

    MpegTsStreamer udp() {
        return udp;
    }

    MediaFiles files() {
        return files;
    }

    /**
     * The offload report for each destination the paths send to (the UDP stream's first target, the HTTP
     * listen addresses, where clients reply from), one report per distinct address, naming its paths.
     */
    String offloadReports() {
        Map<InetAddress, List<String>> byDestination = new LinkedHashMap<>();
        if (udp != null) {
            byDestination.computeIfAbsent(options.udpTargets().get(0).getAddress(), a -> new ArrayList<>())
                    .add("UDP MPEG-TS");
        }
        if (http != null) {
            byDestination.computeIfAbsent(reportAddress(httpAddress()), a -> new ArrayList<>()).add("HTTP/1.1");
        }
        if (h3 != null) {
            byDestination.computeIfAbsent(reportAddress(h3Address()), a -> new ArrayList<>()).add("HTTP/3");
        }
        StringBuilder sb = new StringBuilder(1024);
        for (Map.Entry<InetAddress, List<String>> e : byDestination.entrySet()) {
            sb.append(String.join(", ", e.getValue())).append(": ")
                    .append(OffloadReport.forDestination(e.getKey(), options.transport)).append('\n');
        }
        return sb.toString();
    }

    /** A listen address stands for its clients; a wildcard one is reported for loopback. */
    private static InetAddress reportAddress(InetSocketAddress listen) {
        InetAddress a = listen.getAddress();
        return a.isAnyLocalAddress() ? InetAddress.getLoopbackAddress() : a;
    }

    /** The start-up banner: where each path is and how it offloads. */
    String banner() throws Exception {
        StringBuilder sb = new StringBuilder(1024);
        sb.append("netty-offload video server on ").append(options.transport).append('\n');
        sb.append(OffloadCapabilities.get().toString().trim()).append('\n');
        sb.append(offloadReports());
        if (udp != null) {
            sb.append(String.format(Locale.ROOT, "UDP MPEG-TS  %s -> %s, %d-byte datagrams (7 TS packets), bursts of"
                            + " up to %d datagrams every %d ms, paced by %s at %d kbit/s, %s%n",
                    udp.channel().localAddress(), options.udpTargets(), MpegTsStreamer.DATAGRAM_SIZE,
                    MpegTsStreamer.MAX_DATAGRAMS_PER_WRITE, options.burstMillis,
                    udp.isPacedByPcr() ? "the PCR" : "--bitrate", udp.bitRate() / 1000,
                    options.loops == 0 ? "looping" : options.loops + " pass(es)"));
            sb.append("             play: ffplay udp://").append(hostPort(options.udpTargets().get(0)))
                    .append("   offload: GsoEncoder ").append(encoderPath(udp.sendStats())).append('\n');
        }
        if (http != null) {
            String base = "http://" + hostPort(httpAddress());
            sb.append("HTTP/1.1     ").append(base).append("/  (page)  ").append(base).append(VideoPage.PATH_MP4)
                    .append("  ").append(base).append(VideoPage.PATH_TS).append('\n');
            sb.append("             offload: file bodies by sendfile (DefaultFileRegion), the kernel's TSO/GSO"
                    + " segments the TCP stream\n");
        }
        if (h3 != null) {
            String base = "https://" + hostPort(h3Address());
            sb.append("HTTP/3       ").append(base).append("/  (page)  ").append(base).append(VideoPage.PATH_MP4)
                    .append("   certificate SPKI sha256/").append(TestCertificate.get().spkiSha256()).append('\n');
            SendStats s = h3Stats();
            sb.append("             offload: QUIC allocator ").append(QuicUso.allocator(h3))
                    .append(", GsoEncoder ").append(encoderPath(s)).append('\n');
            sb.append("             chromium --origin-to-force-quic-on=").append(hostPort(h3Address()))
                    .append(" --ignore-certificate-errors-spki-list=").append(TestCertificate.get().spkiSha256())
                    .append(' ').append(base).append("/\n");
        }
        return sb.toString();
    }

    private String encoderPath(SendStats s) {
        return s.kernelPath ? "kernel path (UDP_SEGMENT)" : options.uso ? "software path (no kernel USO here)"
                : "software path (--uso off)";
    }

    private static String hostPort(InetSocketAddress a) {
        String host = a.getAddress().getHostAddress();
        return (host.indexOf(':') >= 0 ? '[' + host + ']' : host) + ':' + a.getPort();
    }

    /** Counters of each path: datagrams against send operations for the UDP paths, bodies sent over HTTP. */
    String stats() throws Exception {
        StringBuilder sb = new StringBuilder(512);
        if (udp != null) {
            sb.append(udp.stats()).append('\n');
        }
        if (h3 != null) {
            sb.append("HTTP/3 (QUIC): ").append(h3Stats()).append('\n');
        }
        if (http != null || h3 != null) {
            sb.append("HTTP bodies: ").append(files.bodies()).append(" responses, ").append(files.bodyBytes())
                    .append(" bytes\n");
        }
        return sb.toString();
    }

    @Override
    public void close() {
        try {
            if (udp != null) {
                udp.close();
            }
            if (http != null) {
                http.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
            }
            if (h3 != null) {
                h3.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
            }
        } finally {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
            clip.close();
        }
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the server with {@code args}; returns the exit status (2 for bad input, with nothing bound). */
    static int run(String... args) {
        VideoOptions options = new VideoOptions();
        return Cli.execute(options, () -> serve(options), args);
    }

    private static int serve(VideoOptions options) throws Exception {
        VideoServer server = start(options);
        System.out.print(server.banner());
        System.out.flush();
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            try {
                System.out.print(server.stats());
                server.close();
            } catch (Exception e) {
                System.err.println("shutdown: " + e);
            } finally {
                stopped.countDown();
            }
        }, "video-server-shutdown");
        if (options.seconds > 0) {
            Thread.sleep((long) (options.seconds * 1000));
            hook.run();
        } else {
            Runtime.getRuntime().addShutdownHook(hook);
            stopped.await();
        }
        return Cli.OK;
    }
}
