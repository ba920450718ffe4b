package dev.nettyoffload.core.linux;

import dev.nettyoffload.core.linux.OffloadToolException.Reason;

import java.util.List;
import java.util.Map;

/**
 * Reads and changes device features through the {@code ethtool} binary ({@code -k} and {@code -K}) and turns
 * its failures into {@link OffloadToolException}s. ethtool talks to the kernel over ethtool netlink (or the
 * older SIOCETHTOOL ioctl), so its messages come in two flavours; both are recognised.
 */
final class Ethtool {
    static final String PACKAGE = "ethtool";

    /** Short names ethtool -K accepts for the lines ethtool -k prints (ethtool's "off_flag_def" aliases). */
    private static final Map<String, String> ALIASES = Map.ofEntries(
            Map.entry("rx", "rx-checksumming"), Map.entry("rx-checksum", "rx-checksumming"),
            Map.entry("tx", "tx-checksumming"), Map.entry("sg", "scatter-gather"),
            Map.entry("tso", "tcp-segmentation-offload"), Map.entry("gso", "generic-segmentation-offload"),
            Map.entry("tx-generic-segmentation", "generic-segmentation-offload"),
            Map.entry("gro", "generic-receive-offload"), Map.entry("rx-gro", "generic-receive-offload"),
            Map.entry("lro", "large-receive-offload"), Map.entry("rx-lro", "large-receive-offload"));

    private final ExternalCommand ethtool;
    private final ExternalCommand ip;

    Ethtool(ExternalCommand ethtool, ExternalCommand ip) {
        this.ethtool = ethtool;
        this.ip = ip;
    }

    static Ethtool system() {
        return new Ethtool(new ExternalCommand(List.of("ethtool"), PACKAGE),
                new ExternalCommand(List.of("ip"), "iproute2"));
    }

    NicFeatures read(String device) {
        checkDeviceName(device);
        ExternalCommand.Result r = ethtool.run("-k", device);
        if (r.exitCode != 0) {
            throw failure(device, null, r);
        }
        return NicFeatures.parse(device, r.stdout, DeviceLimits.read(device, ip));
    }

    NicFeatures set(String device, String feature, boolean enabled) {
        if (!feature.matches("[A-Za-z0-9][A-Za-z0-9_.-]*")) {
            throw new IllegalArgumentException("invalid feature name: '" + feature + "'");
        }
        NicFeatures before = read(device);
        String canonical = canonicalName(feature);
        NicFeature current = before.feature(canonical);
        if (current != null && current.isFixed() && current.isEnabled() != enabled) {
            throw fixed(device, current, enabled);
        }
        ExternalCommand.Result r = ethtool.run("-K", device, feature, enabled ? "on" : "off");
        if (r.exitCode != 0) {
            OffloadToolException e = failure(device, feature, r);
            if (e.reason() == Reason.FEATURE_FIXED && current != null && !current.isFixed()) {
                // Not fixed, yet nothing changed: the kernel holds it off (it was already requested so).
                throw new OffloadToolException(Reason.FEATURE_REFUSED, "the kernel kept " + feature + " "
                        + (current.isEnabled() ? "on" : "off") + " on " + device + " (" + current + ")"
                        + dependencyHint(canonical, enabled));
            }
            throw e;
        }
        NicFeatures after = read(device);
        NicFeature now = after.feature(canonical);
        if (now != null && now.isEnabled() != enabled) {
            throw new OffloadToolException(Reason.FEATURE_REFUSED, "the kernel kept " + feature + " "
                    + (now.isEnabled() ? "on" : "off") + " on " + device + " (" + now + ")"
                    + dependencyHint(canonical, enabled));
        }
        return after;
    }

    static String canonicalName(String feature) {
        return ALIASES.getOrDefault(feature, feature);
    }

    /** Classifies a failed ethtool run from its exit code and messages. */
    static OffloadToolException failure(String device, String feature, ExternalCommand.Result r) {
        String err = r.stderr;
        if (err.contains("No such device") || err.contains("no device matches name")) {
            return new OffloadToolException(Reason.NO_SUCH_DEVICE, "network device '" + device
                    + "' does not exist in this network namespace");
        }
        if (err.contains("Operation not permitted")) {
            return new OffloadToolException(Reason.NOT_PERMITTED, "not permitted to change " + feature + " on "
                    + device + ": changing device features needs CAP_NET_ADMIN (run as root or grant the "
                    + "capability, e.g. AmbientCapabilities=CAP_NET_ADMIN in a systemd unit)");
        }
        if (err.contains("bit name not found") || err.contains("not found") && feature != null
                && err.contains(feature)) {
            return new OffloadToolException(Reason.UNKNOWN_FEATURE, "unknown feature '" + feature
                    + "' for " + device + " (see 'ethtool -k " + device + "' for the names this kernel knows)");
        }
        if (err.contains("Could not change any device features")) {
            // ethtool prints what it could not do on stdout: "rx-lro: off [requested on]".
            String detail = r.stdout.replace("Actual changes:", "").strip().replace('\n', ';');
            return new OffloadToolException(Reason.FEATURE_FIXED, "the driver of " + device + " does not allow "
                    + feature + " to change" + (detail.isEmpty() ? "" : " (" + detail + ")"));
        }
        return new OffloadToolException(Reason.TOOL_FAILED, "'ethtool " + (feature == null ? "-k " : "-K ")
                + device + (feature == null ? "" : " " + feature) + "' failed: " + r.diagnostic());
    }

    private static OffloadToolException fixed(String device, NicFeature current, boolean enabled) {
        return new OffloadToolException(Reason.FEATURE_FIXED, "cannot turn " + (enabled ? "on " : "off ")
                + current.name() + " on " + device + ": the feature is fixed by the driver (" + current + ")");
    }

    private static String dependencyHint(String feature, boolean enabled) {
        if (enabled && (feature.startsWith("tx-tcp") || feature.equals("tx-udp-segmentation")
                || feature.equals("tcp-segmentation-offload"))) {
            return "; segmentation offload needs tx-checksumming and scatter-gather on";
        }
        return "";
    }

    /** Rejects names that are not a Linux interface name before they reach a command line. */
    static void checkDeviceName(String device) {
        // IFNAMSIZ is 16 including the terminating NUL; '/' and white space are not allowed (dev_valid_name).
        if (device == null || device.isEmpty() || device.length() > 15 || device.equals(".")
                || device.equals("..") || device.startsWith("-") || !device.chars().allMatch(
                        c -> c > ' ' && c < 127 && c != '/' && c != ':')) {
            throw new IllegalArgumentException("invalid network device name: '" + device + "'");
        }
    }
}
