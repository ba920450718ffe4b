package dev.nettyoffload.benchmarks.harness;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A child process spoken to in lines: requests on its stdin, answers read from its stdout on a daemon thread,
 * stderr appended to a log file. {@link #close()} ends it (and only it) and waits for it.
 */
final class ChildProcess implements AutoCloseable {
    private static final String EOF = "\u0000eof";

    private final String name;
    private final Process process;
    private final Writer stdin;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

    ChildProcess(String name, List<String> command, File log) throws IOException {
        this.name = name;
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.appendTo(log));
        this.process = pb.start();
        Harness.registerForShutdown(this);
        this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (Boolean.getBoolean("harness.debug")) {
                        System.err.println(name + "> " + line);
                    }
                    lines.add(line);
                }
            } catch (IOException e) {
                // The process is gone; EOF below tells the waiter.
            } finally {
                lines.add(EOF);
            }
        }, name + "-stdout");
        reader.setDaemon(true);
        reader.start();
    }

    String name() {
        return name;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    void send(String line) throws IOException {
        stdin.write(line);
        stdin.write('\n');
        stdin.flush();
    }

    /** The next stdout line starting with one of {@code words}; other lines are skipped. */
    String await(double timeoutSeconds, String... words) throws InterruptedException {
        long deadline = System.nanoTime() + (long) (timeoutSeconds * 1e9);
        while (true) {
            long left = deadline - System.nanoTime();
            String line = left <= 0 ? null : lines.poll(left, TimeUnit.NANOSECONDS);
            if (line == null) {
                throw new RunFailedException(name + " gave no answer within " + timeoutSeconds + " s");
            }
            if (line.equals(EOF)) {
                lines.add(EOF);
                throw new RunFailedException(name + " exited (see its log in the report directory)");
            }
            for (String w : words) {
                if (line.startsWith(w)) {
                    return line;
                }
            }
        }
    }

    /** Asks the process to finish (SIGTERM); it still prints its result. */
    void terminate() {
        // Through the handle: Process.destroy() would also close our end of its stdout and lose the result.
        process.toHandle().destroy();
    }

    /** Waits for the process to exit by itself, killing it after {@code timeoutSeconds}. */
    void awaitExit(double timeoutSeconds) throws InterruptedException {
        if (!process.waitFor((long) (timeoutSeconds * 1000), TimeUnit.MILLISECONDS)) {
            close();
        }
    }

    @Override
    public void close() {
        try {
            stdin.close();
        } catch (IOException e) {
            // Already closed by the child exiting.
        }
        try {
            if (!process.waitFor(2, TimeUnit.SECONDS)) {
                process.descendants().forEach(ProcessHandle::destroy);
                process.destroy();
                if (!process.waitFor(2, TimeUnit.SECONDS)) {
                    process.descendants().forEach(ProcessHandle::destroyForcibly);
                    process.destroyForcibly();
                    process.waitFor(2, TimeUnit.SECONDS);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        Harness.unregisterForShutdown(this);
    }
}
