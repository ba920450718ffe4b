package dev.nettyoffload.core.linux;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Size limits of a network device that decide how large an offloaded packet may be: the MTU, the largest
 * GSO packet the stack builds for it ({@code gso_max_size}/{@code gso_max_segs}), the largest TSO packet the
 * driver accepts ({@code tso_max_size}/{@code tso_max_segs}) and the largest packet GRO builds
 * ({@code gro_max_size}). A value the kernel or {@code ip} does not report is {@value #UNKNOWN}.
 * <p>
 * The MTU is read from {@code /sys/class/net/DEV/mtu}. The other limits are read from sysfs when the kernel
 * exports them there, which mainline kernels do not; otherwise from rtnetlink attributes through
 * {@code ip -d -j link show dev DEV} (IFLA_GSO_MAX_SIZE and friends, iproute2 5.19 or later for the TSO and
 * GRO ones).
 */
public final class DeviceLimits {
    /** The value of a limit that is not known. */
    public static final int UNKNOWN = -1;

    private final String device;
    private final int mtu;
    private final int gsoMaxSize;
    private final int gsoMaxSegs;
    private final int groMaxSize;
    private final int tsoMaxSize;
    private final int tsoMaxSegs;

    public DeviceLimits(String device, int mtu, int gsoMaxSize, int gsoMaxSegs, int groMaxSize, int tsoMaxSize,
                        int tsoMaxSegs) {
        this.device = Objects.requireNonNull(device, "device");
        this.mtu = mtu;
        this.gsoMaxSize = gsoMaxSize;
        this.gsoMaxSegs = gsoMaxSegs;
        this.groMaxSize = groMaxSize;
        this.tsoMaxSize = tsoMaxSize;
        this.tsoMaxSegs = tsoMaxSegs;
    }

    /** Reads the limits of {@code device} in this process's network namespace. */
    public static DeviceLimits read(String device) {
        return read(device, new ExternalCommand(List.of("ip"), "iproute2"));
    }

    static DeviceLimits read(String device, ExternalCommand ip) {
        Ethtool.checkDeviceName(device);
        ExternalCommand.Result r = ip.run("-d", "-j", "link", "show", "dev", device);
        if (r.exitCode != 0) {
            if (r.stderr.contains("does not exist") || r.stderr.contains("Cannot find device")) {
                throw new OffloadToolException(OffloadToolException.Reason.NO_SUCH_DEVICE,
                        "network device '" + device + "' does not exist");
            }
            throw new OffloadToolException(OffloadToolException.Reason.TOOL_FAILED,
                    "'ip link show dev " + device + "' failed: " + r.diagnostic());
        }
        DeviceLimits fromIp = parse(device, r.stdout);
        int mtu = sysfs(device, "mtu", fromIp.mtu);
        return new DeviceLimits(device, mtu,
                sysfs(device, "gso_max_size", fromIp.gsoMaxSize), sysfs(device, "gso_max_segs", fromIp.gsoMaxSegs),
                sysfs(device, "gro_max_size", fromIp.groMaxSize), sysfs(device, "tso_max_size", fromIp.tsoMaxSize),
                sysfs(device, "tso_max_segs", fromIp.tsoMaxSegs));
    }

    /** Parses the output of {@code ip -d -j link show dev DEVICE}. */
    public static DeviceLimits parse(String device, String ipLinkJson) {
        Map<String, Object> link;
        try {
            Object doc = Json.parse(ipLinkJson);
            if (!(doc instanceof List) || ((List<?>) doc).isEmpty() || !(((List<?>) doc).get(0) instanceof Map)) {
                throw new IllegalArgumentException("expected a non-empty array of objects");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> first = (Map<String, Object>) ((List<?>) doc).get(0);
            link = first;
        } catch (IllegalArgumentException e) {
            throw new OffloadToolException(OffloadToolException.Reason.TOOL_FAILED,
                    "cannot read the output of 'ip -d -j link show dev " + device + "': " + e.getMessage(), e);
        }
        return new DeviceLimits(device, intField(link, "mtu"), intField(link, "gso_max_size"),
                intField(link, "gso_max_segs"), intField(link, "gro_max_size"), intField(link, "tso_max_size"),
                intField(link, "tso_max_segs"));
    }

    private static int intField(Map<String, Object> map, String name) {
        Object v = map.get(name);
        return v instanceof Long ? (int) Math.min(Integer.MAX_VALUE, (Long) v) : UNKNOWN;
    }

    private static int sysfs(String device, String attribute, int otherwise) {
        Path file = Path.of("/sys/class/net", device, attribute);
        try {
            if (Files.isReadable(file)) {
                return Integer.parseInt(Files.readString(file, StandardCharsets.US_ASCII).trim());
            }
        } catch (IOException | NumberFormatException e) {
            // Fall back to what rtnetlink said: the attribute vanished (device removed) or is not a number.
        }
        return otherwise;
    }

    public String device() {
        return device;
    }

    /** The device MTU: the largest IP packet it sends without segmentation. */
    public int mtu() {
        return mtu;
    }

    /** The largest GSO/TSO packet the stack builds for this device (bytes), or {@value #UNKNOWN}. */
    public int gsoMaxSize() {
        return gsoMaxSize;
    }

    /** The most segments in one GSO/TSO packet the stack builds for this device, or {@value #UNKNOWN}. */
    public int gsoMaxSegs() {
        return gsoMaxSegs;
    }

    /** The largest packet GRO builds on this device (bytes), or {@value #UNKNOWN}. */
    public int groMaxSize() {
        return groMaxSize;
    }

    /** The largest TSO packet the driver accepts (bytes), the ceiling for {@link #gsoMaxSize()}, or {@value #UNKNOWN}. */
    public int tsoMaxSize() {
        return tsoMaxSize;
    }

    /** The most segments of a TSO packet the driver accepts, or {@value #UNKNOWN}. */
    public int tsoMaxSegs() {
        return tsoMaxSegs;
    }

    @Override
    public String toString() {
        return device + ": mtu " + text(mtu) + ", gso_max_size " + text(gsoMaxSize) + ", gso_max_segs "
                + text(gsoMaxSegs) + ", gro_max_size " + text(groMaxSize) + ", tso_max_size " + text(tsoMaxSize)
                + ", tso_max_segs " + text(tsoMaxSegs);
    }

    private static String text(int v) {
        return v == UNKNOWN ? "unknown" : Integer.toString(v);
    }
}
