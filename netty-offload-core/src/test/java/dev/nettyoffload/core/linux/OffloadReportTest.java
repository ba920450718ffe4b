package dev.nettyoffload.core.linux;

import dev.nettyoffload.core.DatagramReader;
import dev.nettyoffload.core.OffloadCapabilities;
import dev.nettyoffload.core.Transport;
import dev.nettyoffload.core.uring.IoUringDatagramReader;
import dev.nettyoffload.testkit.Prerequisites;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.EnumMap;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The decisions of {@link OffloadReport} over recorded device states, and the real report for loopback. */
class OffloadReportTest {
    private static final OffloadCapabilities FULL = new OffloadCapabilities("test", new EnumMap<>(Transport.class), 128, null, true, null);
    private static final DeviceLimits LIMITS =
            DeviceLimits.parse("ncrec0", TestResources.read("ip-link-show-veth.json"));

    private static OffloadReport veth(String featuresResource, Transport transport) throws Exception {
        InetAddress dst = InetAddress.getByName("10.83.250.2");
        EgressRoute route = EgressRoute.parse(dst, TestResources.read("ip-route-get-veth4.json"));
        NicFeatures features = NicFeatures.parse("ncrec0", TestResources.read(featuresResource), LIMITS);
        return OffloadReport.create(dst, transport, FULL, route, null, features, null);
    }

    @Test
    void vethWithEverythingOn() throws Exception {
        OffloadReport r = veth("ethtool-k-veth.txt", Transport.EPOLL);
        assertEquals(OffloadLayer.NIC, r.udpSegmentation().layer());
        assertTrue(r.udpSegmentation().reason().startsWith("ncrec0 has tx-udp-segmentation on"), r.toString());
        assertEquals(OffloadLayer.NIC, r.tcpSegmentation().layer());
        assertTrue(r.tcpSegmentation().reason().contains("tx-tcp-segmentation on"), r.toString());
        assertTrue(r.tcpSegmentation().reason().contains("65536 bytes"), r.toString());
        // veth has GRO off by default: the kernel merges nothing, so GroAggregator must.
        assertEquals(OffloadLayer.SOFTWARE, r.udpCoalescing().layer());
        assertEquals(OffloadLayer.NONE, r.tcpCoalescing().layer());
    }

    @Test
    void checksumOffTurnsNicSegmentationIntoKernelGso() throws Exception {
        OffloadReport r = veth("ethtool-k-veth-csum-off.txt", Transport.EPOLL);
        assertEquals(OffloadLayer.KERNEL, r.udpSegmentation().layer());
        assertEquals("ncrec0: tx-udp-segmentation off [requested on], held off because TX checksum offload is "
                + "off; the kernel's GSO layer cuts each UDP_SEGMENT send just before the driver (one trip down "
                + "the stack per send)", r.udpSegmentation().reason());
        assertEquals(OffloadLayer.KERNEL, r.tcpSegmentation().layer());
        assertTrue(r.tcpSegmentation().reason().contains("generic-segmentation-offload on"), r.toString());
    }

    @Test
    void transportsWithoutKernelPaths() throws Exception {
        OffloadReport nio = veth("ethtool-k-veth.txt", Transport.NIO);
        assertEquals(OffloadLayer.SOFTWARE, nio.udpSegmentation().layer());
        assertTrue(nio.udpSegmentation().reason().startsWith("NIO cannot pass a segment size"), nio.toString());
        assertEquals(OffloadLayer.SOFTWARE, nio.udpCoalescing().layer());
        // TCP is segmented by the kernel and NIC whatever the transport.
        assertEquals(OffloadLayer.NIC, nio.tcpSegmentation().layer());
        assertEquals(DatagramReader.NETTY, nio.datagramReader().reader());
        assertTrue(nio.toString().contains("UDP reader       Netty's reader: NIO has no kernel batch receive"),
                nio.toString());
        // io_uring receives kernel batches through IoUringDatagramReader where it can run.
        OffloadReport uring = veth("ethtool-k-veth.txt", Transport.IO_URING);
        if (IoUringDatagramReader.isSupported()) {
            assertEquals(DatagramReader.IO_URING, uring.datagramReader().reader(), uring.toString());
            // UDP_GRO is on, so what the device does decides (this veth has GRO off).
            assertTrue(uring.udpCoalescing().reason().contains("generic-receive-offload off"), uring.toString());
        } else {
            assertEquals(OffloadLayer.SOFTWARE, uring.udpCoalescing().layer(), uring.toString());
            assertTrue(uring.udpCoalescing().reason().startsWith("no UDP_GRO receive path on io_uring"),
                    uring.toString());
        }
    }

