package dev.nettyoffload.core.linux;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs one of the system tools this module relies on ({@code ethtool}, {@code ip}) with a time limit, and
 * turns "not installed" into an {@link OffloadToolException} naming the Debian package to install.
 */
final class ExternalCommand {
    private static final long DEFAULT_TIMEOUT_SECONDS = 10;
    private static final File DEV_NULL = new File("/dev/null");
    private static final String[] SEARCH_PATH = {"/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin"};

    private final List<String> prefix;
    private final String packageName;
    private final long timeoutSeconds;

    /**
     * @param prefix      the command and any wrapper around it, e.g. {@code [ethtool]} or
     *                    {@code [setpriv, --reuid=65534, ..., ethtool]}
     * @param packageName the Debian package that provides the tool
     */
    ExternalCommand(List<String> prefix, String packageName) {
        this(prefix, packageName, DEFAULT_TIMEOUT_SECONDS);
    }

    ExternalCommand(List<String> prefix, String packageName, long timeoutSeconds) {
        this.prefix = List.copyOf(prefix);
        this.packageName = packageName;
        this.timeoutSeconds = timeoutSeconds;
    }

    /** The tool's name (the last element of the prefix), for messages. */
    String tool() {
        return prefix.get(prefix.size() - 1);
    }

    /** The exit code and output of a finished command. */
    static final class Result {
        final int exitCode;
        final String stdout;
        final String stderr;

        Result(int exitCode, String stdout, String stderr) {
            this.exitCode = exitCode;
            this.stdout = stdout;
            this.stderr = stderr;
        }

        /** The first non-empty line of stderr (or stdout), for messages. */
        String diagnostic() {
            String text = (stderr.isBlank() ? stdout : stderr).strip();
            return text.isEmpty() ? "exit code " + exitCode : text.replace('\n', ';');
        }
    }

    /**
     * Runs the tool with {@code args} and returns its exit code and output.
     *
     * @throws OffloadToolException {@code TOOL_MISSING} if the tool cannot be started, {@code TOOL_FAILED} if it
     *                              does not finish in time or its output cannot be captured
     */
    Result run(String... args) {
        List<String> command = new ArrayList<>(prefix);
        String tool = tool();
        if (!tool.contains("/")) {
            // Root's PATH has /usr/sbin, but a service user's often does not; ethtool and ip live there.
            command.set(command.size() - 1, resolve(tool));
        }
        command.addAll(List.of(args));
        // The tool writes into files rather than pipes: nothing has to read while it runs, so one waitFor
        // bounds the call and a verbose tool cannot block on a full pipe.
        Path stdout = null;
        Path stderr = null;
        try {
            stdout = Files.createTempFile("netty-offload-", ".out");
            stderr = Files.createTempFile("netty-offload-", ".err");
            Process process = start(command, stdout, stderr);
            awaitExit(process, command);
            return new Result(process.exitValue(), read(stdout), read(stderr));
        } catch (IOException e) {
            throw new OffloadToolException(OffloadToolException.Reason.TOOL_FAILED,
                    "cannot capture the output of '" + String.join(" ", command) + "': " + e.getMessage(), e);
        } finally {
            deleteIfPresent(stdout);
            deleteIfPresent(stderr);
        }
    }

    private Process start(List<String> command, Path stdout, Path stderr) {
        try {
            return new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(DEV_NULL))
                    .redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
        } catch (IOException e) {
            throw new OffloadToolException(OffloadToolException.Reason.TOOL_MISSING,
                    "cannot run '" + tool() + "' (" + e.getMessage() + "): install the Debian/Ubuntu package '"
                            + packageName + "' (apt-get install " + packageName + ")", e);
        }
    }

    private void awaitExit(Process process, List<String> command) {
        String failure;
        Throwable cause = null;
        try {
            if (process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                return;
            }
            failure = "'" + String.join(" ", command) + "' did not finish within " + timeoutSeconds + " s";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failure = "interrupted while running '" + String.join(" ", command) + "'";
            cause = e;
        }
        // Whatever the tool started goes too; list it before the tool dies and its children are re-parented.
        List<ProcessHandle> children = process.descendants().toList();
        process.destroyForcibly();
        children.forEach(ProcessHandle::destroyForcibly);
        throw new OffloadToolException(OffloadToolException.Reason.TOOL_FAILED, failure, cause);
    }

    /** The file's text; bytes that are not UTF-8 become U+FFFD rather than failing the call. */
    private static String read(Path file) throws IOException {
        return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
    }

    private static void deleteIfPresent(Path file) {
        if (file == null) {
            return;
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // A leftover file in the temporary directory is harmless; the result (or failure) matters more.
        }
    }

    private static String resolve(String tool) {
        String path = System.getenv("PATH");
        List<String> dirs = new ArrayList<>();
        if (path != null) {
            dirs.addAll(List.of(path.split(":")));
        }
        dirs.addAll(List.of(SEARCH_PATH));
        for (String dir : dirs) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return Path.of(dir, tool).toString();
            }
        }
        return tool;
    }
}
