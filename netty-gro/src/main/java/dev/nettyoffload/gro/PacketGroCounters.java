package dev.nettyoffload.gro;

import dev.nettyoffload.core.packet.GsoPacket;

/**
 * What a {@link PacketGroAggregator} or a {@link PacketCoalescer} did. The live object is written by the channel's
 * event loop only (the coalescer's thread), in plain fields; read it there for exact values. From any other thread
 * call {@link #snapshot()}: it returns a copy that never changes and holds every count at least as large as it was
 * at the end of the last read burst (counts are published at each {@link PacketCoalescer#flushAll} and
 * {@link PacketCoalescer#release}: the aggregator's {@code channelReadComplete}, timer flush and drain).
 */
public final class PacketGroCounters {
    private static final PacketPassReason[] PASS_REASONS = PacketPassReason.values();
    private static final PacketFlushReason[] FLUSH_REASONS = PacketFlushReason.values();

    long packetsIn;
    long bytesIn;
    long mergedPacketsOut;
    long packetsMerged;
    long lonePacketsOut;
    long packetsPassedThrough;
    long checksumFailures;
    long packetsDropped;
    long packetsDroppedOnInactive;
    final long[] passed;
    final long[] flushed;
    /** Written after a burst of updates, read before a snapshot: the happens-before edge between the two. */
    private volatile int publications;

    PacketGroCounters() {
        passed = new long[PASS_REASONS.length];
        flushed = new long[FLUSH_REASONS.length];
    }

    private PacketGroCounters(PacketGroCounters c) {
        packetsIn = c.packetsIn;
        bytesIn = c.bytesIn;
        mergedPacketsOut = c.mergedPacketsOut;
        packetsMerged = c.packetsMerged;
        lonePacketsOut = c.lonePacketsOut;
        packetsPassedThrough = c.packetsPassedThrough;
        checksumFailures = c.checksumFailures;
        packetsDropped = c.packetsDropped;
        packetsDroppedOnInactive = c.packetsDroppedOnInactive;
        passed = c.passed.clone();
        flushed = c.flushed.clone();
    }

    /** Makes the counts written so far visible to {@link #snapshot()} on other threads; event loop only. */
    void publish() {
        // Single writer: a plain read-modify-write of the volatile is enough, its write is the release.
        publications = publications + 1;
    }

    /**
     * A copy of the counts that never changes, safe to call from any thread. Counts are 64-bit and written by
     * one thread, so each value read is one that was written (Java's long writes are atomic on 64-bit JVMs).
     */
    public PacketGroCounters snapshot() {
        // The volatile read (an acquire, never removed by the JIT) orders the plain reads of the copy after it.
        @SuppressWarnings("unused")
        int published = publications;
        return new PacketGroCounters(this);
    }

    /** Packets ({@link io.netty.buffer.ByteBuf}s) received. */
    public long packetsIn() {
        return packetsIn;
    }

    /** Bytes of packets received. */
    public long bytesIn() {
        return bytesIn;
    }

    /** {@link GsoPacket}s emitted, each merging two or more packets. */
    public long mergedPacketsOut() {
        return mergedPacketsOut;
    }

    /** Packets that went into an emitted {@link GsoPacket}. */
    public long packetsMerged() {
        return packetsMerged;
    }

    /** Packets held for merging that left alone, unchanged, because nothing joined them. */
    public long lonePacketsOut() {
        return lonePacketsOut;
    }

    /** Packets forwarded unchanged without being held, for any {@link PacketPassReason}. */
    public long packetsPassedThrough() {
        return packetsPassedThrough;
    }

    /** Packets forwarded unchanged for {@code reason}. */
    public long packetsPassedThrough(PacketPassReason reason) {
        return passed[reason.ordinal()];
    }

    /** Flows (runs of held packets) emitted for {@code reason}. */
    public long flowsFlushed(PacketFlushReason reason) {
        return flushed[reason.ordinal()];
    }

    /** Packets whose IPv4 header, TCP, UDP or outer UDP checksum did not verify (passed through). */
    public long checksumFailures() {
        return checksumFailures;
    }

    /**
     * Packets dropped (released) after an unexpected failure, such as an allocation failure while building a
     * merged packet; logged at WARN, rate-limited. Bad input is never dropped: it passes through.
     */
    public long packetsDropped() {
        return packetsDropped;
    }

    /** Packets released unprocessed because the channel went inactive while holding them. */
    public long packetsDroppedOnInactive() {
        return packetsDroppedOnInactive;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(256).append("PacketGroCounters(packetsIn=").append(packetsIn)
                .append(", bytesIn=").append(bytesIn)
                .append(", mergedPacketsOut=").append(mergedPacketsOut)
                .append(", packetsMerged=").append(packetsMerged)
                .append(", lonePacketsOut=").append(lonePacketsOut)
                .append(", packetsPassedThrough=").append(packetsPassedThrough)
                .append(", checksumFailures=").append(checksumFailures)
                .append(", packetsDropped=").append(packetsDropped)
                .append(", packetsDroppedOnInactive=").append(packetsDroppedOnInactive);
        for (PacketPassReason r : PASS_REASONS) {
            if (passed[r.ordinal()] != 0) {
                sb.append(", pass ").append(r).append('=').append(passed[r.ordinal()]);
            }
        }
        for (PacketFlushReason r : FLUSH_REASONS) {
            if (flushed[r.ordinal()] != 0) {
                sb.append(", flush ").append(r).append('=').append(flushed[r.ordinal()]);
            }
        }
        return sb.append(')').toString();
    }
}
