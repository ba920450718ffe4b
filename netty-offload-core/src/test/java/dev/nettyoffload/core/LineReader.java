package dev.nettyoffload.core;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Collects the lines of a child process's stream on a daemon thread, for waiting on them with a timeout. */
final class LineReader {
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

    LineReader(InputStream in, String name) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("read failed: " + e);
            }
        }, name);
        t.setDaemon(true);
        t.start();
    }

    /** The next line, or {@code null} after {@code millis} without one. */
    String next(long millis) throws InterruptedException {
        return lines.poll(millis, TimeUnit.MILLISECONDS);
    }

    /** Waits for a line containing {@code text}; fails with the lines seen when it does not come in time. */
    String await(String text, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        StringBuilder seen = new StringBuilder();
        for (;;) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            String line = left <= 0 ? null : next(left);
            if (line == null) {
                throw new AssertionError("no line containing '" + text + "' within " + millis + " ms; saw:\n" + seen);
            }
            if (line.contains(text)) {
                return line;
            }
            seen.append(line).append('\n');
        }
    }
}
