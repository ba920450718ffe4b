package dev.nettyoffload.examples.video;

import dev.nettyoffload.testkit.Prerequisites;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Debian's headless Chromium driven through the DevTools protocol (a WebSocket from the JDK's HTTP client, so
 * no WebDriver or JSON library is needed): opens a page, evaluates JavaScript, takes screenshots. Always run in
 * try-with-resources; {@link #close()} kills the browser and its helpers and removes the profile.
 */
final class HeadlessChromium implements AutoCloseable {
    private static final Pattern DEVTOOLS = Pattern.compile("DevTools listening on (ws://\\S+)");
    private static final Pattern PAGE_WS = Pattern.compile("\"webSocketDebuggerUrl\"\\s*:\\s*\"(ws://[^\"]+/page/[^\"]+)\"");
    private static final Pattern RESPONSE_ID = Pattern.compile("^\\{\"id\":(\\d+),");

    private final Process process;
    private final Path profile;
    private final List<String> log = new ArrayList<>();
    private final Map<Integer, CompletableFuture<String>> pending = new ConcurrentHashMap<>();
    private final AtomicInteger ids = new AtomicInteger();
    private WebSocket socket;

    private HeadlessChromium(Process process, Path profile) {
        this.process = process;
        this.profile = profile;
    }

    /** The browser binary, or null when Chromium is not installed. */
    static String binary() {
        for (String name : new String[] {"chromium", "chromium-browser"}) {
            if (Prerequisites.hasCommand(name)) {
                return name;
            }
        }
        return null;
    }

    static void require() {
        Prerequisites.require(binary() != null, "command 'chromium' (apt-get install chromium)");
    }

    /** Starts Chromium on {@code url} with the test flags plus {@code extraFlags}. */
    static HeadlessChromium open(String url, List<String> extraFlags) throws Exception {
        Path profile = Files.createTempDirectory("chromium-profile");
        List<String> cmd = new ArrayList<>(List.of(binary(), "--headless", "--no-sandbox", "--disable-gpu",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + profile, "--remote-debugging-port=0", "--remote-allow-origins=*",
                "--autoplay-policy=no-user-gesture-required", "--mute-audio", "--window-size=800,600"));
        cmd.addAll(extraFlags);
        cmd.add(url);
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        HeadlessChromium c = new HeadlessChromium(p, profile);
        try {
            c.connect();
            return c;
        } catch (Exception e) {
            c.close();
            throw new IllegalStateException("Chromium did not start: " + e + "\n" + c.log(), e);
        }
    }

    private void connect() throws Exception {
        CompletableFuture<String> browserWs = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getErrorStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    synchronized (log) {
                        if (log.size() < 400) {
                            log.add(line);
                        }
                    }
                    Matcher m = DEVTOOLS.matcher(line);
                    if (m.find()) {
                        browserWs.complete(m.group(1));
                    }
                }
            } catch (IOException e) {
                // The browser went away; close() reports nothing more.
            }
            browserWs.completeExceptionally(new IllegalStateException("no DevTools address in Chromium's output"));
        }, "chromium-stderr");
        reader.setDaemon(true);
        reader.start();
        URI browser = URI.create(browserWs.get(60, TimeUnit.SECONDS));
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        URI list = URI.create("http://" + browser.getAuthority() + "/json/list");
        String pageWs = null;
        for (int i = 0; i < 100 && pageWs == null; i++) {
            String body = http.send(HttpRequest.newBuilder(list).build(), HttpResponse.BodyHandlers.ofString()).body();
            Matcher m = PAGE_WS.matcher(body);
            if (m.find()) {
                pageWs = m.group(1);
            } else {
                Thread.sleep(100);
            }
        }
        if (pageWs == null) {
            throw new IllegalStateException("Chromium has no page target");
        }
        socket = http.newWebSocketBuilder().buildAsync(URI.create(pageWs), new Listener()).get(30, TimeUnit.SECONDS);
    }

    /** Sends one DevTools command and returns the raw JSON response. */
    String call(String method, String paramsJson, long timeoutSeconds) throws Exception {
        int id = ids.incrementAndGet();
        CompletableFuture<String> f = new CompletableFuture<>();
        pending.put(id, f);
        socket.sendText("{\"id\":" + id + ",\"method\":\"" + method + "\",\"params\":" + paramsJson + "}", true)
                .get(10, TimeUnit.SECONDS);
        try {
            return f.get(timeoutSeconds, TimeUnit.SECONDS);
        } finally {
            pending.remove(id);
        }
    }

    /** Evaluates {@code expression}, which must produce a string, and returns that string. */
    String evaluate(String expression) throws Exception {
        String r = call("Runtime.evaluate", "{\"expression\":" + quote(expression)
                + ",\"returnByValue\":true,\"awaitPromise\":true}", 20);
        Matcher m = Pattern.compile("\"value\":\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(r);
        if (!m.find()) {
            throw new IllegalStateException("no string result: " + r);
        }
        return unquote(m.group(1));
    }

    /** Saves a PNG screenshot of the page to {@code file}. */
    void screenshot(Path file) throws Exception {
        String r = call("Page.captureScreenshot", "{\"format\":\"png\"}", 30);
        Matcher m = Pattern.compile("\"data\":\"([A-Za-z0-9+/=]+)\"").matcher(r);
        if (!m.find()) {
            throw new IllegalStateException("no screenshot: " + r.substring(0, Math.min(200, r.length())));
        }
        Files.createDirectories(file.getParent());
        Files.write(file, Base64.getDecoder().decode(m.group(1)));
    }

    /** What the browser printed on stderr so far (for failure messages). */
    String log() {
        synchronized (log) {
            return String.join("\n", log);
        }
    }

    static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 16).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.append('"').toString();
    }

    static String unquote(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            char e = s.charAt(++i);
            switch (e) {
                case 'n':
                    sb.append('\n');
                    break;
                case 't':
                    sb.append('\t');
                    break;
                case 'r':
                    sb.append('\r');
                    break;
                case 'b':
                    sb.append('\b');
                    break;
                case 'f':
                    sb.append('\f');
                    break;
                case 'u':
                    sb.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
                    i += 4;
                    break;
                default:
                    sb.append(e);
                    break;
            }
        }
        return sb.toString();
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder message = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            message.append(data);
            if (last) {
                String text = message.toString();
                message.setLength(0);
                Matcher m = RESPONSE_ID.matcher(text);
                if (m.find()) {
                    CompletableFuture<String> f = pending.get(Integer.parseInt(m.group(1)));
                    if (f != null) {
                        f.complete(text);
                    }
                }
            }
            webSocket.request(1);
            return null;
        }
    }

    @Override
    public void close() {
        if (socket != null) {
            socket.abort();
        }
        List<ProcessHandle> helpers = process.descendants().toList();
        process.destroyForcibly();
        for (ProcessHandle h : helpers) {
            h.destroyForcibly();
        }
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try (Stream<Path> files = Files.walk(profile)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // A leftover profile in the temporary directory is harmless.
        }
    }
}
