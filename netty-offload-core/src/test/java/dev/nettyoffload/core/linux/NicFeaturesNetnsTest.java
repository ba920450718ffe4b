package dev.nettyoffload.core.linux;

import dev.nettyoffload.core.Transport;
import dev.nettyoffload.core.linux.OffloadToolException.Reason;
import dev.nettyoffload.testkit.CommandRunner;
import dev.nettyoffload.testkit.NetNs;
import dev.nettyoffload.testkit.Prerequisites;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reads and changes real veth features with ethtool, looks up routes through the veth, and checks that
 * {@link OffloadReport} follows the changes. Root only; one namespace with a veth to the root namespace.
 */
class NicFeaturesNetnsTest {
    private static final int MTU = 1400;
    private static NetNs ns;
    private static String dev;
    private static int net;

    @BeforeAll
    static void setUp() {
        Prerequisites.requireNetns();
        Prerequisites.requireCommand("ethtool", "ethtool");
        dev = NetNs.uniqueDeviceName("ncf");
        net = NetNs.perProcess(200, 10, 5, 0);
        ns = NetNs.create("ncfeat");
        NetNs.vethToRoot(dev, "10.83." + net + ".1/24", ns, "peer0", "10.83." + net + ".2/24", MTU);
        NetNs.addAddress(null, dev, "fd83:" + net + "::1/64");
        NetNs.addAddress(ns, "peer0", "fd83:" + net + "::2/64");
    }

    @AfterAll
    static void tearDown() {
        CommandRunner.tryRun("ip", "link", "del", dev == null ? "ncnone" : dev);
        if (ns != null) {
            ns.close();
        }
    }

    @Test
    void routeLookupFindsTheVethAndItsMtu() throws Exception {
        EgressRoute v4 = EgressRoute.lookup(InetAddress.getByName("10.83." + net + ".2"));
        assertEquals(dev, v4.device(), v4.toString());
        assertEquals(InetAddress.getByName("10.83." + net + ".1"), v4.source());
        assertEquals(MTU, v4.mtu());
        assertEquals(MTU, v4.deviceMtu());
        assertNull(v4.gateway());
        EgressRoute v6 = EgressRoute.lookup(InetAddress.getByName("fd83:" + net + "::2"));
        assertEquals(dev, v6.device(), v6.toString());
        assertEquals(InetAddress.getByName("fd83:" + net + "::1"), v6.source());
        assertEquals(MTU, v6.mtu());

        String behind = "10.83." + NetNs.perProcess(200, 10, 5, 1) + ".0/24";
        CommandRunner.run("ip", "route", "add", behind, "via", "10.83." + net + ".2", "dev", dev, "mtu", "lock", "1300");
        try {
            EgressRoute routed = EgressRoute.lookup(InetAddress.getByName("10.83." + NetNs.perProcess(200, 10, 5, 1) + ".9"));
            assertEquals(dev, routed.device());
            assertEquals(InetAddress.getByName("10.83." + net + ".2"), routed.gateway());
            assertEquals(1300, routed.mtu(), routed.toString());
            assertEquals(MTU, routed.deviceMtu());
        } finally {
            CommandRunner.tryRun("ip", "route", "del", behind);
        }
    }

    @Test
    void readMatchesEthtoolAndSysfs() {
        NicFeatures f = NicFeatures.read(dev);
        assertEquals(dev, f.device());
        assertEquals(MTU, f.limits().mtu());
        assertTrue(f.limits().gsoMaxSize() > 0, f.toString());
        // The same lines as the ethtool binary, in the same order.
        List<String> lines = new ArrayList<>();
        for (String line : CommandRunner.run("ethtool", "-k", dev).split("\n")) {
            if (!line.startsWith("Features for")) {
                lines.add(line.strip());
            }
        }
        List<String> parsed = new ArrayList<>();
        f.features().forEach(x -> parsed.add(x.toString()));
        assertEquals(lines, parsed);
    }

