package dev.nettyoffload.core.linux;

import java.net.InetAddress;
import java.util.List;
import java.util.Map;

/**
 * Reads a device's queueing disciplines with {@code tc} (Debian package {@code iproute2}): whether the fq qdisc,
 * which enforces {@code SO_MAX_PACING_RATE} for UDP sockets, is attached on the way to a destination.
 */
public final class Qdisc {
    private Qdisc() {
    }

    /**
     * Whether the fq qdisc is attached to {@code device} (as its root qdisc or under {@code mq}), so that
     * SO_MAX_PACING_RATE paces UDP sockets sending through it. Runs {@code tc -j qdisc show dev DEVICE}
     * (Debian package {@code iproute2}); call it outside the event loop. To attach fq:
     * {@code tc qdisc replace dev DEVICE root fq} (needs CAP_NET_ADMIN and a kernel with CONFIG_NET_SCH_FQ).
     *
     * @throws OffloadToolException NO_SUCH_DEVICE, TOOL_MISSING or TOOL_FAILED
     */
    public static boolean isFqAttached(String device) {
        Ethtool.checkDeviceName(device);
        ExternalCommand.Result r = new ExternalCommand(List.of("tc"), "iproute2").run("-j", "qdisc", "show", "dev",
                device);
        if (r.exitCode != 0) {
            if (r.stderr.contains("Cannot find device")) {
                throw new OffloadToolException(OffloadToolException.Reason.NO_SUCH_DEVICE,
                        "network device '" + device + "' does not exist");
            }
            throw new OffloadToolException(OffloadToolException.Reason.TOOL_FAILED,
                    "'tc qdisc show dev " + device + "' failed: " + r.diagnostic());
        }
        return hasFq(device, r.stdout);
    }

    /**
     * Why SO_MAX_PACING_RATE would not pace UDP sent to {@code destination}, or {@code null} when the output
     * device has fq. Never throws: a failed lookup is itself the answer. Runs {@code ip} and {@code tc}; call it
     * outside the event loop, e.g. to log a hint once when a paced channel becomes active.
     */
    public static String udpPacingProblem(InetAddress destination) {
        String device = "?";
        try {
            device = EgressRoute.lookup(destination).device();
            if (isFqAttached(device)) {
                return null;
            }
            return "the fq qdisc is not attached to " + device + ", so SO_MAX_PACING_RATE does not pace UDP to "
                    + destination.getHostAddress() + "; attach it with 'tc qdisc replace dev " + device
                    + " root fq' (kernel CONFIG_NET_SCH_FQ)";
        } catch (RuntimeException e) {
            return "cannot tell whether UDP to " + destination.getHostAddress() + " is paced (device " + device
                    + "): " + e.getMessage();
        }
    }

    /** Whether the output of {@code tc -j qdisc show dev DEVICE} lists an fq qdisc. */
    static boolean hasFq(String device, String tcJson) {
        Object doc;
        try {
            doc = Json.parse(tcJson.isBlank() ? "[]" : tcJson);
        } catch (IllegalArgumentException e) {
            throw new OffloadToolException(OffloadToolException.Reason.TOOL_FAILED,
                    "cannot read the output of 'tc -j qdisc show dev " + device + "': " + e.getMessage(), e);
        }
        if (doc instanceof List) {
            for (Object q : (List<?>) doc) {
                if (q instanceof Map && "fq".equals(((Map<?, ?>) q).get("kind"))) {
                    return true;
                }
            }
        }
        return false;
    }

}
