package dev.nettyoffload.examples.video;

import dev.nettyoffload.core.OffloadCapabilities;
import dev.nettyoffload.core.Transport;
import dev.nettyoffload.testkit.Prerequisites;
import dev.nettyoffload.examples.quic.SendStats;
import dev.nettyoffload.examples.quic.TestCertificate;
import dev.nettyoffload.gso.QuicUso;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http3.DefaultHttp3HeadersFrame;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.http3.Http3ClientConnectionHandler;
import io.netty.handler.codec.http3.Http3DataFrame;
import io.netty.handler.codec.http3.Http3Headers;
import io.netty.handler.codec.http3.Http3HeadersFrame;
import io.netty.handler.codec.http3.Http3RequestStreamInboundHandler;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.codec.quic.QuicStreamChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.X509TrustManager;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The HTTP/3 path: Netty's own HTTP/3 client fetches the page, the clip and byte ranges (with USO on both
 * ends), and headless Chromium, forced onto QUIC for the origin and trusting the test certificate by its SPKI
 * hash, plays the video.
 */
@Timeout(120)
class VideoHttp3Test {

    /** One HTTP/3 response: status, headers and body. */
    static final class Response {
        final String status;
        final Http3Headers headers;
        final byte[] body;

        Response(String status, Http3Headers headers, byte[] body) {
            this.status = status;
            this.headers = headers;
            this.body = body;
        }

        String header(String name) {
            CharSequence v = headers.get(name);
            return v == null ? null : v.toString();
        }
    }

    /** Trusts exactly the certificate whose public key hashes to a given SPKI SHA-256, as Chromium's flag does. */
    static final class SpkiPinningTrustManager implements X509TrustManager {
        private final String spkiSha256;

