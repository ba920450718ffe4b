package dev.nettyoffload.core.linux;

import java.util.Objects;

/**
 * One offload feature of a network device as {@code ethtool -k} shows it: its name, whether it is on, whether
 * the driver lets it change ({@code [fixed]}), and what was last requested when that differs from its state
 * ({@code [requested on]}: asked for, but the kernel keeps it off because something it depends on is off).
 */
public final class NicFeature {
    private final String name;
    private final String group;
    private final boolean enabled;
    private final boolean fixed;
    private final boolean requested;

    /**
     * @param name      the feature name as ethtool prints it, e.g. {@code tx-udp-segmentation}
     * @param group     the group line it is indented under, e.g. {@code tcp-segmentation-offload}, or {@code null}
     * @param enabled   whether the feature is active
     * @param fixed     whether the driver does not allow it to change
     * @param requested whether it was requested on (equal to {@code enabled} unless ethtool showed a difference)
     */
    public NicFeature(String name, String group, boolean enabled, boolean fixed, boolean requested) {
        this.name = Objects.requireNonNull(name, "name");
        this.group = group;
        this.enabled = enabled;
        this.fixed = fixed;
        this.requested = requested;
    }

    public String name() {
        return name;
    }

    /** The group this feature belongs to in {@code ethtool -k} output, or {@code null} for a top-level one. */
    public String group() {
        return group;
    }

    /** Whether the feature is active now. */
    public boolean isEnabled() {
        return enabled;
    }

    /** Whether the driver does not allow the feature to change ({@code [fixed]}). */
    public boolean isFixed() {
        return fixed;
    }

    /** Whether the feature was requested on; differs from {@link #isEnabled()} when the kernel overrode a request. */
    public boolean isRequested() {
        return requested;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof NicFeature)) {
            return false;
        }
        NicFeature f = (NicFeature) o;
        return name.equals(f.name) && Objects.equals(group, f.group) && enabled == f.enabled && fixed == f.fixed
                && requested == f.requested;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, group, enabled, fixed, requested);
    }

    /** Like an {@code ethtool -k} line: {@code tx-udp-segmentation: off [requested on]}. */
    @Override
    public String toString() {
        String s = name + ": " + (enabled ? "on" : "off");
        if (fixed) {
            return s + " [fixed]";
        }
        return requested == enabled ? s : s + " [requested " + (requested ? "on" : "off") + "]";
    }
}
