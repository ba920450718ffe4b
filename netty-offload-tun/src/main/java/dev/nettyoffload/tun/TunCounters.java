package dev.nettyoffload.tun;

/**
 * What a {@link TunChannel} did. The live object is written by the channel's event loop only, in plain fields;
 * read it there for exact values. From any other thread call {@link #snapshot()}: a copy that never changes and
 * holds every count at least as large as it was at the end of the last read round or write flush.
 */
public final class TunCounters {
    long reads;
    long bytesRead;
    long gsoReads;
    long segmentsRead;
    long checksumsCompleted;
    long copiedReads;
    long malformedReads;
    long readErrors;
    long budgetExhausted;
    long writes;
    long bytesWritten;
    long gsoWrites;
    long segmentedWrites;
    long segmentsWritten;
    long gsoWriteRefusals;
    long partialChecksumWrites;
    long writesDropped;
    long writeErrors;
    /** Written after a burst of updates, read before a snapshot: the happens-before edge between the two. */
    private volatile int publications;

    TunCounters() {
    }

    private TunCounters(TunCounters c) {
        reads = c.reads;
        bytesRead = c.bytesRead;
        gsoReads = c.gsoReads;
        segmentsRead = c.segmentsRead;
        checksumsCompleted = c.checksumsCompleted;
        copiedReads = c.copiedReads;
        malformedReads = c.malformedReads;
        readErrors = c.readErrors;
        budgetExhausted = c.budgetExhausted;
        writes = c.writes;
        bytesWritten = c.bytesWritten;
        gsoWrites = c.gsoWrites;
        segmentedWrites = c.segmentedWrites;
        segmentsWritten = c.segmentsWritten;
        gsoWriteRefusals = c.gsoWriteRefusals;
        partialChecksumWrites = c.partialChecksumWrites;
        writesDropped = c.writesDropped;
        writeErrors = c.writeErrors;
    }

    /** Makes the counts written so far visible to {@link #snapshot()}; event loop only. */
    void publish() {
        // Single writer: a plain read-modify-write of the volatile is enough, its write is the release.
        publications = publications + 1;
    }

    /** A copy of the counts that never changes, safe to call from any thread. */
    public TunCounters snapshot() {
        // The volatile read (an acquire) orders the plain reads of the copy after it.
        @SuppressWarnings("unused")
        int published = publications;
        return new TunCounters(this);
    }

    /** Packets read from the device (a super-packet counts once). */
    public long reads() {
        return reads;
    }

    /** Bytes of packets read, without the {@code virtio_net_hdr}. */
    public long bytesRead() {
        return bytesRead;
    }

    /** Reads that carried a GSO {@code virtio_net_hdr} and became a {@link dev.nettyoffload.core.packet.GsoPacket}. */
    public long gsoReads() {
        return gsoReads;
    }

    /** Wire packets the read packets stand for: one per plain read, the segment count of each super-packet. */
    public long segmentsRead() {
        return segmentsRead;
    }

    /** Checksums completed on read ({@code VIRTIO_NET_HDR_F_NEEDS_CSUM}). */
    public long checksumsCompleted() {
        return checksumsCompleted;
    }

    /** Short reads copied into a buffer of their size, so that the 64 KiB read buffer is kept. */
    public long copiedReads() {
        return copiedReads;
    }

    /** Reads dropped because their header made no sense (shorter than the header, checksum range outside). */
    public long malformedReads() {
        return malformedReads;
    }

    /** {@code read} calls that failed with something else than {@code EAGAIN}. */
    public long readErrors() {
        return readErrors;
    }

    /** Readiness events that ended at {@link TunChannelOption#MAX_READS_PER_WAKEUP} with data possibly left. */
    public long budgetExhausted() {
        return budgetExhausted;
    }

    /** Packets written to the device (a super-packet counts once, a segmented one once per segment). */
    public long writes() {
        return writes;
    }

    /** Bytes of packets written, without the {@code virtio_net_hdr}. */
    public long bytesWritten() {
        return bytesWritten;
    }

    /** Super-packets written whole with a GSO {@code virtio_net_hdr}. */
    public long gsoWrites() {
        return gsoWrites;
    }

    /** {@link dev.nettyoffload.core.packet.GsoPacket}s cut in software because the offload is off. */
    public long segmentedWrites() {
        return segmentedWrites;
    }

    /** Packets written that came out of software segmentation. */
    public long segmentsWritten() {
        return segmentsWritten;
    }

    /** Super-packet writes the kernel refused ({@code EINVAL}); each was segmented and written again. */
    public long gsoWriteRefusals() {
        return gsoWriteRefusals;
    }

    /** Plain packets written with {@code NEEDS_CSUM} ({@link TunChannelOption#PARTIAL_CHECKSUM_WRITES}). */
    public long partialChecksumWrites() {
        return partialChecksumWrites;
    }

    /** Packets the device had no room for ({@code EAGAIN}) or took while down ({@code EIO}), dropped as a NIC drops them. */
    public long writesDropped() {
        return writesDropped;
    }

    /** Writes that failed otherwise; their promises failed. */
    public long writeErrors() {
        return writeErrors;
    }

    @Override
    public String toString() {
        return "TunCounters(reads=" + reads + ", bytesRead=" + bytesRead + ", gsoReads=" + gsoReads
                + ", segmentsRead=" + segmentsRead + ", checksumsCompleted=" + checksumsCompleted
                + ", copiedReads=" + copiedReads + ", malformedReads=" + malformedReads + ", readErrors=" + readErrors
                + ", budgetExhausted=" + budgetExhausted + ", writes=" + writes + ", bytesWritten=" + bytesWritten
                + ", gsoWrites=" + gsoWrites + ", segmentedWrites=" + segmentedWrites
                + ", segmentsWritten=" + segmentsWritten + ", gsoWriteRefusals=" + gsoWriteRefusals
                + ", partialChecksumWrites=" + partialChecksumWrites
                + ", writesDropped=" + writesDropped + ", writeErrors=" + writeErrors + ')';
    }
}
