package dev.nettyoffload.gso;

import dev.nettyoffload.core.Errno;

/**
 * What a {@link GsoEncoder} did. Updated on the channel's event loop only; reads from other threads see
 * recent, not necessarily final, values.
 */
public final class GsoCounters {
    private static final int MAX_ERRNO = 134;

    long writes;
    long passedThrough;
    long kernelSends;
    long kernelSegments;
    long softwareDatagrams;
    long fallbacks;
    long invalid;
    long pacedSends;
    private final long[] rejectionsByErrno = new long[MAX_ERRNO + 1];

    /** Messages this encoder segmented (each write of a large or segmented datagram counts once). */
    public long writes() {
        return writes;
    }

    /** Messages passed down untouched (they fit one datagram or are not datagrams). */
    public long passedThrough() {
        return passedThrough;
    }

    /** {@code SegmentedDatagramPacket}s handed to the kernel (each becomes one UDP_SEGMENT send). */
    public long kernelSends() {
        return kernelSends;
    }

    /** Datagrams inside the kernel sends. */
    public long kernelSegments() {
        return kernelSegments;
    }

    /** Datagrams cut by the software path (including fallbacks). */
    public long softwareDatagrams() {
        return softwareDatagrams;
    }

    /** Kernel sends refused as segmented sends and resent in software. */
    public long fallbacks() {
        return fallbacks;
    }

    /** Writes refused before reaching the channel (bad segment size, address family, no recipient). */
    public long invalid() {
        return invalid;
    }

    /** Sends the pacer held back because they came before their time. */
    public long pacedSends() {
        return pacedSends;
    }

    /** Kernel sends that failed with {@code errno} (fallbacks and application errors such as EMSGSIZE). */
    public long rejections(int errno) {
        return errno > 0 && errno <= MAX_ERRNO ? rejectionsByErrno[errno] : 0;
    }

    void rejected(int errno) {
        if (errno > 0 && errno <= MAX_ERRNO) {
            rejectionsByErrno[errno]++;
        }
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(160).append("GsoCounters(writes=").append(writes)
                .append(", passedThrough=").append(passedThrough)
                .append(", kernelSends=").append(kernelSends)
                .append(", kernelSegments=").append(kernelSegments)
                .append(", softwareDatagrams=").append(softwareDatagrams)
                .append(", fallbacks=").append(fallbacks)
                .append(", invalid=").append(invalid)
                .append(", pacedSends=").append(pacedSends);
        for (int e = 1; e <= MAX_ERRNO; e++) {
            if (rejectionsByErrno[e] != 0) {
                sb.append(", ").append(Errno.name(e)).append('=').append(rejectionsByErrno[e]);
            }
        }
        return sb.append(')').toString();
    }
}
