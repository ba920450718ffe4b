package dev.nettyoffload.gro;

import io.netty.channel.unix.SegmentedDatagramPacket;

/**
 * What a {@link GroAggregator} did. The live object is written by the channel's event loop only, in plain
 * fields; read it there for exact values. From any other thread call {@link #snapshot()}: it returns a copy that
 * never changes and holds every count at least as large as it was at the end of the last read burst (the
 * aggregator publishes its counts at each {@code channelReadComplete}, timer flush and drain).
 */
public final class GroCounters {
    long datagramsIn;
    long bytesIn;
    long batchesOut;
    long datagramsOut;
    long segmentedBatchesOut;
    long kernelGroBatches;
    long kernelGroDatagrams;
    long contiguousRebuilds;
    long compositeRebuilds;
    long truncationSuspected;
    long zeroLengthDatagrams;
    long oversizeDatagrams;
    long presegmentedPackets;
    long presegmentedDatagrams;
    long droppedOnInactive;
    /** Written after a burst of updates, read before a snapshot: the happens-before edge between the two. */
    private volatile int publications;

    GroCounters() {
    }

    private GroCounters(GroCounters c) {
        datagramsIn = c.datagramsIn;
        bytesIn = c.bytesIn;
        batchesOut = c.batchesOut;
        datagramsOut = c.datagramsOut;
        segmentedBatchesOut = c.segmentedBatchesOut;
        kernelGroBatches = c.kernelGroBatches;
        kernelGroDatagrams = c.kernelGroDatagrams;
        contiguousRebuilds = c.contiguousRebuilds;
        compositeRebuilds = c.compositeRebuilds;
        truncationSuspected = c.truncationSuspected;
        zeroLengthDatagrams = c.zeroLengthDatagrams;
        oversizeDatagrams = c.oversizeDatagrams;
        presegmentedPackets = c.presegmentedPackets;
        presegmentedDatagrams = c.presegmentedDatagrams;
        droppedOnInactive = c.droppedOnInactive;
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
    public GroCounters snapshot() {
        // The volatile read (an acquire, never removed by the JIT) orders the plain reads of the copy after it.
        @SuppressWarnings("unused")
        int published = publications;
        return new GroCounters(this);
    }

    /** Datagrams received (each slice of a kernel batch counts as one). */
    public long datagramsIn() {
        return datagramsIn;
    }

    /** Payload bytes received. */
    public long bytesIn() {
        return bytesIn;
    }

    /** Messages emitted: batches, lone datagrams and pass-throughs. */
    public long batchesOut() {
        return batchesOut;
    }

    /** Datagrams inside the emitted messages. */
    public long datagramsOut() {
        return datagramsOut;
    }

    /** Of {@link #batchesOut()}, those emitted as a {@link SegmentedDatagramPacket} built here. */
    public long segmentedBatchesOut() {
        return segmentedBatchesOut;
    }

    /** Datagrams per emitted message, or 0 before the first. */
    public double meanBatchSize() {
        return batchesOut == 0 ? 0 : (double) datagramsOut / batchesOut;
    }

    /** Runs of datagrams that arrived adjacent in one receive buffer: batches the kernel coalesced (UDP_GRO). */
    public long kernelGroBatches() {
        return kernelGroBatches;
    }

    /** Datagrams that arrived inside a {@linkplain #kernelGroBatches() kernel batch}. */
    public long kernelGroDatagrams() {
        return kernelGroDatagrams;
    }

    /** Batches rebuilt as one slice of the receive buffer. */
    public long contiguousRebuilds() {
        return contiguousRebuilds;
    }

    /** Batches rebuilt as a composite buffer. */
    public long compositeRebuilds() {
        return compositeRebuilds;
    }

    /** Datagrams that exactly filled their receive buffer and were probably truncated by the kernel. */
    public long truncationSuspected() {
        return truncationSuspected;
    }

    /** Zero-length datagrams (passed through alone). */
    public long zeroLengthDatagrams() {
        return zeroLengthDatagrams;
    }

    /** Datagrams larger than a batch may be (passed through alone). */
    public long oversizeDatagrams() {
        return oversizeDatagrams;
    }

    /**
     * {@link SegmentedDatagramPacket}s that arrived already segmented and passed through unchanged: the kernel
     * batches of a batch reader ({@code IoUringDatagramReader}, {@code EpollBatchReader}), or forwarded batches.
     */
    public long presegmentedPackets() {
        return presegmentedPackets;
    }

    /** Datagrams inside {@linkplain #presegmentedPackets() presegmented packets} (counted in {@link #datagramsIn()} too). */
    public long presegmentedDatagrams() {
        return presegmentedDatagrams;
    }

    /** Datagrams released unprocessed because the channel went inactive while holding them. */
    public long droppedOnInactive() {
        return droppedOnInactive;
    }

    @Override
    public String toString() {
        return "GroCounters(datagramsIn=" + datagramsIn + ", bytesIn=" + bytesIn + ", batchesOut=" + batchesOut
                + ", datagramsOut=" + datagramsOut + ", segmentedBatchesOut=" + segmentedBatchesOut
                + ", kernelGroBatches=" + kernelGroBatches + ", kernelGroDatagrams=" + kernelGroDatagrams
                + ", contiguousRebuilds=" + contiguousRebuilds + ", compositeRebuilds=" + compositeRebuilds
                + ", truncationSuspected=" + truncationSuspected + ", zeroLengthDatagrams=" + zeroLengthDatagrams
                + ", oversizeDatagrams=" + oversizeDatagrams + ", presegmentedPackets=" + presegmentedPackets
                + ", presegmentedDatagrams=" + presegmentedDatagrams
                + ", droppedOnInactive=" + droppedOnInactive + ')';
    }
}
