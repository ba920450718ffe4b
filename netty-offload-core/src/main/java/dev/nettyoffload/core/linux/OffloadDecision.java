package dev.nettyoffload.core.linux;

import java.util.Objects;

/** Which {@link OffloadLayer} does one job (segment or coalesce) for one destination, and why. */
public final class OffloadDecision {
    private final OffloadLayer layer;
    private final String reason;

    public OffloadDecision(OffloadLayer layer, String reason) {
        this.layer = Objects.requireNonNull(layer, "layer");
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public OffloadLayer layer() {
        return layer;
    }

    /** A sentence saying why, naming the device and features that decided it. */
    public String reason() {
        return reason;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof OffloadDecision && layer == ((OffloadDecision) o).layer
                && reason.equals(((OffloadDecision) o).reason);
    }

    @Override
    public int hashCode() {
        return layer.hashCode() * 31 + reason.hashCode();
    }

    @Override
    public String toString() {
        return layer + ": " + reason;
    }
}
