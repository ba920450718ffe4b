package dev.nettyoffload.testkit;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Checks for what a test needs from the machine (root, commands, transports).
 * <p>
 * A missing prerequisite skips the test with a message, except under {@code OFFLOAD_REQUIRE_ALL=1} (set by
 * {@code .ci/run}), where it fails the test: CI must never pass by skipping.
 */
public final class Prerequisites {
    private Prerequisites() {
    }

    /** Whether missing prerequisites fail rather than skip. */
    public static boolean requireAll() {
        return "1".equals(System.getenv("OFFLOAD_REQUIRE_ALL"));
    }

    /** Skips (or fails under OFFLOAD_REQUIRE_ALL=1) unless {@code condition} holds. */
    public static void require(boolean condition, String missing) {
        if (condition) {
            return;
        }
        if (requireAll()) {
            Assertions.fail("prerequisite missing and OFFLOAD_REQUIRE_ALL=1: " + missing);
        }
        Assumptions.abort("skipped, prerequisite missing: " + missing);
    }

    /**
     * Skips unless the running kernel was built with a feature ({@code CONFIG_...}) that no package can add: a
     * test machine's kernel is what it is. Unlike {@link #require}, this skips even under
     * {@code OFFLOAD_REQUIRE_ALL=1}, with the reason, so the skip shows in the test report.
     */
    public static void requireKernelFeature(boolean present, String missing) {
        Assumptions.assumeTrue(present, () -> "skipped: this kernel lacks " + missing + " (no package can add it)");
    }

    public static boolean isRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return line.split("\\s+")[2].equals("0"); // effective uid
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    public static void requireRoot() {
        require(isRoot(), "root (CAP_NET_ADMIN) is needed for network namespaces and ethtool");
    }

    /** Whether {@code command} is on the PATH (or an absolute path that is executable). */
    public static boolean hasCommand(String command) {
        if (command.startsWith("/")) {
            return Files.isExecutable(Path.of(command));
        }
        String path = System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        for (String dir : (path + ":/usr/sbin:/sbin").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }

    public static void requireCommand(String command, String debianPackage) {
        require(hasCommand(command), "command '" + command + "' (apt-get install " + debianPackage + ")");
    }

    /** Requires a Netty transport, given its name and why it is unavailable ({@code null} when it is available). */
    public static void requireTransport(String displayName, Throwable unavailabilityCause) {
        require(unavailabilityCause == null, displayName + " transport: " + unavailabilityCause);
    }

    /** Root, {@code ip} and a working {@code ip netns add}. */
    public static void requireNetns() {
        requireRoot();
        requireCommand("ip", "iproute2");
        require(NetNs.isSupported(), "network namespaces ('ip netns add' failed)");
    }
}
