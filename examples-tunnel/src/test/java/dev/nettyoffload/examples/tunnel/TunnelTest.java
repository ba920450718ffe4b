package dev.nettyoffload.examples.tunnel;

import dev.nettyoffload.testkit.CommandRunner;
import dev.nettyoffload.testkit.NetNs;
import dev.nettyoffload.testkit.Prerequisites;
import dev.nettyoffload.testkit.TcpTransfer;
import dev.nettyoffload.testkit.TestPacket;
import dev.nettyoffload.tun.TunChannel;
import io.netty.channel.epoll.Epoll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.nettyoffload.examples.tunnel.TunnelPair.count;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The userspace tunnel between two namespaces with real peers on both ends: ping, and iperf3 over the Linux TCP
 * stack in both directions, IPv4 and IPv6; garbage at the tunnel port; TUN offloads refused; the MTU lowered and
 * an endpoint restarted while the tunnel carries traffic. Every test fails if an endpoint JVM reports a leak.
 */
class TunnelTest {
    private static final long BYTES = 40_000_000;

    @BeforeAll
    static void prerequisites() {
        Prerequisites.requireNetns();
        Prerequisites.requireCommand("iperf3", "iperf3");
        Prerequisites.requireCommand("ping", "iputils-ping");
        Prerequisites.requireCommand("python3", "python3");
        Prerequisites.require(TunChannel.isSupported(), "FFM system calls (Java 22+)");
        Prerequisites.requireTransport("epoll", Epoll.unavailabilityCause());
    }

    @Test
    void offloadsOnEndToEnd() throws Exception {
        try (TunnelPair p = TunnelPair.userspace()) {
            ping(p);
            iperf(p, TunnelPair.B_INNER, false);
            Map<String, String> forward = p.stats(1);
            // Each USO send arrives as one UDP_GRO batch: not cut into single datagrams on the way (a batch
            // whose frame reaches gso_max_size is; see UdpLimits.maxSegmentedPayload).
            double perRead = (double) count(forward, "reader.datagrams") / count(forward, "reader.batches");
            assertTrue(perRead >= 4, "datagrams per read " + perRead + ": " + forward);
            assertEquals(0, count(forward, "reader.truncatedReads"), forward.toString());
            iperf(p, TunnelPair.B_INNER, true);
            iperf(p, TunnelPair.B_INNER6, false);
            transfer(p, false, TunnelPair.B_INNER);
            transfer(p, true, TunnelPair.A_INNER);
            transfer(p, false, TunnelPair.B_INNER6);
            Map<String, String> a = p.stats(0);
            Map<String, String> b = p.stats(1);
            // Super-packets from TUN, sent as USO runs, read as UDP_GRO batches, merged and written whole.
            assertTrue(count(a, "tun.gsoReads") > 0, a.toString());
            assertTrue(count(a, "udpBatchSends") > 0, a.toString());
            assertTrue(count(b, "udpBatchReads") > 0, b.toString());
            assertTrue(count(b, "gro.mergedPacketsOut") > 0, b.toString());
            assertTrue(count(b, "tun.gsoWrites") > 0, b.toString());
            assertEquals(0, count(b, "gro.checksumFailures"), b.toString());
            assertEquals(0, count(a, "tun.writeErrors") + count(b, "tun.writeErrors"));
            assertEquals("[CSUM,TSO4,TSO6,USO4,USO6]", a.get("tun.offloads"));
            // Partial inner checksums end to end: flagged by A, trusted by B, written with NEEDS_CSUM.
            assertEquals("PARTIAL", a.get("innerChecksums"));
            assertTrue(count(a, "partialChecksumsSent") > 0, a.toString());
            assertEquals(count(a, "partialChecksumsSent"), count(b, "partialChecksumsReceived"), b.toString());
            assertTrue(count(b, "innerChecksumsVerified") > 0, b.toString());
            assertEquals(0, count(a, "innerChecksumFailures") + count(b, "innerChecksumFailures"));
            System.out.println("A " + a);
            System.out.println("B " + b);
        }
    }

    @Test
    void partialAndCompleteEndpointsInteroperate() throws Exception {
        try (TunnelPair p = TunnelPair.userspace(new String[0], new String[] {"--inner-checksums", "complete"})) {
            ping(p);
            transfer(p, false, TunnelPair.B_INNER);
            transfer(p, true, TunnelPair.A_INNER);
            transfer(p, false, TunnelPair.B_INNER6);
            Map<String, String> a = p.stats(0);
            Map<String, String> b = p.stats(1);
            assertEquals("COMPLETE", b.get("innerChecksums"));
            // B completes what A left partial, and its GRO verifies it; A verifies B's complete checksums.
            assertTrue(count(b, "innerChecksumsCompleted") > 0, b.toString());
            assertEquals(0, count(b, "gro.checksumFailures"), b.toString());
            assertEquals(0, count(b, "partialChecksumsSent"), b.toString());
            assertTrue(count(a, "innerChecksumsVerified") > 0, a.toString());
            assertEquals(0, count(a, "innerChecksumFailures"), a.toString());
            assertEquals(0, count(b, "tun.partialChecksumWrites"), b.toString());
        }
    }

