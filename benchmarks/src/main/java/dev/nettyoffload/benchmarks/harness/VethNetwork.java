package dev.nettyoffload.benchmarks.harness;

/**
 * A veth pair from the root namespace (the sender's side) into a network namespace made for this run (the
 * receiver's side), with addresses from 10.84.0.0/16. {@link #close()} deletes both, and so does the harness's
 * shutdown hook if the JVM is stopped.
 */
final class VethNetwork implements AutoCloseable {
    /** Standard Ethernet MTU: 1400-byte payloads fit with IPv4 and IPv6 headers. */
    static final int MTU = 1500;

    final String namespace;
    final String rootDevice;
    final String senderAddress;
    final String receiverAddress;
    private volatile boolean closed;

    private VethNetwork(String namespace, String rootDevice, String senderAddress, String receiverAddress) {
        this.namespace = namespace;
        this.rootDevice = rootDevice;
        this.senderAddress = senderAddress;
        this.receiverAddress = receiverAddress;
    }

    /** Why a veth network cannot be made here, or {@code null} when it can be tried. */
    static String unavailabilityReason() {
        if (!Commands.isRoot()) {
            return "needs root (CAP_NET_ADMIN) for a network namespace and a veth pair; run as root to include it";
        }
        if (!Commands.exists("ip")) {
            return "needs the 'ip' command (apt-get install iproute2)";
        }
        return null;
    }

    static VethNetwork create() {
        long pid = ProcessHandle.current().pid();
        String id = Long.toString(pid % 1_000_000);
        // Root-namespace device names start with "bm" and stay within IFNAMSIZ - 1 = 15 characters.
        String rootDevice = "bm" + id + "t";
        String nsDevice = "bm" + id + "r";
        int subnet = 160 + (int) (pid % 90);
        String sender = "10.84." + subnet + ".1";
        String receiver = "10.84." + subnet + ".2";
        VethNetwork net = new VethNetwork("bmbench-" + id, rootDevice, sender, receiver);
        Harness.registerForShutdown(net);
        try {
            Commands.run("ip", "netns", "add", net.namespace);
            Commands.run("ip", "netns", "exec", net.namespace, "ip", "link", "set", "lo", "up");
            Commands.run("ip", "link", "add", rootDevice, "mtu", Integer.toString(MTU), "type", "veth",
                    "peer", "name", nsDevice, "mtu", Integer.toString(MTU), "netns", net.namespace);
            Commands.run("ip", "addr", "add", sender + "/30", "dev", rootDevice);
            Commands.run("ip", "link", "set", rootDevice, "up");
            Commands.run("ip", "netns", "exec", net.namespace, "ip", "addr", "add", receiver + "/30", "dev",
                    nsDevice);
            Commands.run("ip", "netns", "exec", net.namespace, "ip", "link", "set", nsDevice, "up");
            return net;
        } catch (RuntimeException e) {
            net.close();
            throw e;
        }
    }

    /** {@code ip netns exec NAMESPACE}, to put in front of a command that must run on the receiver's side. */
    String[] execPrefix() {
        return new String[] {"ip", "netns", "exec", namespace};
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Commands.tryRun("ip", "link", "del", rootDevice);
        Commands.tryRun("ip", "netns", "del", namespace);
        Harness.unregisterForShutdown(this);
    }
}
