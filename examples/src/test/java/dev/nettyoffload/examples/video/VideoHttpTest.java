package dev.nettyoffload.examples.video;

import dev.nettyoffload.core.Transport;
import dev.nettyoffload.examples.CliRun;
import dev.nettyoffload.testkit.Prerequisites;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The HTTP/1.1 path: byte ranges checked with the JDK client, and Chromium playing the page's video. */
@Timeout(120)
class VideoHttpTest {
    static byte[] resource(String name) throws Exception {
        try (InputStream in = VideoHttpTest.class.getResourceAsStream(SampleClip.RESOURCE_DIR + name)) {
            return in.readAllBytes();
        }
    }

    static VideoServer start(String... args) throws Exception {
        return VideoServer.start(VideoOptions.parse(args));
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void servesThePageTheFileAndByteRanges(Transport transport) throws Exception {
        Prerequisites.requireTransport(transport.displayName(), transport.unavailabilityCause());
        byte[] mp4 = resource(SampleClip.MP4);
        try (VideoServer server = start("--transport", transport.displayName(), "--no-udp", "--no-h3",
                "--http", "127.0.0.1:0")) {
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            String base = "http://127.0.0.1:" + server.httpAddress().getPort();

            HttpResponse<String> page = client.send(HttpRequest.newBuilder(URI.create(base + "/")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, page.statusCode());
            assertTrue(page.body().contains("<video id=\"video\" src=\"video.mp4\""), page.body());

            HttpResponse<byte[]> whole = client.send(HttpRequest.newBuilder(URI.create(base + "/video.mp4")).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, whole.statusCode());
            assertEquals("video/mp4", whole.headers().firstValue("content-type").orElse(null));
            assertEquals("bytes", whole.headers().firstValue("accept-ranges").orElse(null));
            assertArrayEquals(mp4, whole.body());

            HttpResponse<byte[]> part = client.send(HttpRequest.newBuilder(URI.create(base + "/video.mp4"))
                    .header("Range", "bytes=1000-70999").build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(206, part.statusCode());
            assertEquals("bytes 1000-70999/" + mp4.length, part.headers().firstValue("content-range").orElse(null));
            assertArrayEquals(Arrays.copyOfRange(mp4, 1000, 71000), part.body());

            HttpResponse<byte[]> tail = client.send(HttpRequest.newBuilder(URI.create(base + "/video.mp4"))
                    .header("Range", "bytes=-500").build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(206, tail.statusCode());
            assertArrayEquals(Arrays.copyOfRange(mp4, mp4.length - 500, mp4.length), tail.body());

            HttpResponse<byte[]> past = client.send(HttpRequest.newBuilder(URI.create(base + "/video.mp4"))
                    .header("Range", "bytes=" + mp4.length + "-").build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(416, past.statusCode());
            assertEquals("bytes */" + mp4.length, past.headers().firstValue("content-range").orElse(null));

            HttpResponse<Void> head = client.send(HttpRequest.newBuilder(URI.create(base + "/video.ts"))
                    .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
            assertEquals(200, head.statusCode());
            assertEquals(Long.toString(resource(SampleClip.TS).length),
                    head.headers().firstValue("content-length").orElse(null));

            HttpResponse<String> missing = client.send(HttpRequest.newBuilder(URI.create(base + "/nope")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(404, missing.statusCode());
            assertEquals(3, server.files().bodies());
        }
    }

    /** Polls the page until the video has played {@code seconds}; returns the last state seen. */
    static String awaitPlayback(HeadlessChromium chromium, double seconds, long timeoutMillis) throws Exception {
        String js = "(() => { const v = document.getElementById('video');"
                + " if (!v) return JSON.stringify({t: -1});"
                + " const e = performance.getEntriesByType('resource').find(r => r.name.endsWith('video.mp4'));"
                + " const n = performance.getEntriesByType('navigation')[0];"
                + " return JSON.stringify({t: v.currentTime, err: window.mediaError, rs: v.readyState,"
                + " w: v.videoWidth, h: v.videoHeight, page: n ? n.nextHopProtocol : null,"
                + " media: e ? e.nextHopProtocol : null}); })()";
        long deadline = System.currentTimeMillis() + timeoutMillis;
        String state = "";
        while (System.currentTimeMillis() < deadline) {
            state = chromium.evaluate(js);
            if (state.contains("\"err\":\"")) {
                return state;
            }
            if (currentTime(state) >= seconds) {
                return state;
            }
            Thread.sleep(250);
        }
        return state;
    }

    static double currentTime(String state) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"t\":(-?[0-9.eE+-]+)").matcher(state);
        return m.find() ? Double.parseDouble(m.group(1)) : -1;
    }

    static String field(String state, String name) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"" + name + "\":(null|\"[^\"]*\"|[0-9.]+)")
                .matcher(state);
        return m.find() ? m.group(1).replace("\"", "") : null;
    }

    @Test
    void chromiumPlaysTheVideoOverHttp1() throws Exception {
        HeadlessChromium.require();
        try (VideoServer server = start("--no-udp", "--no-h3", "--http", "127.0.0.1:0")) {
            String url = "http://127.0.0.1:" + server.httpAddress().getPort() + "/";
            try (HeadlessChromium chromium = HeadlessChromium.open(url, List.of("--disable-quic"))) {
                String state = awaitPlayback(chromium, 2.0, 60_000);
                chromium.screenshot(Path.of("target", "video-artifacts", "chromium-http1.png"));
                System.out.println("Chromium over HTTP/1.1: " + state);
                assertEquals("null", field(state, "err"), state + "\n" + chromium.log());
                assertTrue(currentTime(state) >= 2.0, "currentTime did not advance: " + state);
                assertEquals("640", field(state, "w"), state);
                assertEquals("360", field(state, "h"), state);
                assertEquals("http/1.1", field(state, "media"), state);
                assertTrue(server.files().bodyBytes() > 0, "no video bytes served");
            }
        }
    }

    @Test
    void mainPrintsTheBannerWithOffloadReportsAndTheCountersOnShutdown() throws Exception {
        CliRun r;
        int udpPort;
        try (java.net.DatagramSocket sink = new java.net.DatagramSocket(0, java.net.InetAddress.getLoopbackAddress())) {
            udpPort = sink.getLocalPort();
            r = CliRun.of(VideoServer::run, "--http", "127.0.0.1:0", "--h3", "127.0.0.1:0", "--udp",
                    "127.0.0.1:" + udpPort, "--seconds", "1");
        }
        String out = r.out;
        System.out.println(out);
        assertEquals(0, r.exitCode, r.err);
        assertTrue(out.contains("Offload capabilities"), out);
        assertTrue(out.contains("UDP MPEG-TS, HTTP/1.1, HTTP/3: Offload report for 127.0.0.1"), out);
        assertTrue(out.contains("udp://127.0.0.1:" + udpPort), out);
        assertTrue(out.contains("HTTP/1.1     http://127.0.0.1:"), out);
        assertTrue(out.contains("HTTP/3       https://127.0.0.1:"), out);
        assertTrue(out.contains("--ignore-certificate-errors-spki-list="), out);
        assertTrue(out.matches("(?s).*UDP MPEG-TS: \\d+ TS packets in \\d+ bursts; .* datagrams in \\d+ send operations.*"),
                out);
        assertTrue(out.contains("HTTP bodies: 0 responses"), out);
    }

    @Test
    void helpShowsTheOptionsAndDefaults() {
        CliRun.of(VideoServer::run, "--help").assertHelp("--transport=epoll|io_uring|nio", "--http=ADDR:PORT",
                "127.0.0.1:8080)", "8443)", "--udp=HOST:PORT", "127.0.0.1:5004",
                "--multicast=GROUP:PORT", "--uso=on|off", "(default: on)", "--burst-ms=N", "(default: 100)",
                "--bitrate=BPS", "(default: 1500000)", "--seconds=S", "--no-udp");
    }

    @Test
    void badOptionsAreRefusedInOneLineWithNothingBound() {
        CliRun.of(VideoServer::run, "--uso", "maybe").assertRefused("--uso", "ON, OFF");
        CliRun.of(VideoServer::run, "--multicast", "10.85.0.1:5000").assertRefused("--multicast", "224.0.0.0/4");
        CliRun.of(VideoServer::run, "--seconds", "abc").assertRefused("--seconds", "0.001-31536000");
        CliRun.of(VideoServer::run, "--seconds", "-1").assertRefused("--seconds", "0.001-31536000");
        CliRun.of(VideoServer::run, "--http", "127.0.0.1:65536").assertRefused("--http", "0 to 65535");
        CliRun.of(VideoServer::run, "--multicast-ttl", "256").assertRefused("--multicast-ttl", "0-255");
        CliRun.of(VideoServer::run, "--burst-ms", "0").assertRefused("--burst-ms", "1-1000");
        CliRun.of(VideoServer::run, "--transport", "foo").assertRefused("--transport", "epoll, io_uring or nio");
        CliRun.of(VideoServer::run, "--multicast-if", "no-such-if0").assertRefused("--multicast-if", "no-such-if0");
    }

    @Test
    void optionsCombine() {
        VideoOptions o = VideoOptions.parse("--multicast", "239.85.0.1:5000", "--udp", "127.0.0.1:6000");
        assertEquals(2, o.udpTargets().size());
        assertEquals(List.of(new java.net.InetSocketAddress("127.0.0.1", 5004)), VideoOptions.parse().udpTargets());
        VideoOptions off = VideoOptions.parse("--no-udp", "--no-http", "--uso", "OFF");
        assertTrue(off.udpTargets().isEmpty());
        assertNull(off.http);
        assertEquals(false, off.uso);
        assertEquals("video/mp2t", VideoPage.contentType("/video.ts"));
        assertTrue(new String(VideoPage.html(), StandardCharsets.UTF_8).contains("<video"));
    }
}
