package dev.nettyoffload.core.linux;

import dev.nettyoffload.core.linux.OffloadToolException.Reason;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Classifies error outputs of ethtool 6.1 recorded on this project's test machine. */
class EthtoolErrorTest {

    private static OffloadToolException classify(String device, String feature, int exit, String stdoutResource,
                                                 String stderrResource) {
        String out = stdoutResource == null ? "" : TestResources.read(stdoutResource);
        return Ethtool.failure(device, feature, new ExternalCommand.Result(exit, out,
                TestResources.read(stderrResource)));
    }

    @Test
    void readOfMissingDevice() {
        OffloadToolException e = classify("ncnosuch0", null, 1, null, "ethtool-k-no-such-device.stderr");
        assertEquals(Reason.NO_SUCH_DEVICE, e.reason());
        assertEquals("network device 'ncnosuch0' does not exist in this network namespace", e.getMessage());
    }

    @Test
    void setOfMissingDevice() {
        OffloadToolException e = classify("ncnosuch0", "tx-udp-segmentation", 92, null,
                "ethtool-K-no-such-device.stderr");
        assertEquals(Reason.NO_SUCH_DEVICE, e.reason());
    }

    @Test
    void notPermitted() {
        OffloadToolException e = classify("ncrec0", "tx-udp-segmentation", 92, null,
                "ethtool-K-not-permitted.stderr");
        assertEquals(Reason.NOT_PERMITTED, e.reason());
        assertTrue(e.getMessage().startsWith("not permitted to change tx-udp-segmentation on ncrec0: "),
                e.getMessage());
        assertTrue(e.getMessage().contains("CAP_NET_ADMIN"), e.getMessage());
    }

    @Test
    void olderEthtoolIoctlMessages() {
        // ethtool built without netlink, or a kernel without ethtool netlink (< 5.6), reports through ioctl.
        OffloadToolException perm = Ethtool.failure("eth0", "tso", new ExternalCommand.Result(1, "",
                "Cannot set device feature settings: Operation not permitted\n"));
        assertEquals(Reason.NOT_PERMITTED, perm.reason());
        OffloadToolException missing = Ethtool.failure("eth9", null, new ExternalCommand.Result(71, "",
                "Cannot get device feature names: No such device\n"));
        assertEquals(Reason.NO_SUCH_DEVICE, missing.reason());
    }

    @Test
    void fixedFeature() {
        OffloadToolException e = classify("ncrec0", "large-receive-offload", 1, "ethtool-K-fixed.stdout",
                "ethtool-K-fixed.stderr");
        assertEquals(Reason.FEATURE_FIXED, e.reason());
        assertEquals("the driver of ncrec0 does not allow large-receive-offload to change "
                + "(rx-lro: off [requested on])", e.getMessage());
    }

    @Test
    void unknownFeature() {
        OffloadToolException e = classify("ncrec0", "no-such-feature", 92, null, "ethtool-K-unknown-feature.stderr");
        assertEquals(Reason.UNKNOWN_FEATURE, e.reason());
        assertTrue(e.getMessage().contains("'no-such-feature'"), e.getMessage());
    }

    @Test
    void otherFailuresKeepTheToolsMessage() {
        OffloadToolException e = Ethtool.failure("eth0", null, new ExternalCommand.Result(75, "",
                "netlink error: something new\n"));
        assertEquals(Reason.TOOL_FAILED, e.reason());
        assertEquals("'ethtool -k eth0' failed: netlink error: something new", e.getMessage());
    }

    @Test
    void missingBinaryNamesThePackage() {
        Ethtool ethtool = new Ethtool(new ExternalCommand(List.of("/nonexistent/bin/ethtool"), Ethtool.PACKAGE),
                new ExternalCommand(List.of("ip"), "iproute2"));
        OffloadToolException e = assertThrows(OffloadToolException.class, () -> ethtool.read("lo"));
        assertEquals(Reason.TOOL_MISSING, e.reason());
        assertTrue(e.getMessage().contains("apt-get install ethtool"), e.getMessage());
        assertTrue(e.getMessage().startsWith("cannot run '/nonexistent/bin/ethtool'"), e.getMessage());
    }

    @Test
    void invalidDeviceNamesNeverReachTheCommandLine() {
        for (String bad : new String[] {"", "-k", "a/b", "sixteen-chars-xx", "a b", ".."}) {
            assertThrows(IllegalArgumentException.class, () -> Ethtool.checkDeviceName(bad), bad);
        }
        for (String bad : new String[] {"", "--help", "tso on", "a;b"}) {
            assertThrows(IllegalArgumentException.class, () -> NicFeatures.set("lo", bad, true), bad);
        }
        Ethtool.checkDeviceName("eth0.100");
        Ethtool.checkDeviceName("nc-veth_1");
    }
}