    @Test
    void togglingSegmentationOffloadChangesTheReport() throws Exception {
        InetAddress peer = InetAddress.getByName("10.83." + net + ".2");
        InetAddress peer6 = InetAddress.getByName("fd83:" + net + "::2");
        Prerequisites.requireTransport(Transport.EPOLL.displayName(), Transport.EPOLL.unavailabilityCause());
        try {
            assertFalse(NicFeatures.set(dev, NicFeatures.TX_UDP_SEGMENTATION, false)
                    .isEnabled(NicFeatures.TX_UDP_SEGMENTATION));
            OffloadReport off = OffloadReport.forDestination(peer, Transport.EPOLL);
            assertEquals(OffloadLayer.KERNEL, off.udpSegmentation().layer(), off.toString());
            assertTrue(off.udpSegmentation().reason().contains("tx-udp-segmentation off"), off.toString());

            assertTrue(NicFeatures.set(dev, NicFeatures.TX_UDP_SEGMENTATION, true)
                    .isEnabled(NicFeatures.TX_UDP_SEGMENTATION));
            OffloadReport on = OffloadReport.forDestination(peer, Transport.EPOLL);
            assertEquals(OffloadLayer.NIC, on.udpSegmentation().layer(), on.toString());

            NicFeatures.set(dev, NicFeatures.TX_TCP_SEGMENTATION, false);
            OffloadReport tsoOff = OffloadReport.forDestination(peer, Transport.EPOLL);
            assertEquals(OffloadLayer.KERNEL, tsoOff.tcpSegmentation().layer(), tsoOff.toString());
            // IPv6 TSO is a feature of its own and stays on.
            assertEquals(OffloadLayer.NIC, OffloadReport.forDestination(peer6, Transport.EPOLL)
                    .tcpSegmentation().layer());
            NicFeatures.set(dev, "tso", true);
            assertEquals(OffloadLayer.NIC, OffloadReport.forDestination(peer, Transport.EPOLL)
                    .tcpSegmentation().layer());
        } finally {
            CommandRunner.tryRun("ethtool", "-K", dev, "tx-udp-segmentation", "on", "tso", "on");
        }
    }

    @Test
    void setErrorsSayWhatIsWrong() {
        OffloadToolException missing = assertThrows(OffloadToolException.class,
                () -> NicFeatures.set("ncnosuch0", NicFeatures.TX_UDP_SEGMENTATION, false));
        assertEquals(Reason.NO_SUCH_DEVICE, missing.reason());
        assertTrue(missing.getMessage().contains("'ncnosuch0' does not exist"), missing.getMessage());
        assertEquals(Reason.NO_SUCH_DEVICE, assertThrows(OffloadToolException.class,
                () -> NicFeatures.read("ncnosuch0")).reason());

        OffloadToolException fixed = assertThrows(OffloadToolException.class,
                () -> NicFeatures.set(dev, NicFeatures.LARGE_RECEIVE_OFFLOAD, true));
        assertEquals(Reason.FEATURE_FIXED, fixed.reason());
        assertEquals("cannot turn on large-receive-offload on " + dev + ": the feature is fixed by the driver "
                + "(large-receive-offload: off [fixed])", fixed.getMessage());

        OffloadToolException unknown = assertThrows(OffloadToolException.class,
                () -> NicFeatures.set(dev, "no-such-feature", true));
        assertEquals(Reason.UNKNOWN_FEATURE, unknown.reason());
    }

    @Test
    void segmentationNeedsChecksumOffload() {
        try {
            NicFeatures.set(dev, NicFeatures.TX_CHECKSUMMING, false);
            OffloadToolException refused = assertThrows(OffloadToolException.class,
                    () -> NicFeatures.set(dev, NicFeatures.TX_UDP_SEGMENTATION, true));
            assertEquals(Reason.FEATURE_REFUSED, refused.reason());
            assertTrue(refused.getMessage().contains("needs tx-checksumming"), refused.getMessage());
        } finally {
            CommandRunner.tryRun("ethtool", "-K", dev, "tx-checksumming", "on", "tx-udp-segmentation", "on");
        }
        assertTrue(NicFeatures.read(dev).isEnabled(NicFeatures.TX_UDP_SEGMENTATION));
    }

    @Test
    void withoutCapNetAdminReadingWorksAndSettingIsRefused() {
        Prerequisites.requireCommand("setpriv", "util-linux");
        List<String> nobody = List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                "--inh-caps=-all");
        List<String> ethtool = new ArrayList<>(nobody);
        ethtool.add("ethtool");
        List<String> ip = new ArrayList<>(nobody);
        ip.add("ip");
        Ethtool unprivileged = new Ethtool(new ExternalCommand(ethtool, Ethtool.PACKAGE),
                new ExternalCommand(ip, "iproute2"));

        NicFeatures read = unprivileged.read(dev);
        assertEquals(NicFeatures.read(dev).features().toString(), read.features().toString());
        assertEquals(MTU, read.limits().mtu());

        boolean before = read.isEnabled(NicFeatures.TX_UDP_SEGMENTATION);
        OffloadToolException e = assertThrows(OffloadToolException.class,
                () -> unprivileged.set(dev, NicFeatures.TX_UDP_SEGMENTATION, !before));
        assertEquals(Reason.NOT_PERMITTED, e.reason());
        assertEquals("not permitted to change tx-udp-segmentation on " + dev + ": changing device features needs "
                + "CAP_NET_ADMIN (run as root or grant the capability, e.g. AmbientCapabilities=CAP_NET_ADMIN in a "
                + "systemd unit)", e.getMessage());
        assertEquals(before, NicFeatures.read(dev).isEnabled(NicFeatures.TX_UDP_SEGMENTATION));
    }
}
