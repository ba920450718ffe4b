package dev.nettyoffload.benchmarks.harness;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Short external commands (ip, gcc) with a time limit. */
final class Commands {
    private Commands() {
    }

    /** The outcome of a finished command; {@code output} is stdout and stderr together. */
    static final class Result {
        final int exitCode;
        final String output;

        Result(int exitCode, String output) {
            this.exitCode = exitCode;
            this.output = output;
        }

        boolean ok() {
            return exitCode == 0;
        }
    }

    static Result tryRun(String... command) {
        return tryRun(Arrays.asList(command), 60);
    }

    static Result tryRun(List<String> command, long timeoutSeconds) {
        Path out = null;
        try {
            out = Files.createTempFile("harness-cmd", ".out");
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(out.toFile()).redirectInput(new File("/dev/null")).start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
                return new Result(124, "timed out after " + timeoutSeconds + " s");
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return new Result(127, "cannot run " + command.get(0) + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(130, "interrupted");
        } finally {
            if (out != null) {
                try {
                    Files.deleteIfExists(out);
                } catch (IOException e) {
                    // A temp file left behind is harmless.
                }
            }
        }
    }

    static String run(String... command) {
        Result r = tryRun(command);
        if (!r.ok()) {
            throw new IllegalStateException(String.join(" ", command) + " failed (exit " + r.exitCode + "): "
                    + r.output.trim());
        }
        return r.output;
    }

    /** Whether {@code command} is an executable on the PATH (or the sbin directories). */
    static boolean exists(String command) {
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        for (String dir : (path + ":/usr/sbin:/sbin").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }

    static boolean isRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return line.split("\\s+")[2].equals("0");
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }
}
