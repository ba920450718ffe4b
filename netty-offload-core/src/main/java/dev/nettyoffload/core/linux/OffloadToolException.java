package dev.nettyoffload.core.linux;

/**
 * Reading or changing a device's offload state, or looking up a route, failed for the {@link Reason} given.
 * The message names the device, feature or destination and what to do about it.
 */
public final class OffloadToolException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Why the operation failed. */
    public enum Reason {
        /** The network device does not exist (in this network namespace). */
        NO_SUCH_DEVICE,
        /** The caller lacks CAP_NET_ADMIN, which changing device features needs. */
        NOT_PERMITTED,
        /** The driver does not let this feature change ({@code [fixed]} in {@code ethtool -k}). */
        FEATURE_FIXED,
        /** The kernel or ethtool does not know the feature name. */
        UNKNOWN_FEATURE,
        /** The kernel accepted the request but kept the feature as it was, usually because another one it needs is off. */
        FEATURE_REFUSED,
        /** There is no route to the destination. */
        NO_ROUTE,
        /** The command-line tool ({@code ethtool} or {@code ip}) is not installed. */
        TOOL_MISSING,
        /** The tool failed in another way, or printed something this library cannot read. */
        TOOL_FAILED
    }

    private final Reason reason;

    public OffloadToolException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public OffloadToolException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    /** Why the operation failed. */
    public Reason reason() {
        return reason;
    }
}
