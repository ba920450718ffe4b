package dev.nettyoffload.core.linux;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The offload features of one network device with their on/off and fixed state, plus its size limits.
 * <p>
 * {@link #read(String)} runs {@code ethtool -k DEVICE} (Debian package {@code ethtool}) and
 * {@code ip -d -j link show dev DEVICE}; reading needs no privilege. {@link #set(String, String, boolean)}
 * runs {@code ethtool -K} and needs CAP_NET_ADMIN. Both block for a few milliseconds: call them outside the
 * event loop. Failures are {@link OffloadToolException}s whose {@link OffloadToolException#reason() reason}
 * says what is wrong (no such device, not permitted, fixed feature, ethtool missing).
 */
public final class NicFeatures {
    /** Checksum offload for IPv4 and IPv6 of any protocol; USO and TSO need it (or the per-family ones). */
    public static final String TX_CHECKSUM_IP_GENERIC = "tx-checksum-ip-generic";
    public static final String TX_CHECKSUM_IPV4 = "tx-checksum-ipv4";
    public static final String TX_CHECKSUM_IPV6 = "tx-checksum-ipv6";
    public static final String TX_CHECKSUMMING = "tx-checksumming";
    public static final String SCATTER_GATHER = "scatter-gather";
    public static final String TX_SCATTER_GATHER = "tx-scatter-gather";
    public static final String TCP_SEGMENTATION_OFFLOAD = "tcp-segmentation-offload";
    public static final String TX_TCP_SEGMENTATION = "tx-tcp-segmentation";
    public static final String TX_TCP6_SEGMENTATION = "tx-tcp6-segmentation";
    public static final String GENERIC_SEGMENTATION_OFFLOAD = "generic-segmentation-offload";
    public static final String GENERIC_RECEIVE_OFFLOAD = "generic-receive-offload";
    public static final String LARGE_RECEIVE_OFFLOAD = "large-receive-offload";
    public static final String TX_UDP_SEGMENTATION = "tx-udp-segmentation";
    public static final String RX_GRO_HW = "rx-gro-hw";
    public static final String RX_GRO_LIST = "rx-gro-list";
    public static final String RX_UDP_GRO_FORWARDING = "rx-udp-gro-forwarding";
    public static final String TX_GSO_LIST = "tx-gso-list";
    public static final String TX_UDP_TNL_SEGMENTATION = "tx-udp_tnl-segmentation";
    public static final String TX_UDP_TNL_CSUM_SEGMENTATION = "tx-udp_tnl-csum-segmentation";
    public static final String TX_GRE_SEGMENTATION = "tx-gre-segmentation";
    public static final String TX_GRE_CSUM_SEGMENTATION = "tx-gre-csum-segmentation";
    public static final String TX_IPXIP4_SEGMENTATION = "tx-ipxip4-segmentation";
    public static final String TX_IPXIP6_SEGMENTATION = "tx-ipxip6-segmentation";

    /** The features that matter for segmentation and receive offload, in the order {@link #toString()} shows them. */
    public static final List<String> OFFLOAD_FEATURES = List.of(TX_CHECKSUMMING, TX_CHECKSUM_IPV4,
            TX_CHECKSUM_IP_GENERIC, TX_CHECKSUM_IPV6, SCATTER_GATHER, TCP_SEGMENTATION_OFFLOAD, TX_TCP_SEGMENTATION,
            "tx-tcp-ecn-segmentation", "tx-tcp-mangleid-segmentation", TX_TCP6_SEGMENTATION,
            GENERIC_SEGMENTATION_OFFLOAD, GENERIC_RECEIVE_OFFLOAD, TX_UDP_SEGMENTATION, TX_GSO_LIST, RX_GRO_LIST,
            RX_UDP_GRO_FORWARDING, RX_GRO_HW, LARGE_RECEIVE_OFFLOAD, TX_UDP_TNL_SEGMENTATION,
            TX_UDP_TNL_CSUM_SEGMENTATION, TX_GRE_SEGMENTATION, TX_GRE_CSUM_SEGMENTATION, TX_IPXIP4_SEGMENTATION,
            TX_IPXIP6_SEGMENTATION);

    // "name: on", "\tname: off [fixed]", "name: off [requested on]", "name: on [not requested]" (ethtool -K).
    private static final Pattern LINE = Pattern.compile(
            "^(\\s*)([A-Za-z0-9_.-]+): (on|off)(?: \\[(fixed|requested on|requested off|not requested)])?\\s*$");

    private final String device;
    private final Map<String, NicFeature> features;
    private final DeviceLimits limits;

    private NicFeatures(String device, Map<String, NicFeature> features, DeviceLimits limits) {
        this.device = device;
        this.features = Collections.unmodifiableMap(features);
        this.limits = limits;
    }

    /** Reads the features and limits of {@code device} in this process's network namespace. */
    public static NicFeatures read(String device) {
        return Ethtool.system().read(device);
    }

    /**
     * Turns {@code feature} on or off on {@code device} (like {@code ethtool -K DEVICE FEATURE on|off}) and returns
     * the state afterwards. Accepts the names {@code ethtool -k} prints and ethtool's short ones ({@code tso},
     * {@code gso}, {@code gro}, ...).
     *
     * @throws OffloadToolException with reason NO_SUCH_DEVICE, NOT_PERMITTED (no CAP_NET_ADMIN), FEATURE_FIXED,
     *                              UNKNOWN_FEATURE, FEATURE_REFUSED (the kernel kept the old state because a
     *                              feature it depends on is off) or TOOL_MISSING (install package {@code ethtool})
     */
    public static NicFeatures set(String device, String feature, boolean enabled) {
        Objects.requireNonNull(feature, "feature");
        return Ethtool.system().set(device, feature, enabled);
    }

    /**
     * Parses the output of {@code ethtool -k DEVICE}.
     *
     * @throws OffloadToolException (TOOL_FAILED) when the text has no feature lines
     */
    public static NicFeatures parse(String device, String ethtoolOutput, DeviceLimits limits) {
        Map<String, NicFeature> features = new LinkedHashMap<>();
        String group = null;
        for (String line : ethtoolOutput.split("\n")) {
            Matcher m = LINE.matcher(line);
            if (!m.matches()) {
                continue; // "Features for DEV:" and anything a newer ethtool adds
            }
            boolean indented = !m.group(1).isEmpty();
            String name = m.group(2);
            boolean on = m.group(3).equals("on");
            String note = m.group(4);
            boolean fixed = "fixed".equals(note);
            boolean requested = "requested on".equals(note)
                    || (on && !"requested off".equals(note) && !"not requested".equals(note));
            NicFeature f = new NicFeature(name, indented ? group : null, on, fixed, requested);
            features.put(name, f);
            if (!indented) {
                group = name;
            }
        }
        if (features.isEmpty()) {
            throw new OffloadToolException(OffloadToolException.Reason.TOOL_FAILED,
                    "no features found in the output of 'ethtool -k " + device + "': "
                            + ethtoolOutput.strip().replace('\n', ';'));
        }
        return new NicFeatures(device, features, limits);
    }

    public String device() {
        return device;
    }

    /** Every feature ethtool listed, in its order. */
    public Collection<NicFeature> features() {
        return features.values();
    }

    /** The feature called {@code name} (ethtool's names or short aliases), or {@code null} if the device has none. */
    public NicFeature feature(String name) {
        return features.get(Ethtool.canonicalName(name));
    }

    /** Whether {@code name} exists and is on. */
    public boolean isEnabled(String name) {
        NicFeature f = feature(name);
        return f != null && f.isEnabled();
    }

    /** The device's MTU and GSO/GRO/TSO size limits. */
    public DeviceLimits limits() {
        return limits;
    }

    /** Whether the device completes checksums of IPv4 ({@code ipv6 == false}) or IPv6 packets. */
    public boolean isTxChecksumEnabled(boolean ipv6) {
        return isEnabled(TX_CHECKSUM_IP_GENERIC) || isEnabled(ipv6 ? TX_CHECKSUM_IPV6 : TX_CHECKSUM_IPV4);
    }

    /** Whether the device takes TCP packets larger than the MSS and segments them itself (TSO). */
    public boolean isTcpSegmentationEnabled(boolean ipv6) {
        return isEnabled(ipv6 ? TX_TCP6_SEGMENTATION : TX_TCP_SEGMENTATION);
    }

    /** The offload-related features and the limits, one per line. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(1024).append("Offload features of ").append(device).append('\n');
        for (String name : OFFLOAD_FEATURES) {
            NicFeature f = features.get(name);
            if (f != null) {
                sb.append(f.group() != null ? "    " : "  ").append(f).append('\n');
            }
        }
        return sb.append("  ").append(limits).toString();
    }
}
