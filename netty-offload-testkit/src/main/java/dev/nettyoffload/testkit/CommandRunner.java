package dev.nettyoffload.testkit;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs external commands (ip, ethtool, tc, tcpdump, gcc, iperf3) for tests and tools, with a time limit that
 * holds whatever the command writes.
 * <p>
 * Stdin is {@code /dev/null}, so a command that reads it sees end of file instead of waiting. Stdout and stderr
 * are each drained by a thread of their own while the caller waits for the exit: a command that fills one pipe
 * (64 KiB) cannot block on it, and the timeout fires even if the command never closes its streams. On timeout the
 * command and its descendants are killed and the result has exit code {@value #EXIT_TIMED_OUT} with what was
 * captured so far.
 */
public final class CommandRunner {
    /** The time limit of {@link #run(String...)} and {@link #tryRun(String...)}. */
    public static final long DEFAULT_TIMEOUT_SECONDS = 30;
    /** Exit code of a command killed at its time limit (as {@code timeout(1)} reports it). */
    public static final int EXIT_TIMED_OUT = 124;
    /** Exit code of a command that could not be started (as a shell reports "command not found"). */
    public static final int EXIT_NOT_STARTED = 127;
    /** Exit code of a command abandoned because the calling thread was interrupted (128 + SIGINT). */
    public static final int EXIT_INTERRUPTED = 130;

    /** How long to wait for the drainers after the exit: a daemon the command started may keep a pipe open. */
    private static final long DRAIN_GRACE_MILLIS = 2000;
    private static final File DEV_NULL = new File("/dev/null");

    private CommandRunner() {
    }

    /** The outcome of a command: its exit code (or one of the {@code EXIT_*} codes) and both outputs. */
    public static final class Result {
        public final List<String> command;
        public final int exitCode;
        public final String stdout;
        public final String stderr;

        Result(List<String> command, int exitCode, String stdout, String stderr) {
            this.command = command;
            this.exitCode = exitCode;
            this.stdout = stdout;
            this.stderr = stderr;
        }

        public boolean ok() {
            return exitCode == 0;
        }

        public boolean timedOut() {
            return exitCode == EXIT_TIMED_OUT;
        }

        /** Stdout followed by stderr, for messages and for tools whose diagnostics go to either. */
        public String output() {
            return stdout + stderr;
        }

        /** Returns stdout if the command exited with 0, else throws with the exit code and both outputs. */
        public String stdoutOrThrow() {
            if (!ok()) {
                throw new IllegalStateException("command failed (exit " + exitCode + "): " + String.join(" ", command)
                        + "\n" + stderr + stdout);
            }
            return stdout;
        }

        @Override
        public String toString() {
            return String.join(" ", command) + ": exit " + exitCode;
        }
    }

    /** Runs {@code command} within {@link #DEFAULT_TIMEOUT_SECONDS}; returns stdout or throws with stderr. */
    public static String run(String... command) {
        return tryRun(command).stdoutOrThrow();
    }

    /** Runs {@code command} within {@link #DEFAULT_TIMEOUT_SECONDS} and returns the result whatever the exit. */
    public static Result tryRun(String... command) {
        return tryRun(Arrays.asList(command), DEFAULT_TIMEOUT_SECONDS);
    }

    /** Runs {@code command} within {@code timeoutSeconds} and returns the result whatever the exit. */
    public static Result tryRun(List<String> command, long timeoutSeconds) {
        List<String> cmd = List.copyOf(command);
        Process process;
        try {
            process = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(DEV_NULL)).start();
        } catch (IOException e) {
            return new Result(cmd, EXIT_NOT_STARTED, "", "cannot start " + cmd.get(0) + ": " + e.getMessage());
        }
        Drainer out = new Drainer(process.getInputStream(), cmd.get(0) + "-stdout");
        Drainer err = new Drainer(process.getErrorStream(), cmd.get(0) + "-stderr");
        int exitCode;
        String note = "";
        try {
            if (process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                exitCode = process.exitValue();
            } else {
                destroyTree(process);
                exitCode = EXIT_TIMED_OUT;
                note = "\ntimed out after " + timeoutSeconds + " s";
            }
        } catch (InterruptedException e) {
            destroyTree(process);
            Thread.currentThread().interrupt();
            exitCode = EXIT_INTERRUPTED;
            note = "\ninterrupted";
        }
        return new Result(cmd, exitCode, out.text(), err.text() + note);
    }

    /**
     * Kills {@code process} and everything it started. The descendants are listed first: once the parent is
     * gone they are re-parented and no longer found.
     */
    private static void destroyTree(Process process) {
        List<ProcessHandle> descendants = process.descendants().toList();
        process.destroyForcibly();
        descendants.forEach(ProcessHandle::destroyForcibly);
        try {
            process.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Copies one stream into memory on a daemon thread until end of file. */
    private static final class Drainer {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final Thread thread;

        Drainer(InputStream in, String name) {
            thread = new Thread(() -> copy(in), "drain-" + name);
            thread.setDaemon(true);
            thread.start();
        }

        private void copy(InputStream in) {
            byte[] chunk = new byte[8192];
            try (in) {
                for (int n; (n = in.read(chunk)) >= 0; ) {
                    bytes.write(chunk, 0, n);
                }
            } catch (IOException e) {
                // The stream broke (process killed): keep what arrived.
            }
        }

        /** What was read, after waiting a little for end of file; {@code ByteArrayOutputStream} is synchronized. */
        String text() {
            try {
                thread.join(DRAIN_GRACE_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return bytes.toString(StandardCharsets.UTF_8);
        }
    }
}
