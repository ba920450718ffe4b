package dev.nettyoffload.examples.quic;

import dev.nettyoffload.gso.GsoCounters;
import dev.nettyoffload.gso.GsoEncoder;

import java.util.Locale;

/** A copy of a {@link GsoEncoder}'s counters taken on its event loop, with the figures the examples print. */
public final class SendStats {
    /** Stats of a channel without an encoder. */
    public static final SendStats NONE = new SendStats(false, 0, 0, 0, 0, 0, 0);

    public final boolean kernelPath;
    public final long kernelSends;
    public final long kernelSegments;
    /** Datagrams the kernel path sent on their own (the one-segment tail of a write). */
    public final long singleDatagrams;
    public final long softwareDatagrams;
    public final long passedThrough;
    public final long fallbacks;

    SendStats(boolean kernelPath, long kernelSends, long kernelSegments, long singleDatagrams, long softwareDatagrams,
              long passedThrough, long fallbacks) {
        this.kernelPath = kernelPath;
        this.kernelSends = kernelSends;
        this.kernelSegments = kernelSegments;
        this.singleDatagrams = singleDatagrams;
        this.softwareDatagrams = softwareDatagrams;
        this.passedThrough = passedThrough;
        this.fallbacks = fallbacks;
    }

    /** Copies the counters of {@code encoder} (call on its channel's event loop); {@link #NONE} for null. */
    public static SendStats of(GsoEncoder encoder) {
        if (encoder == null) {
            return NONE;
        }
        GsoCounters.Snapshot c = encoder.counters().snapshot();
        return new SendStats(encoder.isKernelPath(), c.kernelSends(), c.kernelSegments(), c.singleDatagrams(),
                c.softwareDatagrams(), c.passedThrough(), c.fallbacks());
    }

    /** Datagrams that left through the encoder: kernel segments, single, software and passed-through datagrams. */
    public long datagrams() {
        return kernelSegments + singleDatagrams + softwareDatagrams + passedThrough;
    }

    /** Messages the socket was handed: one per kernel send, single, software or passed-through datagram. */
    public long sendOperations() {
        return kernelSends + singleDatagrams + softwareDatagrams + passedThrough;
    }

    @Override
    public String toString() {
        if (this == NONE) {
            return "no GsoEncoder";
        }
        return String.format(Locale.ROOT, "%s path, %d datagrams in %d send operations (%.1f per send; %d kernel"
                        + " sends of %d segments, %d single datagrams, %d software datagrams, %d passed through),"
                        + " %d fallbacks",
                kernelPath ? "kernel" : "software", datagrams(), sendOperations(),
                sendOperations() == 0 ? 0.0 : (double) datagrams() / sendOperations(), kernelSends, kernelSegments,
                singleDatagrams, softwareDatagrams, passedThrough, fallbacks);
    }
}
