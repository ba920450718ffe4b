package dev.nettyoffload.examples.vxlan;

import dev.nettyoffload.core.Transport;
import dev.nettyoffload.testkit.Prerequisites;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gateway between two real Linux vxlan peers in network namespaces (root): ping, iperf3 TCP with equal
 * and with different MTUs on the two sides, and an iperf3 UDP stream.
 */
class VxlanGatewayPeerTest {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(VxlanGatewayPeerTest.class);
    private static final int SECONDS = 2;
    private static final long UDP_RATE = 8_000_000L;

    @BeforeEach
    void prerequisites() {
        Prerequisites.requireNetns();
        Prerequisites.requireCommand("iperf3", "iperf3");
        Prerequisites.requireCommand("ethtool", "ethtool");
        Prerequisites.requireCommand("ping", "iputils-ping");
        Prerequisites.requireCommand("ss", "iproute2");
        Prerequisites.requireTransport(Transport.EPOLL.displayName(), Transport.EPOLL.unavailabilityCause());
    }

    @Test
    void pingAndTcpWithGroAndGso() throws Exception {
        // veth GRO on, as in the benchmark: the gateway's socket gets kernel UDP_GRO batches.
        try (LinuxPeers peers = LinuxPeers.create(1500, 1500, true);
             VxlanGateway gateway = new VxlanGateway(Transport.EPOLL, true, peers.segmentA(), peers.segmentB())
                     .start()) {
            assertTrue(peers.ping(3), "ping across the overlay");
            LinuxPeers.IperfResult r = peers.iperf3(SECONDS, 0, 0);
            VxlanGatewayCounters c = gateway.counters();
            logger.info("TCP 1450/1450: {}; {}", r, c);
            assertTcpCompleted(r);
            assertTrue(c.mergeRatio() > 1.0, "merge ratio > 1: " + c);
            assertTrue(c.mergedPacketsOut() > 0, "merged packets: " + c);
            assertTrue(c.datagramsPerWrite() > 1.0, "outer USO batches: " + c);
            assertEquals(0, c.checksumFailures(), "inner checksum failures: " + c);
            assertTrue(c.framesOut() >= c.framesIn() * 9 / 10, "frames forwarded: " + c);
        }
    }

    @Test
    void tcpAcrossDifferentMtus() throws Exception {
        // Side A jumbo (underlay 9000, overlay 8950), side B 1500 (overlay 1450). B advertises a jumbo MSS (as a
        // host behind a gateway that owns the MTU change would), so A sends segments of up to 8898 payload bytes
        // and the gateway must cut them (single ones and merged runs) to B's 1398-byte MSS.
        try (LinuxPeers peers = LinuxPeers.create(9000, 1500);
             VxlanGateway gateway = new VxlanGateway(Transport.EPOLL, true, peers.segmentA(), peers.segmentB())
                     .start()) {
            peers.advertiseMssB(8898);
            assertTrue(peers.ping(3), "ping across the overlay");
            LinuxPeers.IperfResult r = peers.iperf3(SECONDS, 0, 0);
            VxlanGatewayCounters c = gateway.counters();
            logger.info("TCP 8950/1450: {}; {}", r, c);
            assertTcpCompleted(r);
            assertTrue(c.resegmented() > 0, "re-segmented to the smaller MTU: " + c);
            assertTrue(c.framesOut() > c.framesIn(), "more frames out than in (cut to the smaller MTU): " + c);
            assertEquals(0, c.drops(VxlanDropReason.TOO_BIG), "too-big drops: " + c);
        }
    }

    @Test
    void udpStreamArrivesComplete() throws Exception {
        try (LinuxPeers peers = LinuxPeers.create(1500, 1500);
             VxlanGateway gateway = new VxlanGateway(Transport.EPOLL, true, peers.segmentA(), peers.segmentB())
                     .start()) {
            assertTrue(peers.ping(2), "ping across the overlay");
            long rxBefore = peers.vxlanStatisticB("rx_packets");
            // Paranoid leak detection (every test run) makes the gateway slow: a rate it sustains with ease.
            LinuxPeers.IperfResult r = peers.iperf3(SECONDS, UDP_RATE, 1400);
            VxlanGatewayCounters c = gateway.counters();
            logger.info("UDP {} bit/s: {}; {}", UDP_RATE, r, c);
            assertTrue(r.packets >= SECONDS * UDP_RATE / 8 / 1400 * 9 / 10, "datagrams sent: " + r);
            assertEquals(0, r.lostPackets, "datagrams lost: " + r + "; " + c);
            // iperf3's loss count misses datagrams still in flight when it stops; B's vxlan device counts every
            // frame that reached it: all datagrams sent, plus the two connections' TCP control segments.
            long rx = peers.vxlanStatisticB("rx_packets") - rxBefore;
            assertTrue(rx >= r.packets, "frames received by B's vxlan0 " + rx + " < datagrams sent " + r.packets
                    + "; " + c);
            assertEquals(0, c.totalDrops(), "gateway drops: " + c);
        }
    }

    @Test
    void kernelVtepAnchorPassesTraffic() throws Exception {
        // The benchmark's anchor: A and B joined by a Linux bridge with two vxlan devices in a third namespace.
        try (LinuxPeers peers = LinuxPeers.createKernelVtep(1500, 1500, true)) {
            assertTrue(peers.ping(2), "ping across the kernel VTEP");
            long rxBefore = peers.vxlanStatisticB("rx_packets");
            LinuxPeers.IperfResult r = peers.iperf3(1, 0, 0);
            logger.info("TCP across the kernel VTEP: {}", r);
            assertTcpCompleted(r);
            assertTrue(peers.vxlanStatisticB("rx_packets") - rxBefore > 0, "frames at B's vxlan0");
            String macB = peers.namespaceB().exec("cat", "/sys/class/net/vxlan0/address").trim();
            String fdb = peers.namespaceGateway().exec("bridge", "fdb", "show", "br", "br0");
            assertTrue(fdb.contains(macB + " dev vxb"), "the bridge learned B's MAC " + macB + " on vxb: " + fdb);
        }
    }

    private static void assertTcpCompleted(LinuxPeers.IperfResult r) {
        // Paranoid leak detection (on for every test) costs the gateway most of its speed; the benchmark measures
        // throughput. Here: the transfer completes and moves a real amount of data.
        assertTrue(r.bytesReceived > 500_000L, "bytes received: " + r);
        // No retransmission storm: fewer retransmitted segments than 1 % of the segments sent (about 1400 bytes).
        assertTrue(r.retransmits < r.bytesSent / 1400 / 100 + 10, "retransmits: " + r);
    }
}