    @Test
    void garbageAtTheTunnelPortIsCountedAndDropped() throws Exception {
        try (TunnelPair p = TunnelPair.userspace()) {
            // Random bytes, a short datagram and a valid header with a non-IP payload, from the peer's namespace.
            p.a.exec("bash", "-c", "for i in $(seq 20); do head -c 300 /dev/urandom > /dev/udp/"
                    + TunnelPair.B_UNDERLAY + "/" + TunnelPair.PORT + "; done; printf 'xy' > /dev/udp/"
                    + TunnelPair.B_UNDERLAY + "/" + TunnelPair.PORT + "; printf 'NO\\001\\000%060d' 0 > /dev/udp/"
                    + TunnelPair.B_UNDERLAY + "/" + TunnelPair.PORT);
            ping(p);
            Map<String, String> b = p.stats(1);
            assertEquals(22, count(b, "garbageTooShort") + count(b, "garbageBadHeader") + count(b, "garbageBadInner"),
                    b.toString());
            assertEquals(1, count(b, "garbageTooShort"), b.toString());
            assertEquals(1, count(b, "garbageBadInner"), b.toString());
            assertEquals(0, count(b, "innerChecksumFailures"), b.toString());
            // A tunnel datagram without the partial flag whose inner UDP checksum is wrong: dropped by B.
            TestPacket spec = new TestPacket();
            spec.tcp = false;
            byte[] inner = spec.build(new byte[100], spec.original()).bytes;
            inner[inner.length - 1] ^= 0x55;
            byte[] datagram = new byte[4 + inner.length];
            datagram[0] = 0x4E;
            datagram[1] = 0x4F;
            datagram[2] = 1;
            System.arraycopy(inner, 0, datagram, 4, inner.length);
            // cat sends a file with one write, so one datagram (printf may write in pieces).
            Path file = Files.createTempFile("tunnel-bad-checksum", ".bin");
            try {
                Files.write(file, datagram);
                p.a.exec("bash", "-c", "cat " + file + " > /dev/udp/" + TunnelPair.B_UNDERLAY + "/" + TunnelPair.PORT);
            } finally {
                Files.delete(file);
            }
            ping(p);
            b = p.stats(1);
            assertEquals(1, count(b, "innerChecksumFailures"), b.toString());
            // The same packet flagged partial, in a datagram without UDP checksum (SO_NO_CHECK, IPv4): nothing
            // verified it, so the socket filter drops it; without the filter B would trust and deliver it.
            datagram[3] = TunnelHeader.FLAG_PARTIAL_CHECKSUM;
            p.a.exec("python3", "-c", "import socket\n"
                    + "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                    + "s.setsockopt(socket.SOL_SOCKET, 11, 1)\n" // SO_NO_CHECK
                    + "s.sendto(bytes.fromhex('" + HexFormat.of().formatHex(datagram) + "'), ('"
                    + TunnelPair.B_UNDERLAY + "', " + TunnelPair.PORT + "))");
            ping(p);
            b = p.stats(1);
            assertEquals(0, count(b, "partialChecksumsReceived"), b.toString());
        }
    }

    @Test
    void tunOffloadsRefusedFallBackToPerPacketIo() throws Exception {
        try (TunnelPair p = TunnelPair.userspace("--tun-offloads", "off")) {
            ping(p);
            iperf(p, TunnelPair.B_INNER, false);
            transfer(p, false, TunnelPair.B_INNER);
            transfer(p, true, TunnelPair.A_INNER);
            Map<String, String> a = p.stats(0);
            Map<String, String> b = p.stats(1);
            assertEquals("[]", a.get("tun.offloads"));
            assertEquals(0, count(a, "tun.gsoReads") + count(b, "tun.gsoReads"));
            assertEquals(0, count(a, "tun.gsoWrites") + count(b, "tun.gsoWrites"));
            // GRO still merges on the UDP side; the TUN channel cuts those packets again, one write per packet.
            assertTrue(count(b, "tun.segmentedWrites") > 0, b.toString());
        }
    }

