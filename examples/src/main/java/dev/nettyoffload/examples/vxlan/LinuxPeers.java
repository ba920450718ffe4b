package dev.nettyoffload.examples.vxlan;

import dev.nettyoffload.core.packet.VxlanHeader;
import dev.nettyoffload.testkit.CommandRunner;
import dev.nettyoffload.testkit.NetNs;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Two Linux VXLAN peers for the gateway (root only): two network namespaces, each joined to the root namespace
 * by a veth pair (the underlay, root ends named {@code vxga…}/{@code vxgb…}) and holding a Linux vxlan device
 * whose remote is the gateway's address on that veth, with an overlay address. Side A is VNI
 * {@value #VNI_A} with overlay {@value #OVERLAY_A}, side B VNI {@value #VNI_B} with overlay
 * {@value #OVERLAY_B}; a gateway built from {@link #segmentA()} and {@link #segmentB()} bridges them.
 * {@link #createKernelVtep} puts the gateway's ends in a third namespace with a Linux bridge and vxlan devices
 * instead: the kernel's VTEP as the benchmark's anchor. {@link #close()} deletes everything. Used by the tests and
 * {@link VxlanGatewayBenchmark}.
 * <p>
 * The peers' vxlan devices have transmit checksum offload turned off ({@code ethtool -K vxlan0 tx off}): a
 * veth hands the gateway's socket the inner packet with only the pseudo-header checksum otherwise
 * (CHECKSUM_PARTIAL never completed on a virtual link), which coalescing rightly refuses. It also turns off
 * the peers' TSO, so the gateway sees MSS-sized frames, as from a real NIC.
 */
public final class LinuxPeers implements AutoCloseable {
    public static final int VNI_A = 100;
    public static final int VNI_B = 200;
    public static final String UNDERLAY_GATEWAY_A = "10.87.241.1";
    public static final String UNDERLAY_PEER_A = "10.87.241.2";
    public static final String UNDERLAY_GATEWAY_B = "10.87.242.1";
    public static final String UNDERLAY_PEER_B = "10.87.242.2";
    public static final String OVERLAY_A = "10.87.243.1";
    public static final String OVERLAY_B = "10.87.243.2";
    /** Outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14) bytes: the overlay MTU is this much smaller. */
    public static final int VXLAN_OVERHEAD = 50;

    private static final Pattern END_OBJECT = Pattern.compile("\"end\"\\s*:\\s*\\{");
    private static final Pattern NUMBER = Pattern.compile("-?[0-9]+(\\.[0-9]+)?(e[+-]?[0-9]+)?");

    private final int mtuA;
    private final int mtuB;
    private NetNs nsA;
    private NetNs nsB;
    /** The kernel VTEP's namespace; null when the gateway runs in this JVM. */
    private NetNs nsGw;

    private LinuxPeers(int mtuA, int mtuB) {
        this.mtuA = mtuA;
        this.mtuB = mtuB;
    }

    /** Creates both peers with the given underlay MTUs for a gateway in this JVM, veth GRO off. */
    public static LinuxPeers create(int underlayMtuA, int underlayMtuB) {
        return create(underlayMtuA, underlayMtuB, false);
    }

    /**
     * Creates both peers with the given underlay MTUs (the overlay MTU is {@value #VXLAN_OVERHEAD} less) for a
     * gateway in this JVM (the root namespace).
     *
     * @param vethGro turn on GRO on every veth end ({@code ethtool -K DEV gro on}), and on the peers' ends turn
     *                TSO off and {@code rx-udp-gro-forwarding} on so that the packets qualify for it: since Linux
     *                5.13 that gives a veth NAPI, so the gateway's UDP_GRO socket gets merged batches and the
     *                peers' vxlan devices merged inner packets; off, every datagram is delivered alone
     * @throws IllegalStateException if a command fails (everything made so far is deleted)
     */
    public static LinuxPeers create(int underlayMtuA, int underlayMtuB, boolean vethGro) {
        return create(underlayMtuA, underlayMtuB, vethGro, false);
    }

    /**
     * Creates both peers as {@link #create(int, int, boolean)} does, but with the underlay ends in a third
     * namespace ({@link #namespaceGateway()}) that holds a Linux VTEP instead of this JVM's gateway: a bridge
     * with two vxlan devices, VNI {@value #VNI_A} toward A and {@value #VNI_B} toward B, on the same underlay
     * addresses and MTUs. The kernel's own forwarding, as the anchor for the gateway's numbers.
     */
    public static LinuxPeers createKernelVtep(int underlayMtuA, int underlayMtuB, boolean vethGro) {
        return create(underlayMtuA, underlayMtuB, vethGro, true);
    }

    private static LinuxPeers create(int underlayMtuA, int underlayMtuB, boolean vethGro, boolean kernelVtep) {
        LinuxPeers p = new LinuxPeers(underlayMtuA, underlayMtuB);
        boolean ok = false;
        try {
            if (kernelVtep) {
                p.nsGw = NetNs.create("vxgw-k");
            }
            p.nsA = NetNs.create("vxgw-a");
            p.side(p.nsA, "vxga", "ula", UNDERLAY_GATEWAY_A, UNDERLAY_PEER_A, VNI_A, OVERLAY_A, underlayMtuA,
                    vethGro);
            p.nsB = NetNs.create("vxgw-b");
            p.side(p.nsB, "vxgb", "ulb", UNDERLAY_GATEWAY_B, UNDERLAY_PEER_B, VNI_B, OVERLAY_B, underlayMtuB,
                    vethGro);
            if (kernelVtep) {
                p.kernelBridge();
            }
            ok = true;
            return p;
        } finally {
            if (!ok) {
                p.close();
            }
        }
    }

    private void side(NetNs ns, String rootTag, String gwEnd, String gatewayIp, String peerIp, int vni,
                      String overlay, int mtu, boolean vethGro) {
        String end;
        if (nsGw == null) {
            end = NetNs.uniqueDeviceName(rootTag);
            NetNs.vethToRoot(end, gatewayIp + "/24", ns, "ul0", peerIp + "/24", mtu);
        } else {
            end = gwEnd;
            NetNs.veth(nsGw, end, gatewayIp + "/24", ns, "ul0", peerIp + "/24", mtu);
        }
        if (vethGro) {
            run(nsGw, "ethtool", "-K", end, "gro", "on");
            // A veth uses its NAPI (and so GRO) only for packets it deems eligible (veth_skb_is_eligible_for_gro,
            // Linux 5.13+): any packet when the sending end has no TSO, else only a UDP socket's own packets when
            // the receiving end forwards UDP GRO. The peers' outer packets come from their vxlan devices, not from a
            // UDP socket: with TSO off on the peer ends (the outer packets are MTU-sized anyway: the vxlan devices
            // have no TSO) they qualify at the gateway; the gateway's USO sends qualify at the peers through
            // rx-udp-gro-forwarding.
            ns.exec("ethtool", "-K", "ul0", "gro", "on", "tso", "off", "rx-udp-gro-forwarding", "on");
        }
        ns.vxlan("vxlan0", vni, peerIp, gatewayIp, VxlanHeader.DEFAULT_PORT, "ul0", mtu - VXLAN_OVERHEAD);
        ns.exec("ethtool", "-K", "vxlan0", "tx", "off");
        NetNs.configure(ns, "vxlan0", overlay + "/24");
    }

    /** The kernel VTEP in {@link #nsGw}: a bridge joining a vxlan device per side, like the gateway's segments. */
    private void kernelBridge() {
        nsGw.exec("ip", "link", "add", "br0", "type", "bridge", "stp_state", "0");
        nsGw.vxlan("vxa", VNI_A, UNDERLAY_GATEWAY_A, UNDERLAY_PEER_A, VxlanHeader.DEFAULT_PORT, "ula",
                mtuA - VXLAN_OVERHEAD);
        nsGw.vxlan("vxb", VNI_B, UNDERLAY_GATEWAY_B, UNDERLAY_PEER_B, VxlanHeader.DEFAULT_PORT, "ulb",
                mtuB - VXLAN_OVERHEAD);
        for (String device : new String[] {"vxa", "vxb"}) {
            nsGw.exec("ip", "link", "set", device, "master", "br0");
            NetNs.configure(nsGw, device, null);
        }
        NetNs.configure(nsGw, "br0", null);
    }

    private static void run(NetNs ns, String... command) {
        if (ns == null) {
            CommandRunner.run(command);
        } else {
            ns.exec(command);
        }
    }

    /** Side A's segment as the gateway sees it. */
    public VxlanSegment segmentA() {
        return segment("a", UNDERLAY_GATEWAY_A, VNI_A, mtuA, UNDERLAY_PEER_A);
    }

    /** Side B's segment as the gateway sees it. */
    public VxlanSegment segmentB() {
        return segment("b", UNDERLAY_GATEWAY_B, VNI_B, mtuB, UNDERLAY_PEER_B);
    }

    private static VxlanSegment segment(String name, String local, int vni, int underlayMtu, String remote) {
        try {
            return new VxlanSegment(name, new InetSocketAddress(InetAddress.getByName(local), VxlanHeader.DEFAULT_PORT),
                    vni, underlayMtu - VXLAN_OVERHEAD, List.of(new InetSocketAddress(InetAddress.getByName(remote),
                    VxlanHeader.DEFAULT_PORT)));
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    public NetNs namespaceA() {
        return nsA;
    }

    public NetNs namespaceB() {
        return nsB;
    }

    /** The kernel VTEP's namespace ({@link #createKernelVtep}), or null. */
    public NetNs namespaceGateway() {
        return nsGw;
    }

    /**
     * Makes B advertise {@code mss} in its SYNs on the overlay (a route with {@code advmss}), as a host behind a
     * gateway that owns the MTU change would: A then sends segments as large as its own MTU allows and the gateway
     * must cut them to B's MTU.
     */
    public void advertiseMssB(int mss) {
        nsB.exec("ip", "route", "replace", "10.87.243.0/24", "dev", "vxlan0", "proto", "kernel", "scope", "link",
                "src", OVERLAY_B, "advmss", Integer.toString(mss));
    }

    /** A counter of {@code /sys/class/net/vxlan0/statistics/} in side B's namespace (for example rx_packets). */
    public long vxlanStatisticB(String counter) {
        return nsB.statistic("vxlan0", counter);
    }

    /** Pings B's overlay address from A; true when {@code count} replies came back. */
    public boolean ping(int count) {
        return nsA.tryExec(List.of("ping", "-c", Integer.toString(count), "-i", "0.2", "-W", "2", OVERLAY_B), 30)
                .ok();
    }

    /** Result of one iperf3 run (client side JSON, with the server's figures iperf3 exchanges at the end). */
    public static final class IperfResult {
        public final long bytesSent;
        public final long bytesReceived;
        public final double bitsPerSecond;
        public final long retransmits;
        public final long packets;
        public final long lostPackets;

        IperfResult(long bytesSent, long bytesReceived, double bitsPerSecond, long retransmits, long packets,
                    long lostPackets) {
            this.bytesSent = bytesSent;
            this.bytesReceived = bytesReceived;
            this.bitsPerSecond = bitsPerSecond;
            this.retransmits = retransmits;
            this.packets = packets;
            this.lostPackets = lostPackets;
        }

        @Override
        public String toString() {
            return String.format("%.2f Gbit/s, %d bytes sent, %d received, %d retransmits, %d packets, %d lost",
                    bitsPerSecond / 1e9, bytesSent, bytesReceived, retransmits, packets, lostPackets);
        }
    }

    /**
     * Runs an iperf3 server in B (one test) and a client in A for {@code seconds}: TCP, or UDP at
     * {@code udpBitsPerSecond} with {@code udpLength}-byte datagrams when that rate is positive.
     */
    public IperfResult iperf3(int seconds, long udpBitsPerSecond, int udpLength)
            throws IOException, InterruptedException {
        Process server = nsB.processBuilder("iperf3", "-s", "-1", "-B", OVERLAY_B).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            waitForListener();
            List<String> cmd = new ArrayList<>(List.of("iperf3", "-c", OVERLAY_B, "-t", Integer.toString(seconds), "-J"));
            if (udpBitsPerSecond > 0) {
                cmd.addAll(List.of("-u", "-b", Long.toString(udpBitsPerSecond), "-l", Integer.toString(udpLength)));
            }
            CommandRunner.Result r = nsA.tryExec(cmd, seconds + 30L);
            if (!r.ok()) {
                throw new IllegalStateException("iperf3 client failed (" + r.exitCode + "): " + r.output());
            }
            return parse(r.stdout, udpBitsPerSecond > 0);
        } finally {
            server.destroy();
            if (!server.waitFor(5, TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
        }
    }

    private void waitForListener() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            CommandRunner.Result r = nsB.tryExec(List.of("ss", "-Hltn", "sport", "=", ":5201"), 10);
            if (r.ok() && !r.stdout.isBlank()) {
                return;
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("iperf3 server did not start in " + nsB);
    }

    static IperfResult parse(String json, boolean udp) {
        // The top-level "end" object is the last "end" whose value is an object (intervals have "end": seconds).
        Matcher m = END_OBJECT.matcher(json);
        int end = -1;
        while (m.find()) {
            end = m.start();
        }
        if (end < 0) {
            throw new IllegalStateException("iperf3 JSON without an \"end\" object: " + json);
        }
        String tail = json.substring(end);
        String sent = object(tail, "sum_sent");
        String received = object(tail, "sum_received");
        if (udp) {
            return new IperfResult(number(sent, "bytes"), number(received, "bytes"),
                    dnumber(received, "bits_per_second"), 0, number(sent, "packets"), number(received, "lost_packets"));
        }
        return new IperfResult(number(sent, "bytes"), number(received, "bytes"), dnumber(received, "bits_per_second"),
                number(sent, "retransmits"), 0, 0);
    }

    private static String object(String json, String key) {
        int k = json.indexOf("\"" + key + "\"");
        if (k < 0) {
            throw new IllegalStateException("iperf3 JSON without \"" + key + "\"");
        }
        int open = json.indexOf('{', k);
        int close = json.indexOf('}', open);
        return json.substring(open, close + 1);
    }

    private static long number(String object, String key) {
        return (long) dnumber(object, key);
    }

    private static double dnumber(String object, String key) {
        int k = object.indexOf("\"" + key + "\"");
        if (k < 0) {
            throw new IllegalStateException("iperf3 JSON without \"" + key + "\" in " + object);
        }
        Matcher m = NUMBER.matcher(object);
        if (!m.find(object.indexOf(':', k) + 1)) {
            throw new IllegalStateException("iperf3 JSON: no number for \"" + key + "\"");
        }
        return Double.parseDouble(m.group());
    }

    /** Deletes the namespaces and their veth pairs. */
    @Override
    public void close() {
        if (nsGw != null) {
            nsGw.close();
        }
        if (nsA != null) {
            nsA.close();
        }
        if (nsB != null) {
            nsB.close();
        }
    }
}
