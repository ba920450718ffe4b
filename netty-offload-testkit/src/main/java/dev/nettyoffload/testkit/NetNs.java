package dev.nettyoffload.testkit;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A network namespace made by a test and deleted by {@link #close()}, plus helpers to wire it with veth.
 * <p>
 * Names carry the JVM's pid so that parallel or crashed runs never collide; addresses used with these
 * namespaces must be ones the test itself assigned.
 */
public final class NetNs implements AutoCloseable {
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static volatile Boolean supported;

    private final String name;

    private NetNs(String name) {
        this.name = name;
    }

    /** Creates a fresh namespace with loopback up. */
    public static NetNs create(String prefix) {
        String name = prefix + "-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet();
        Shell.run("ip", "netns", "add", name);
        NetNs ns = new NetNs(name);
        ns.exec("ip", "link", "set", "lo", "up");
        return ns;
    }

    /** Whether this process can create network namespaces. */
    public static boolean isSupported() {
        Boolean s = supported;
        if (s == null) {
            String probe = "nsprobe-" + ProcessHandle.current().pid();
            s = Shell.tryRun("ip", "netns", "add", probe).ok();
            if (s) {
                Shell.tryRun("ip", "netns", "del", probe);
            }
            supported = s;
        }
        return s;
    }

    public String name() {
        return name;
    }

    /** Runs {@code command} inside this namespace; returns stdout or throws with stderr. */
    public String exec(String... command) {
        return Shell.run(wrap(command));
    }

    /** Runs {@code command} inside this namespace and returns the result whatever the exit code. */
    public Shell.Result tryExec(String... command) {
        return Shell.tryRun(wrap(command));
    }

    /** Starts {@code command} inside this namespace without waiting for it. */
    public ProcessBuilder processBuilder(String... command) {
        return new ProcessBuilder(wrap(command));
    }

    /** Starts a Java main class of the current class path inside this namespace. */
    public ProcessBuilder javaProcess(Class<?> mainClass, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(System.getProperty("java.home") + "/bin/java");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass.getName());
        cmd.addAll(Arrays.asList(args));
        return processBuilder(cmd.toArray(new String[0]));
    }

    /** A counter of {@code /sys/class/net/DEV/statistics/} as seen inside this namespace. */
    public long statistic(String device, String counter) {
        return Long.parseLong(exec("cat", "/sys/class/net/" + device + "/statistics/" + counter).trim());
    }

    private String[] wrap(String... command) {
        String[] full = new String[command.length + 4];
        full[0] = "ip";
        full[1] = "netns";
        full[2] = "exec";
        full[3] = name;
        System.arraycopy(command, 0, full, 4, command.length);
        return full;
    }

    /**
     * Creates a veth pair with {@code rootEnd} in the root namespace (where the test JVM runs) and
     * {@code nsEnd} in {@code ns}, assigns the given CIDR addresses (IPv4 or IPv6, null to skip), sets the
     * MTU and brings both ends up. IPv6 duplicate address detection is turned off so addresses work at once.
     */
    public static void vethToRoot(String rootEnd, String rootCidr, NetNs ns, String nsEnd, String nsCidr, int mtu) {
        Shell.tryRun("ip", "link", "del", rootEnd);
        Shell.run("ip", "link", "add", rootEnd, "mtu", Integer.toString(mtu), "type", "veth",
                "peer", "name", nsEnd, "mtu", Integer.toString(mtu), "netns", ns.name());
        configure(null, rootEnd, rootCidr);
        configure(ns, nsEnd, nsCidr);
    }

    /** Creates a veth pair between two namespaces, like {@link #vethToRoot}. */
    public static void veth(NetNs a, String aEnd, String aCidr, NetNs b, String bEnd, String bCidr, int mtu) {
        a.exec("ip", "link", "add", aEnd, "mtu", Integer.toString(mtu), "type", "veth",
                "peer", "name", bEnd, "mtu", Integer.toString(mtu), "netns", b.name());
        configure(a, aEnd, aCidr);
        configure(b, bEnd, bCidr);
    }

    /** Adds an address (with nodad for IPv6) and brings the device up, in {@code ns} or the root namespace. */
    public static void configure(NetNs ns, String device, String cidr) {
        if (cidr != null) {
            List<String> cmd = new ArrayList<>(List.of("ip", "addr", "add", cidr, "dev", device));
            if (cidr.contains(":")) {
                cmd.add("nodad");
            }
            run(ns, cmd.toArray(new String[0]));
        }
        run(ns, "ip", "link", "set", device, "up");
    }

    private static void run(NetNs ns, String... command) {
        if (ns == null) {
            Shell.run(command);
        } else {
            ns.exec(command);
        }
    }

    @Override
    public void close() {
        Shell.tryRun("ip", "netns", "del", name);
    }

    @Override
    public String toString() {
        return name;
    }
}