    @Test
    void perPacketTunnelWithSealedDatagrams() throws Exception {
        String key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        try (TunnelPair p = TunnelPair.userspace("--key", key, "--udp-offloads", "off")) {
            ping(p);
            transfer(p, false, TunnelPair.B_INNER);
            Map<String, String> b = p.stats(1);
            assertEquals(0, count(b, "garbageAuthFailed"), b.toString());
            assertEquals(0, count(b, "udpBatchReads"), b.toString());
        }
    }

    /**
     * The underlay shrinks to 1400 bytes while the tunnel runs, and the TUN devices follow with {@code ip link} to
     * 1320 (the same 80 bytes of overhead as {@link TunnelPair#TUN_MTU}). The endpoints derive nothing from the MTU
     * once up: the kernel sizes TCP segments from the TUN MTU and the encapsulator cuts super-packets at the
     * segment size TUN hands over, so no restart is needed. Had the TUN MTU stayed at 1420, the datagrams would not
     * fit the underlay: their sends fail with {@code EMSGSIZE} and the transfer stalls.
     */
    @Test
    void mtuLoweredWhileTheTunnelRuns() throws Exception {
        try (TunnelPair p = TunnelPair.userspace()) {
            ping(p);
            int underlayMtu = 1400;
            int tunMtu = underlayMtu - (1500 - TunnelPair.TUN_MTU);
            for (NetNs ns : List.of(p.a, p.b)) {
                NetNs.setMtu(ns, "ul0", underlayMtu);
                NetNs.setMtu(ns, "tun0", tunMtu);
            }
            // Don't-fragment pings at the new boundary: the largest passes, one byte more is refused by A's TUN.
            assertTrue(ping(p, TunnelPair.B_INNER, tunMtu - 20 - 8).ok());
            CommandRunner.Result tooLarge = ping(p, TunnelPair.B_INNER, tunMtu - 20 - 8 + 1);
            assertTrue(!tooLarge.ok() && tooLarge.output().contains("mtu=" + tunMtu), tooLarge.toString());
            assertTrue(ping(p, TunnelPair.B_INNER6, tunMtu - 40 - 8).ok());
            assertTrue(!ping(p, TunnelPair.B_INNER6, tunMtu - 40 - 8 + 1).ok());

            Map<String, String> a0 = p.stats(0);
            Map<String, String> b0 = p.stats(1);
            long fragmentsBefore = ipStatistic(p.a, "FragCreates");
            transfer(p, false, TunnelPair.B_INNER);
            transfer(p, false, TunnelPair.B_INNER6);
            Map<String, String> a = p.stats(0);
            Map<String, String> b = p.stats(1);
            // Still the offload path at the new size: super-packets from TUN, USO sends, UDP_GRO reads, merged
            // packets written whole; and no outer datagram fragmented on the way.
            for (String name : List.of("tun.gsoReads", "udpBatchSends")) {
                assertTrue(count(a, name) > count(a0, name), name + ": " + a);
            }
            for (String name : List.of("udpBatchReads", "gro.mergedPacketsOut", "tun.gsoWrites")) {
                assertTrue(count(b, name) > count(b0, name), name + ": " + b);
            }
            assertEquals(fragmentsBefore, ipStatistic(p.a, "FragCreates"));
            assertEquals(0, count(a, "tun.writeErrors") + count(b, "tun.writeErrors"));
            assertEquals(0, count(b, "gro.checksumFailures") + count(b, "innerChecksumFailures"), b.toString());
        }
    }

