package dev.nettyoffload.core;

import dev.nettyoffload.testkit.Prerequisites;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Network namespaces, veth pairs and commands for the root-only tests of this package. Root-namespace devices
 * are named {@code nc...} and addresses come from 10.83.200.0/24 to 10.83.249.0/24 and fd83:2xx::/64, chosen from the
 * pid, so concurrent runs by other engineers (who use other 10.83 subnets) do not collide.
 */
public final class NicTestNet implements AutoCloseable {
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final File DEV_NULL = new File("/dev/null");

    private final String name;

    private NicTestNet(String name) {
        this.name = name;
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
    }

    public static Result tryRun(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(DEV_NULL)).start();
            // Tool outputs are small; read them fully, stderr after stdout.
            byte[] out = p.getInputStream().readAllBytes();
            byte[] err = p.getErrorStream().readAllBytes();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(124, "", "timed out: " + String.join(" ", command));
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8),
                    new String(err, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return new Result(127, "", "cannot start " + command[0] + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(130, "", "interrupted");
        }
    }

    public static String run(String... command) {
        Result r = tryRun(command);
        if (r.exitCode != 0) {
            throw new IllegalStateException("command failed (exit " + r.exitCode + "): " + String.join(" ", command)
                    + "\n" + r.stderr + r.stdout);
        }
        return r.stdout;
    }

    /** Root, ip, ethtool and working network namespaces, else skip (fail under OFFLOAD_REQUIRE_ALL=1). */
    public static void requireNetnsAndEthtool() {
        Prerequisites.requireRoot();
        Prerequisites.requireCommand("ip", "iproute2");
        Prerequisites.requireCommand("ethtool", "ethtool");
        String probe = "ncprobe-" + ProcessHandle.current().pid();
        boolean ok = tryRun("ip", "netns", "add", probe).exitCode == 0;
        tryRun("ip", "netns", "del", probe);
        Prerequisites.require(ok, "network namespaces ('ip netns add' failed)");
    }

    /** A root-namespace device name: {@code nc} + a letter + the pid, at most 15 characters. */
    public static String rootDevice(char tag) {
        return "nc" + tag + (ProcessHandle.current().pid() % 1_000_000);
    }

    /** The third octet of a 10.83.X.0/24 subnet for this run; {@code index} 0..4 picks one of five. */
    public static int subnet(int index) {
        return 200 + (int) (ProcessHandle.current().pid() % 10) * 5 + index;
    }

    public static NicTestNet create(String prefix) {
        String name = prefix + "-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet();
        run("ip", "netns", "add", name);
        NicTestNet ns = new NicTestNet(name);
        ns.exec("ip", "link", "set", "lo", "up");
        return ns;
    }

    public String name() {
        return name;
    }

    public String exec(String... command) {
        return run(wrapArray(command));
    }

    public List<String> wrap(String... command) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", name));
        full.addAll(List.of(command));
        return full;
    }

    private String[] wrapArray(String... command) {
        return wrap(command).toArray(new String[0]);
    }

    /** A veth pair: {@code rootEnd} in the root namespace, {@code nsEnd} in this one, both up with addresses. */
    public void vethToRoot(String rootEnd, String rootCidr, String rootCidr6, String nsEnd, String nsCidr, String nsCidr6,
                    int mtu) {
        tryRun("ip", "link", "del", rootEnd);
        run("ip", "link", "add", rootEnd, "mtu", Integer.toString(mtu), "type", "veth", "peer", "name", nsEnd,
                "mtu", Integer.toString(mtu), "netns", name);
        address(null, rootEnd, rootCidr, rootCidr6);
        address(this, nsEnd, nsCidr, nsCidr6);
    }

    /** A veth pair between this namespace and {@code other}. */
    public void veth(String end, String cidr, NicTestNet other, String otherEnd, String otherCidr, int mtu) {
        exec("ip", "link", "add", end, "mtu", Integer.toString(mtu), "type", "veth", "peer", "name", otherEnd,
                "mtu", Integer.toString(mtu), "netns", other.name);
        address(this, end, cidr, null);
        address(other, otherEnd, otherCidr, null);
    }

    private static void address(NicTestNet ns, String device, String cidr, String cidr6) {
        if (cidr != null) {
            runIn(ns, "ip", "addr", "add", cidr, "dev", device);
        }
        if (cidr6 != null) {
            runIn(ns, "ip", "-6", "addr", "add", cidr6, "dev", device, "nodad");
        }
        runIn(ns, "ip", "link", "set", device, "up");
    }

    public static void runIn(NicTestNet ns, String... command) {
        if (ns == null) {
            run(command);
        } else {
            ns.exec(command);
        }
    }

    public long statistic(String device, String counter) {
        return Long.parseLong(exec("cat", "/sys/class/net/" + device + "/statistics/" + counter).trim());
    }

    public static long rootStatistic(String device, String counter) {
        return Long.parseLong(run("cat", "/sys/class/net/" + device + "/statistics/" + counter).trim());
    }

    public ProcessBuilder processBuilder(String... command) {
        return new ProcessBuilder(wrapArray(command));
    }

    @Override
    public void close() {
        tryRun("ip", "netns", "del", name);
    }

    @Override
    public String toString() {
        return name;
    }
}
