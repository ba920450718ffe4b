package dev.nettyoffload.examples.video;

import java.nio.charset.StandardCharsets;

/** The HTML page with a {@code <video>} player, the same over HTTP/1.1 and HTTP/3. */
final class VideoPage {
    static final String PATH_PAGE = "/";
    static final String PATH_MP4 = "/video.mp4";
    static final String PATH_TS = "/video.ts";

    private VideoPage() {
    }

    /** The page; the video is referenced relatively, so it comes over the same protocol as the page. */
    static byte[] html() {
        String page = "<!doctype html>\n"
                + "<html lang=\"en\"><head><meta charset=\"utf-8\"><title>netty-offload video</title></head>\n"
                + "<body>\n"
                + "<h1>netty-offload sample clip</h1>\n"
                + "<video id=\"video\" src=\"video.mp4\" width=\"640\" height=\"360\" controls autoplay muted loop"
                + " playsinline></video>\n"
                + "<p id=\"status\">loading</p>\n"
                + "<script>\n"
                + "const v = document.getElementById('video');\n"
                + "window.mediaError = null;\n"
                + "v.addEventListener('error', () => {\n"
                + "  window.mediaError = v.error ? v.error.code + ' ' + v.error.message : 'error';\n"
                + "  document.getElementById('status').textContent = 'media error ' + window.mediaError;\n"
                + "});\n"
                + "v.addEventListener('timeupdate', () => {\n"
                + "  document.getElementById('status').textContent = 'playing at ' + v.currentTime.toFixed(2) + ' s';\n"
                + "});\n"
                + "</script>\n"
                + "</body></html>\n";
        return page.getBytes(StandardCharsets.UTF_8);
    }

    /** The media type of a path this server serves, or null. */
    static String contentType(String path) {
        switch (path) {
            case PATH_PAGE:
            case "/index.html":
                return "text/html; charset=utf-8";
            case PATH_MP4:
                return "video/mp4";
            case PATH_TS:
                return "video/mp2t";
            default:
                return null;
        }
    }
}
