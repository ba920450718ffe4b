package dev.nettyoffload.gso;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A network namespace for the kernel differential test, deleted by {@link #close()}. It runs its commands with
 * stdin from /dev/null: the shared {@code testing.Shell} helper asks for {@code Redirect.DISCARD} on stdin,
 * which {@link ProcessBuilder} rejects, so it cannot start processes.
 */
final class TestNamespace implements AutoCloseable {
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final long TIMEOUT_SECONDS = 30;

    private final String name;

    private TestNamespace(String name) {
        this.name = name;
    }

    /** Creates a namespace named {@code prefix-pid-n} with loopback up. */
    static TestNamespace create(String prefix) {
        String n = prefix + "-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet();
        run("ip", "netns", "add", n);
        TestNamespace ns = new TestNamespace(n);
        ns.exec("ip", "link", "set", "lo", "up");
        return ns;
    }

    /** Whether namespaces can be created here. */
    static boolean isSupported() {
        String probe = "pk-probe-" + ProcessHandle.current().pid();
        try {
            run("ip", "netns", "add", probe);
            run("ip", "netns", "del", probe);
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Runs a command to completion; returns stdout, throws with the output on a non-zero exit. */
    static String run(String... command) {
        try {
            File outFile = File.createTempFile("pk-cmd", ".out");
            try {
                Process p = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                        .redirectErrorStream(true).redirectOutput(outFile).start();
                if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new IllegalStateException("timed out: " + String.join(" ", command));
                }
                String out = Files.readString(outFile.toPath(), StandardCharsets.UTF_8);
                if (p.exitValue() != 0) {
                    throw new IllegalStateException("exit " + p.exitValue() + ": " + String.join(" ", command) + "\n"
                            + out);
                }
                return out;
            } finally {
                Files.deleteIfExists(outFile.toPath());
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + Arrays.toString(command), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Runs {@code command} inside this namespace. */
    String exec(String... command) {
        return run(wrap(command));
    }

    /** A process builder for {@code command} inside this namespace, stdin from /dev/null. */
    ProcessBuilder processBuilder(String... command) {
        return new ProcessBuilder(wrap(command)).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    }

    private String[] wrap(String... command) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", name));
        full.addAll(Arrays.asList(command));
        return full.toArray(new String[0]);
    }

    /** Creates a veth pair between two namespaces with IPv4 addresses, MTU, and brings both ends up. */
    static void veth(TestNamespace a, String aDev, String aCidr, TestNamespace b, String bDev, String bCidr, int mtu) {
        a.exec("ip", "link", "add", aDev, "mtu", Integer.toString(mtu), "type", "veth", "peer", "name", bDev,
                "mtu", Integer.toString(mtu), "netns", b.name);
        a.exec("ip", "addr", "add", aCidr, "dev", aDev);
        b.exec("ip", "addr", "add", bCidr, "dev", bDev);
        a.exec("ip", "link", "set", aDev, "up");
        b.exec("ip", "link", "set", bDev, "up");
    }

    @Override
    public void close() {
        try {
            run("ip", "netns", "del", name);
        } catch (RuntimeException ignored) {
            // already gone
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
