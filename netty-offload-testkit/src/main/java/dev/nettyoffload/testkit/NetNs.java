package dev.nettyoffload.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A network namespace made by a test (or a benchmark), with helpers to wire it: veth pairs to another namespace
 * or to the root namespace, vxlan devices, addresses, MTUs, and interface counters.
 * <p>
 * {@link #close()} deletes the namespace and the root-namespace veth ends made for it; a shutdown hook closes
 * those still open when the JVM exits, so an aborted run leaves nothing behind. Names carry the JVM's pid so that
 * parallel runs never collide; {@link #uniqueDeviceName} does the same for root-namespace devices. Wherever a
 * method takes a {@code NetNs}, {@code null} means the root namespace.
 */
public final class NetNs implements AutoCloseable {
    /** IFNAMSIZ - 1: the longest Linux interface name. */
    private static final int MAX_DEVICE_NAME = 15;
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final Set<NetNs> OPEN = ConcurrentHashMap.newKeySet();
    private static final AtomicBoolean HOOK_ADDED = new AtomicBoolean();
    private static volatile Boolean supported;

    private final String name;
    private final List<String> rootDevices = new CopyOnWriteArrayList<>();
    private final AtomicBoolean closed = new AtomicBoolean();

    private NetNs(String name) {
        this.name = name;
    }

    /** Creates a fresh namespace named {@code PREFIX-PID-N} with loopback up. */
    public static NetNs create(String prefix) {
        NetNs ns = new NetNs(prefix + "-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet());
        if (HOOK_ADDED.compareAndSet(false, true)) {
            Runtime.getRuntime().addShutdownHook(new Thread(NetNs::closeAll, "netns-cleanup"));
        }
        OPEN.add(ns);
        boolean ok = false;
        try {
            CommandRunner.run("ip", "netns", "add", ns.name);
            ns.exec("ip", "link", "set", "lo", "up");
            ok = true;
            return ns;
        } finally {
            if (!ok) {
                ns.close();
            }
        }
    }

    /** Whether this process can create network namespaces. */
    public static boolean isSupported() {
        Boolean s = supported;
        if (s == null) {
            String probe = "nsprobe-" + ProcessHandle.current().pid();
            s = CommandRunner.tryRun("ip", "netns", "add", probe).ok();
            if (s) {
                CommandRunner.tryRun("ip", "netns", "del", probe);
            }
            supported = s;
        }
        return s;
    }

    /**
     * {@code tag} followed by this JVM's pid: a root-namespace device name no concurrent run uses.
     *
     * @throws IllegalArgumentException if the name would be longer than Linux allows (15 characters)
     */
    public static String uniqueDeviceName(String tag) {
        String device = tag + ProcessHandle.current().pid();
        if (device.length() > MAX_DEVICE_NAME) {
            throw new IllegalArgumentException("device name " + device + " is longer than " + MAX_DEVICE_NAME
                    + " characters: shorten the tag '" + tag + "'");
        }
        return device;
    }

    /**
     * Number {@code index} of block {@code pid % blocks}, where block {@code k} holds the {@code width} numbers
     * from {@code first + k * width}: for subnets (or ports) in the root namespace that concurrent JVMs do not
     * share, as long as fewer than {@code blocks} run at once.
     */
    public static int perProcess(int first, int blocks, int width, int index) {
        if (index < 0 || index >= width) {
            throw new IllegalArgumentException("index: " + index + " (expected 0 to " + (width - 1) + ")");
        }
        return first + (int) (ProcessHandle.current().pid() % blocks) * width + index;
    }

    public String name() {
        return name;
    }

    /** {@code command} prefixed with {@code ip netns exec NAME}, to run it inside this namespace. */
    public List<String> command(String... command) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", name));
        full.addAll(Arrays.asList(command));
        return full;
    }

    /** Runs {@code command} inside this namespace; returns stdout or throws with stderr. */
    public String exec(String... command) {
        return tryExec(command).stdoutOrThrow();
    }

    /** Runs {@code command} inside this namespace and returns the result whatever the exit code. */
    public CommandRunner.Result tryExec(String... command) {
        return CommandRunner.tryRun(command(command), CommandRunner.DEFAULT_TIMEOUT_SECONDS);
    }

    /** Runs {@code command} inside this namespace within {@code timeoutSeconds}, whatever the exit code. */
    public CommandRunner.Result tryExec(List<String> command, long timeoutSeconds) {
        return CommandRunner.tryRun(command(command.toArray(new String[0])), timeoutSeconds);
    }

    /** A process builder for {@code command} inside this namespace, for commands that run alongside the test. */
    public ProcessBuilder processBuilder(String... command) {
        return new ProcessBuilder(command(command));
    }

    /** A process builder for a Java main class of the current class path inside this namespace. */
    public ProcessBuilder javaProcess(Class<?> mainClass, String... args) {
        List<String> cmd = new ArrayList<>(List.of(System.getProperty("java.home") + "/bin/java", "-cp",
                System.getProperty("java.class.path"), mainClass.getName()));
        cmd.addAll(Arrays.asList(args));
        return processBuilder(cmd.toArray(new String[0]));
    }

    /** A counter of {@code /sys/class/net/DEVICE/statistics/} (for example tx_packets) inside this namespace. */
    public long statistic(String device, String counter) {
        return Long.parseLong(exec("cat", statisticPath(device, counter).toString()).trim());
    }

    /** A counter of {@code /sys/class/net/DEVICE/statistics/} in the root namespace. */
    public static long rootStatistic(String device, String counter) {
        try {
            return Long.parseLong(Files.readString(statisticPath(device, counter)).trim());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path statisticPath(String device, String counter) {
        return Path.of("/sys/class/net", device, "statistics", counter);
    }

    /**
     * Creates a veth pair with {@code rootEnd} in the root namespace (where the test JVM runs) and {@code nsEnd}
     * in {@code ns}, with MTU {@code mtu}, assigns the addresses (CIDR, IPv4 or IPv6; null to skip) and brings
     * both ends up. A stale {@code rootEnd} is deleted first; {@code ns.close()} deletes the new one.
     */
    public static void vethToRoot(String rootEnd, String rootCidr, NetNs ns, String nsEnd, String nsCidr, int mtu) {
        CommandRunner.tryRun("ip", "link", "del", rootEnd);
        ns.rootDevices.add(rootEnd);
        CommandRunner.run("ip", "link", "add", rootEnd, "mtu", Integer.toString(mtu), "type", "veth",
                "peer", "name", nsEnd, "mtu", Integer.toString(mtu), "netns", ns.name);
        configure(null, rootEnd, rootCidr);
        configure(ns, nsEnd, nsCidr);
    }

    /** Creates a veth pair between two namespaces, like {@link #vethToRoot}. */
    public static void veth(NetNs a, String aEnd, String aCidr, NetNs b, String bEnd, String bCidr, int mtu) {
        a.exec("ip", "link", "add", aEnd, "mtu", Integer.toString(mtu), "type", "veth",
                "peer", "name", bEnd, "mtu", Integer.toString(mtu), "netns", b.name);
        configure(a, aEnd, aCidr);
        configure(b, bEnd, bCidr);
    }

    /**
     * Creates a vxlan device in this namespace for VNI {@code vni} over {@code underlay}, sending to
     * {@code remote} from {@code local} on UDP port {@code port}, with MTU {@code mtu}; it stays down until
     * {@link #configure}d.
     */
    public void vxlan(String device, int vni, String local, String remote, int port, String underlay, int mtu) {
        exec("ip", "link", "add", device, "mtu", Integer.toString(mtu), "type", "vxlan", "id", Integer.toString(vni),
                "remote", remote, "local", local, "dstport", Integer.toString(port), "dev", underlay);
    }

    /** Adds an address (null to skip) and brings {@code device} up, in {@code ns} or the root namespace. */
    public static void configure(NetNs ns, String device, String cidr) {
        if (cidr != null) {
            addAddress(ns, device, cidr);
        }
        run(ns, "ip", "link", "set", device, "up");
    }

    /** Adds an address (CIDR) to {@code device}; IPv6 ones skip duplicate address detection, so they work at once. */
    public static void addAddress(NetNs ns, String device, String cidr) {
        if (cidr.contains(":")) {
            run(ns, "ip", "-6", "addr", "add", cidr, "dev", device, "nodad");
        } else {
            run(ns, "ip", "addr", "add", cidr, "dev", device);
        }
    }

    /** Sets the MTU of {@code device} in {@code ns} or the root namespace. */
    public static void setMtu(NetNs ns, String device, int mtu) {
        run(ns, "ip", "link", "set", device, "mtu", Integer.toString(mtu));
    }

    private static void run(NetNs ns, String... command) {
        if (ns == null) {
            CommandRunner.run(command);
        } else {
            ns.exec(command);
        }
    }

    /** Deletes the root-namespace veth ends made for this namespace, then the namespace; runs once. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        // Deleting a namespace deletes its veth pairs too, but asynchronously: delete the root ends now so a
        // test that reuses a device name or checks for leftovers does not race the kernel.
        for (String device : rootDevices) {
            CommandRunner.tryRun("ip", "link", "del", device);
        }
        CommandRunner.tryRun("ip", "netns", "del", name);
        OPEN.remove(this);
    }

    private static void closeAll() {
        for (NetNs ns : OPEN) {
            ns.close();
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