    /**
     * Endpoint A is stopped (SIGTERM) and started again in the middle of a paced TCP transfer from A to B: its TUN
     * device goes and comes back, the segments in between are lost, and TCP retransmits them once the tunnel is
     * back. Every byte must arrive (SHA-256), the new endpoint must have carried the rest, and neither endpoint
     * JVM may report a leak (TunnelPair.close checks their logs).
     */
    @Test
    void endpointRestartedUnderTraffic() throws Exception {
        try (TunnelPair p = TunnelPair.userspace()) {
            ping(p);
            // Four seconds of sending, at well below what the endpoints carry with paranoid leak detection.
            long bytes = 32L << 20;
            long bytesPerSecond = 8L << 20;
            Process sink = p.b.processBuilder(TcpTransfer.command("serve", "5201").toArray(new String[0]))
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            Process sender = null;
            try {
                BufferedReader received = new BufferedReader(new InputStreamReader(sink.getInputStream(),
                        StandardCharsets.UTF_8));
                assertEquals("LISTENING", received.readLine());
                sender = p.a.processBuilder(TcpTransfer.command("send", TunnelPair.B_INNER, "5201",
                        Long.toString(bytes), Long.toString(bytesPerSecond)).toArray(new String[0]))
                        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
                Thread.sleep(1500);
                long receivedBefore = count(p.stats(1), "innerPacketsReceived");
                assertTrue(receivedBefore > 0 && sender.isAlive(), "no transfer under way at the restart");
                p.restartEndpoint(0);
                assertTrue(sender.waitFor(40, TimeUnit.SECONDS), "transfer did not recover");
                String sent = new String(sender.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                assertTrue(sent.startsWith("bytes=" + bytes + " "), sent);
                assertEquals(sent, received.readLine());
                Map<String, String> a = p.stats(0);
                Map<String, String> b = p.stats(1);
                // The new endpoint's TUN device took the offloads again and carried the rest as super-packets.
                assertEquals("[CSUM,TSO4,TSO6,USO4,USO6]", a.get("tun.offloads"));
                assertTrue(count(a, "tunSuperPacketsIn") > 0 && count(a, "udpBatchSends") > 0, a.toString());
                assertTrue(count(b, "innerPacketsReceived") > receivedBefore, b.toString());
                System.out.println("restarted A " + a);
            } finally {
                if (sender != null) {
                    sender.destroyForcibly().waitFor();
                }
                sink.destroyForcibly().waitFor();
            }
        }
    }

    private static void ping(TunnelPair p) {
        CommandRunner.Result r = p.a.tryExec(List.of("ping", "-c", "3", "-i", "0.2", "-W", "2", TunnelPair.B_INNER),
                20);
        assertTrue(r.ok(), r.toString());
    }

    /** Two pings from A of {@code size} bytes of ICMP payload with the don't-fragment bit (IPv6 never fragments). */
    private static CommandRunner.Result ping(TunnelPair p, String to, int size) {
        return p.a.tryExec(List.of("ping", "-c", "2", "-i", "0.2", "-W", "2", "-M", "do", "-s",
                Integer.toString(size), to), 20);
    }

    /** A count of the {@code Ip:} lines of the namespace's {@code /proc/net/snmp}. */
    private static long ipStatistic(NetNs ns, String name) {
        List<String> ip = ns.exec("cat", "/proc/net/snmp").lines().filter(l -> l.startsWith("Ip:")).toList();
        List<String> names = List.of(ip.get(0).split(" "));
        return Long.parseLong(ip.get(1).split(" ")[names.indexOf(name)]);
    }

    /**
     * Sends {@link #BYTES} pseudo-random bytes over TCP from A to B (B to A when {@code reverse}) with
     * {@link TcpTransfer}, and checks that the receiver got exactly them (length and SHA-256).
     */
    private static void transfer(TunnelPair p, boolean reverse, String server) throws Exception {
        NetNs receiver = reverse ? p.a : p.b;
        NetNs sender = reverse ? p.b : p.a;
        Process sink = receiver.processBuilder(TcpTransfer.command("serve", "5201").toArray(new String[0]))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(sink.getInputStream(),
                    StandardCharsets.UTF_8));
            assertEquals("LISTENING", out.readLine());
            CommandRunner.Result sent = sender.tryExec(
                    TcpTransfer.command("send", server, "5201", Long.toString(BYTES)), 60);
            assertTrue(sent.ok(), sent.toString());
            assertEquals(sent.stdout.trim(), out.readLine());
            assertTrue(sent.stdout.startsWith("bytes=" + BYTES + " "), sent.stdout);
        } finally {
            sink.destroyForcibly().waitFor();
        }
    }

    /** iperf3 for two seconds from A to the server in B (B to A with reverse); returns bits per second. */
    static double iperf(TunnelPair p, String server, boolean reverse) throws Exception {
        Process s = p.b.processBuilder("iperf3", "-s", "-1", "-p", "5299").redirectErrorStream(true).start();
        try {
            Thread.sleep(300);
            List<String> cmd = new java.util.ArrayList<>(List.of("iperf3", "-c", server, "-p", "5299", "-t", "2",
                    "-J"));
            if (reverse) {
                cmd.add("-R");
            }
            CommandRunner.Result r = p.a.tryExec(cmd, 60);
            assertTrue(r.ok(), r.toString());
            Matcher m = Pattern.compile("\"sum_received\":\\s*\\{[^}]*?\"bits_per_second\":\\s*([0-9.e+]+)")
                    .matcher(r.stdout);
            assertTrue(m.find(), r.stdout);
            double bps = Double.parseDouble(m.group(1));
            System.out.printf("iperf3 %s%s: %.2f Gbit/s%n", server, reverse ? " reverse" : "", bps / 1e9);
            assertTrue(bps > 1e6, r.stdout);
            return bps;
        } finally {
            s.destroy();
            s.waitFor();
        }
    }
}
