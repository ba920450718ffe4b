package dev.nettyoffload.core.linux;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
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
    private static final long TIMEOUT_SECONDS = 10;
    private static final File DEV_NULL = new File("/dev/null");
    private static final String[] SEARCH_PATH = {"/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin"};

    private final List<String> prefix;
    private final String packageName;

    /**
     * @param prefix      the command and any wrapper around it, e.g. {@code [ethtool]} or
     *                    {@code [setpriv, --reuid=65534, ..., ethtool]}
     * @param packageName the Debian package that provides the tool
     */
    ExternalCommand(List<String> prefix, String packageName) {
        this.prefix = List.copyOf(prefix);
        this.packageName = packageName;
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

    Result run(String... args) {
        List<String> command = new ArrayList<>(prefix);
        String tool = tool();
        if (!tool.contains("/")) {
            // Root's PATH has /usr/sbin, but a service user's often does not; ethtool and ip live there.
            command.set(command.size() - 1, resolve(tool));
        }
        command.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(DEV_NULL)).start();
        } catch (IOException e) {
            throw new OffloadToolException(OffloadToolException.Reason.TOOL_MISSING,
                    "cannot run '" + tool + "' (" + e.getMessage() + "): install the Debian/Ubuntu package '"
                            + packageName + "' (apt-get install " + packageName + ")", e);
        }
        try {
            Collector out = new Collector(p.getInputStream());
            Collector err = new Collector(p.getErrorStream());
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new OffloadToolException(OffloadToolException.Reason.TOOL_FAILED,
                        "'" + String.join(" ", command) + "' did not finish within " + TIMEOUT_SECONDS + " s");
            }
            return new Result(p.exitValue(), out.text(), err.text());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new OffloadToolException(OffloadToolException.Reason.TOOL_FAILED,
                    "interrupted while running '" + String.join(" ", command) + "'", e);
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

    /** Drains a process stream on its own thread so that a full pipe cannot block the tool. */
    private static final class Collector {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final Thread thread;

        Collector(InputStream in) {
            thread = new Thread(() -> {
                try (in) {
                    in.transferTo(bytes);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, "offload-tool-output");
            thread.setDaemon(true);
            thread.start();
        }

        String text() throws InterruptedException {
            thread.join(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));
            synchronized (bytes) {
                return bytes.toString(StandardCharsets.UTF_8);
            }
        }
    }
}
