package dev.nettyoffload.core.linux;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Parses {@code ethtool -k} output recorded on this project's test machine (ethtool 6.1, Linux 6.18). */
class NicFeaturesParseTest {
    private static final DeviceLimits VETH_LIMITS =
            DeviceLimits.parse("ncrec0", TestResources.read("ip-link-show-veth.json"));

    @ParameterizedTest
    @ValueSource(strings = {"ethtool-k-lo.txt", "ethtool-k-veth.txt", "ethtool-k-veth-csum-off.txt"})
    void everyLineRoundTrips(String resource) {
        String text = TestResources.read(resource);
        NicFeatures features = NicFeatures.parse("dev", text, VETH_LIMITS);
        List<String> expected = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (!line.startsWith("Features for ")) {
                expected.add(line.strip());
            }
        }
        List<String> actual = new ArrayList<>();
        for (NicFeature f : features.features()) {
            actual.add(f.toString());
        }
        assertEquals(expected, actual);
    }

    @Test
    void loopback() {
        NicFeatures lo = NicFeatures.parse("lo", TestResources.read("ethtool-k-lo.txt"),
                DeviceLimits.parse("lo", TestResources.read("ip-link-show-lo.json")));
        NicFeature uso = lo.feature(NicFeatures.TX_UDP_SEGMENTATION);
        assertTrue(uso.isEnabled());
        assertFalse(uso.isFixed());
        assertNull(uso.group());
        NicFeature lro = lo.feature("lro");
        assertEquals(NicFeatures.LARGE_RECEIVE_OFFLOAD, lro.name());
        assertFalse(lro.isEnabled());
        assertTrue(lro.isFixed());
        assertTrue(lo.feature("loopback").isFixed());
        assertEquals(NicFeatures.TCP_SEGMENTATION_OFFLOAD, lo.feature(NicFeatures.TX_TCP_SEGMENTATION).group());
        assertEquals(NicFeatures.TX_CHECKSUMMING, lo.feature(NicFeatures.TX_CHECKSUM_IP_GENERIC).group());
        assertTrue(lo.isTxChecksumEnabled(false));
        assertTrue(lo.isTcpSegmentationEnabled(true));
        assertTrue(lo.isEnabled("gro"));
        assertFalse(lo.isEnabled(NicFeatures.RX_GRO_HW));
        assertFalse(lo.isEnabled("no-such-feature"));
        assertNull(lo.feature("no-such-feature"));
        assertEquals(65536, lo.limits().mtu());
    }

    @Test
    void vethDefaults() {
        NicFeatures veth = NicFeatures.parse("ncrec0", TestResources.read("ethtool-k-veth.txt"), VETH_LIMITS);
        assertTrue(veth.isEnabled(NicFeatures.TX_UDP_SEGMENTATION));
        assertTrue(veth.isEnabled(NicFeatures.TX_UDP_TNL_SEGMENTATION));
        assertTrue(veth.isEnabled(NicFeatures.TX_GRE_SEGMENTATION));
        assertFalse(veth.isEnabled(NicFeatures.GENERIC_RECEIVE_OFFLOAD));
        assertFalse(veth.feature(NicFeatures.GENERIC_RECEIVE_OFFLOAD).isFixed());
        assertFalse(veth.isEnabled(NicFeatures.RX_GRO_LIST));
        assertFalse(veth.isEnabled(NicFeatures.RX_UDP_GRO_FORWARDING));
        assertTrue(veth.feature(NicFeatures.TX_CHECKSUM_IPV4).isFixed());
        String text = veth.toString();
        assertTrue(text.startsWith("Offload features of ncrec0\n"), text);
        assertTrue(text.contains("\n    tx-tcp-segmentation: on\n"), text);
        assertTrue(text.contains("\n  large-receive-offload: off [fixed]\n"), text);
        assertTrue(text.endsWith("ncrec0: mtu 1500, gso_max_size 65536, gso_max_segs 65535, gro_max_size 65536, "
                + "tso_max_size 524280, tso_max_segs 65535"), text);
        assertFalse(text.contains("hsr-"), "only offload features are listed: " + text);
    }

    @Test
    void checksumOffMakesSegmentationRequestedButOff() {
        NicFeatures veth = NicFeatures.parse("ncrec0", TestResources.read("ethtool-k-veth-csum-off.txt"),
                VETH_LIMITS);
        NicFeature tso = veth.feature(NicFeatures.TX_TCP_SEGMENTATION);
        assertFalse(tso.isEnabled());
        assertTrue(tso.isRequested());
        assertFalse(tso.isFixed());
        assertFalse(veth.isTcpSegmentationEnabled(false));
        assertFalse(veth.isTcpSegmentationEnabled(true));
        assertFalse(veth.isTxChecksumEnabled(false));
        NicFeature uso = veth.feature(NicFeatures.TX_UDP_SEGMENTATION);
        assertEquals("tx-udp-segmentation: off [requested on]", uso.toString());
    }

    @Test
    void ethtoolChangeReportUsesTheSameLineFormat() {
        // "ethtool -K" prints "Actual changes:" and kernel names with [requested on] / [not requested].
        NicFeatures changes = NicFeatures.parse("ncrec0", TestResources.read("ethtool-K-fixed.stdout"),
                VETH_LIMITS);
        NicFeature lro = changes.features().iterator().next();
        assertEquals("rx-lro", lro.name());
        assertFalse(lro.isEnabled());
        assertTrue(lro.isRequested());
        NicFeature notRequested = NicFeatures.parse("d", "tx-udp-segmentation: on [not requested]\n", VETH_LIMITS)
                .feature(NicFeatures.TX_UDP_SEGMENTATION);
        assertTrue(notRequested.isEnabled());
        assertFalse(notRequested.isRequested());
    }

    @Test
    void textWithoutFeaturesIsAnError() {
        OffloadToolException e = assertThrows(OffloadToolException.class,
                () -> NicFeatures.parse("eth9", "Cannot get device features: weird\n", VETH_LIMITS));
        assertEquals(OffloadToolException.Reason.TOOL_FAILED, e.reason());
        assertTrue(e.getMessage().contains("ethtool -k eth9"), e.getMessage());
        assertTrue(e.getMessage().contains("weird"), e.getMessage());
    }

    @Test
    void deviceLimits() {
        DeviceLimits lo = DeviceLimits.parse("lo", TestResources.read("ip-link-show-lo.json"));
        assertEquals(65536, lo.mtu());
        assertEquals(65536, lo.gsoMaxSize());
        assertEquals(65535, lo.gsoMaxSegs());
        assertEquals(65536, lo.groMaxSize());
        assertEquals(524280, lo.tsoMaxSize());
        assertEquals(65535, lo.tsoMaxSegs());
        DeviceLimits old = DeviceLimits.parse("eth0", "[{\"ifname\":\"eth0\",\"mtu\":1500,\"gso_max_size\":65536}]");
        assertEquals(DeviceLimits.UNKNOWN, old.tsoMaxSize());
        assertTrue(old.toString().contains("tso_max_size unknown"), old.toString());
        OffloadToolException e = assertThrows(OffloadToolException.class, () -> DeviceLimits.parse("x", "[]"));
        assertEquals(OffloadToolException.Reason.TOOL_FAILED, e.reason());
    }
}