    @Test
    void kernelWithoutUdpSegment() throws Exception {
        InetAddress dst = InetAddress.getByName("10.83.250.2");
        OffloadCapabilities old = new OffloadCapabilities("4.14", new EnumMap<>(Transport.class), 0, "EINVAL from setsockopt", false,
                "ENOPROTOOPT");
        OffloadReport r = OffloadReport.create(dst, Transport.EPOLL, old,
                EgressRoute.parse(dst, TestResources.read("ip-route-get-veth4.json")), null, null, "x");
        assertEquals(OffloadLayer.SOFTWARE, r.udpSegmentation().layer());
        assertTrue(r.udpSegmentation().reason().contains("EINVAL from setsockopt"), r.toString());
        assertTrue(r.udpCoalescing().reason().contains("ENOPROTOOPT"), r.toString());
    }

    @Test
    void unknownFeaturesAreReportedNotThrown() throws Exception {
        InetAddress dst = InetAddress.getByName("10.83.9.9");
        OffloadReport r = OffloadReport.create(dst, Transport.EPOLL, FULL, null, "no route to 10.83.9.9: x",
                null, "the output device is unknown because the route is");
        assertNull(r.route());
        assertEquals(OffloadLayer.UNKNOWN, r.udpSegmentation().layer());
        assertEquals(OffloadLayer.UNKNOWN, r.tcpSegmentation().layer());
        assertEquals(OffloadLayer.UNKNOWN, r.udpCoalescing().layer());
        assertEquals(OffloadLayer.UNKNOWN, r.tcpCoalescing().layer());
        String text = r.toString();
        assertTrue(text.contains("  route            unknown: no route to 10.83.9.9: x\n"), text);
        assertTrue(text.contains("  device features  unknown: the output device is unknown"), text);
    }

    @Test
    void toStringIsOneLinePerQuestion() throws Exception {
        String text = veth("ethtool-k-veth.txt", Transport.EPOLL).toString();
        String[] lines = text.split("\n");
        assertEquals(8, lines.length, text);
        assertEquals("Offload report for 10.83.250.2 over epoll", lines[0]);
        assertTrue(lines[2].contains("tx-udp-segmentation on"), text);
        assertTrue(lines[3].startsWith("  UDP send         NIC: "), text);
        assertTrue(lines[4].startsWith("  TCP send         NIC: "), text);
        assertTrue(lines[5].startsWith("  UDP receive      software (netty-offload): "), text);
        assertTrue(lines[6].startsWith("  UDP reader       "), text);
        assertTrue(lines[7].startsWith("  TCP receive      none: "), text);
    }

    @Test
    void missingToolsGiveUnknownWithTheReason() {
        ExternalCommand noIp = new ExternalCommand(List.of("/nonexistent/sbin/ip"), "iproute2");
        OffloadReport noRoute = OffloadReport.forDestination(InetAddress.getLoopbackAddress(), Transport.NIO, noIp,
                Ethtool.system());
        assertNull(noRoute.route());
        assertTrue(noRoute.routeProblem().contains("apt-get install iproute2"), noRoute.toString());
        assertEquals(OffloadLayer.UNKNOWN, noRoute.tcpSegmentation().layer());

        Prerequisites.requireCommand("ip", "iproute2");
        Ethtool noEthtool = new Ethtool(new ExternalCommand(List.of("/nonexistent/sbin/ethtool"), "ethtool"),
                new ExternalCommand(List.of("ip"), "iproute2"));
        InetAddress anyRouted = InetAddress.getLoopbackAddress();
        OffloadReport noFeatures = OffloadReport.forDestination(anyRouted, Transport.NIO,
                new ExternalCommand(List.of("ip"), "iproute2"), noEthtool);
        assertEquals("lo", noFeatures.route().device(), noFeatures.toString());
        assertNull(noFeatures.features());
        assertTrue(noFeatures.featuresProblem().contains("apt-get install ethtool"), noFeatures.toString());
        assertTrue(noFeatures.toString().contains("device features  unknown: cannot run"), noFeatures.toString());
    }

    @Test
    void reportAsyncLogsTheReportOnlyWhenEnabled() throws Exception {
        List<String> logged = new java.util.concurrent.CopyOnWriteArrayList<>();
        OffloadReport report = OffloadReport.reportAsync(true, logged::add, InetAddress.getLoopbackAddress(),
                Transport.NIO).get(30, java.util.concurrent.TimeUnit.SECONDS);
        assertEquals(List.of(report.toString()), logged);
        assertNull(OffloadReport.reportAsync(false, logged::add, InetAddress.getLoopbackAddress(), Transport.NIO)
                .get());
        assertEquals(1, logged.size());
    }

    @Test
    void realLoopbackReport() {
        // Needs ip and ethtool to say anything about the device, but never throws without them.
        OffloadReport r = OffloadReport.forDestination(InetAddress.getLoopbackAddress(), Transport.best());
        assertNotNull(r.toString());
        if (r.route() != null) {
            assertEquals("lo", r.route().device(), r.toString());
            assertTrue(r.route().isLocal(), r.toString());
            assertEquals(OffloadLayer.NONE, r.tcpSegmentation().layer(), r.toString());
        } else {
            assertEquals(OffloadLayer.UNKNOWN, r.tcpSegmentation().layer(), r.toString());
            assertNotNull(r.routeProblem());
        }
    }
}