        SpkiPinningTrustManager(String spkiSha256) {
            this.spkiSha256 = spkiSha256;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            try {
                String hash = Base64.getEncoder().encodeToString(
                        MessageDigest.getInstance("SHA-256").digest(chain[0].getPublicKey().getEncoded()));
                if (!hash.equals(spkiSha256)) {
                    throw new CertificateException("SPKI sha256/" + hash + " is not the pinned " + spkiSha256);
                }
            } catch (NoSuchAlgorithmException e) {
                throw new CertificateException(e);
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("not a server");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }

    /** Sends one request on a new stream of {@code quic}; {@code range} may be null. */
    static Response fetch(QuicChannel quic, InetSocketAddress server, String method, String path, String range)
            throws Exception {
        CompletableFuture<Response> done = new CompletableFuture<>();
        QuicStreamChannel stream = Http3.newRequestStream(quic, new Http3RequestStreamInboundHandler() {
            private Http3Headers headers;
            private final ByteArrayOutputStream body = new ByteArrayOutputStream();

            @Override
            protected void channelRead(ChannelHandlerContext ctx, Http3HeadersFrame frame) {
                headers = frame.headers();
            }

            @Override
            protected void channelRead(ChannelHandlerContext ctx, Http3DataFrame frame) {
                ByteBuf content = frame.content();
                byte[] bytes = new byte[content.readableBytes()];
                content.readBytes(bytes);
                body.writeBytes(bytes);
                frame.release();
            }

            @Override
            protected void channelInputClosed(ChannelHandlerContext ctx) {
                done.complete(new Response(headers == null ? null : String.valueOf(headers.status()), headers,
                        body.toByteArray()));
                ctx.close();
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                done.completeExceptionally(cause);
                ctx.close();
            }
        }).get(10, TimeUnit.SECONDS);
        DefaultHttp3HeadersFrame request = new DefaultHttp3HeadersFrame();
        request.headers().method(method).path(path).scheme("https")
                .authority(server.getAddress().getHostAddress() + ':' + server.getPort());
        if (range != null) {
            request.headers().add("range", range);
        }
        stream.writeAndFlush(request).addListener(QuicStreamChannel.SHUTDOWN_OUTPUT);
        return done.get(30, TimeUnit.SECONDS);
    }

    @ParameterizedTest
    @EnumSource(value = Transport.class, names = {"EPOLL", "IO_URING"})
    void nettyHttp3ClientGetsThePageTheClipAndRangesWithUso(Transport transport) throws Exception {
        Prerequisites.requireTransport(transport.displayName(), transport.unavailabilityCause());
        byte[] mp4 = VideoHttpTest.resource(SampleClip.MP4);
        try (VideoServer server = VideoHttpTest.start("--transport", transport.displayName(), "--no-udp",
                "--no-http", "--h3", "127.0.0.1:0")) {
            InetSocketAddress address = server.h3Address();
            EventLoopGroup group = transport.newEventLoopGroup(1);
            try {
                Channel channel = new Bootstrap().group(group).channel(transport.datagramChannelClass())
                        .handler(QuicUso.client(Http3.newQuicClientCodecBuilder()
                                .sslContext(QuicSslContextBuilder.forClient()
                                        .trustManager(new SpkiPinningTrustManager(TestCertificate.get().spkiSha256()))
                                        // The key is pinned; the name check would fail (localhost vs 127.0.0.1).
                                        .endpointIdentificationAlgorithm(null)
                                        .applicationProtocols(Http3.supportedApplicationProtocols()).build())
                                .maxIdleTimeout(20, TimeUnit.SECONDS)
                                .initialMaxData(16 << 20)
                                .initialMaxStreamDataBidirectionalLocal(8 << 20)))
                        .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
                QuicChannel quic = QuicUso.newBootstrap(channel).handler(new Http3ClientConnectionHandler())
                        .remoteAddress(address).connect().get(20, TimeUnit.SECONDS);
                try {
                    Response page = fetch(quic, address, "GET", "/", null);
                    assertEquals("200", page.status);
                    assertTrue(new String(page.body, java.nio.charset.StandardCharsets.UTF_8).contains("<video"));

                    Response whole = fetch(quic, address, "GET", "/video.mp4", null);
                    assertEquals("200", whole.status);
                    assertEquals("video/mp4", whole.header("content-type"));
                    assertArrayEquals(mp4, whole.body);

                    Response part = fetch(quic, address, "GET", "/video.mp4", "bytes=5000-105000");
                    assertEquals("206", part.status);
                    assertEquals("bytes 5000-105000/" + mp4.length, part.header("content-range"));
                    assertArrayEquals(Arrays.copyOfRange(mp4, 5000, 105001), part.body);

                    Response past = fetch(quic, address, "GET", "/video.mp4", "bytes=" + mp4.length + "-");
                    assertEquals("416", past.status);
                    assertEquals("404", fetch(quic, address, "GET", "/nope", null).status);
                } finally {
                    quic.close().await(5, TimeUnit.SECONDS);
                    channel.close().await(5, TimeUnit.SECONDS);
                }
            } finally {
                group.shutdownGracefully(0, 2, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
            }
            String stats = server.stats();
            System.out.println(transport + " HTTP/3 with Netty's client: " + stats.trim().replace('\n', ' '));
            SendStats s = server.h3Stats();
            if (OffloadCapabilities.get().isKernelSegmentationAvailable(transport)) {
                assertTrue(s.kernelPath && s.kernelSends > 0, "no UDP_SEGMENT sends: " + s);
                assertTrue(s.kernelSegments >= 2 * s.kernelSends, s.toString());
            }
            assertEquals(0, s.fallbacks, s.toString());
        }
    }

    @Test
    void chromiumPlaysTheVideoOverHttp3() throws Exception {
        HeadlessChromium.require();
        try (VideoServer server = VideoHttpTest.start("--no-udp", "--no-http", "--h3", "127.0.0.1:0")) {
            int port = server.h3Address().getPort();
            String origin = "127.0.0.1:" + port;
            List<String> flags = List.of("--enable-quic", "--origin-to-force-quic-on=" + origin,
                    "--ignore-certificate-errors-spki-list=" + TestCertificate.get().spkiSha256());
            try (HeadlessChromium chromium = HeadlessChromium.open("https://" + origin + "/", flags)) {
                String state = VideoHttpTest.awaitPlayback(chromium, 2.0, 60_000);
                chromium.screenshot(Path.of("target", "video-artifacts", "chromium-http3.png"));
                System.out.println("Chromium over HTTP/3: " + state + "; server " + server.stats().trim()
                        .replace('\n', ' '));
                assertEquals("null", VideoHttpTest.field(state, "err"), state + "\n" + chromium.log());
                assertTrue(VideoHttpTest.currentTime(state) >= 2.0, "currentTime did not advance: " + state
                        + "\n" + chromium.log());
                assertEquals("h3", VideoHttpTest.field(state, "page"), state);
                assertEquals("h3", VideoHttpTest.field(state, "media"), state);
                assertTrue(server.files().bodyBytes() > 0, "no video bytes served");
                SendStats s = server.h3Stats();
                assertEquals(0, s.fallbacks, s.toString());
            }
        }
    }
}
