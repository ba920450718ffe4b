package dev.nettyoffload.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs short external commands (ip, ethtool, tcpdump) for tests, with a time limit. */
public final class Shell {
    private static final long DEFAULT_TIMEOUT_SECONDS = 30;

    private Shell() {
    }

    /** The outcome of a finished command. */
    public static final class Result {
        public final int exitCode;
        public final String stdout;
        public final String stderr;

        Result(int exitCode, String stdout, String stderr) {
            this.exitCode = exitCode;
            this.stdout = stdout;
            this.stderr = stderr;
        }

        public boolean ok() {
            return exitCode == 0;
        }
    }

    /** Runs {@code command} and returns its stdout; throws with stderr when it exits non-zero. */
    public static String run(String... command) {
        Result r = tryRun(command);
        if (!r.ok()) {
            throw new IllegalStateException("command failed (exit " + r.exitCode + "): "
                    + String.join(" ", command) + "\n" + r.stderr + r.stdout);
        }
        return r.stdout;
    }

    /** Runs {@code command} and returns its result whatever the exit code. */
    public static Result tryRun(String... command) {
        return tryRun(Arrays.asList(command), DEFAULT_TIMEOUT_SECONDS);
    }

    public static Result tryRun(List<String> command, long timeoutSeconds) {
        Process p;
        try {
            p = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        } catch (IOException e) {
            return new Result(127, "", "cannot start " + command.get(0) + ": " + e.getMessage());
        }
        try {
            StreamCollector out = new StreamCollector(p.getInputStream());
            StreamCollector err = new StreamCollector(p.getErrorStream());
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
                return new Result(124, out.text(), err.text() + "\ntimed out after " + timeoutSeconds + " s");
            }
            return new Result(p.exitValue(), out.text(), err.text());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            return new Result(130, "", "interrupted");
        }
    }

    /** Drains a process stream on its own thread so a chatty command cannot block on a full pipe. */
    static final class StreamCollector {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final Thread thread;

        StreamCollector(InputStream in) {
            thread = new Thread(() -> {
                try (in) {
                    in.transferTo(bytes);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, "shell-stream");
            thread.setDaemon(true);
            thread.start();
        }

        String text() throws InterruptedException {
            thread.join(5000);
            synchronized (bytes) {
                return bytes.toString(StandardCharsets.UTF_8);
            }
        }
    }
}
