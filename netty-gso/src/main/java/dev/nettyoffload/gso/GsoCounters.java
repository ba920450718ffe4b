package dev.nettyoffload.gso;

import dev.nettyoffload.core.Errno;

/**
 * What a {@link GsoEncoder} did. Updated on the channel's event loop; readable from any thread, where each value
 * is recent and whole. {@link #snapshot()} copies them all at once, for a log line or a metrics registry.
 */
public final class GsoCounters {
    /** Largest errno counted by {@link #rejections(int)}; Linux's errno values end at 133 (EHWPOISON). */
    private static final int MAX_ERRNO = 134;

    static final int WRITES = 0;
    static final int PASSED_THROUGH = 1;
    static final int KERNEL_SENDS = 2;
    static final int KERNEL_SEGMENTS = 3;
    static final int SOFTWARE_DATAGRAMS = 4;
    static final int FALLBACKS = 5;
    static final int INVALID = 6;
    static final int PACED_SENDS = 7;
    static final int SINGLE_DATAGRAMS = 8;
    private static final int COUNTS = 9;
    /** Rejections by errno follow the counts: slot {@code REJECTIONS + errno}. */
    private static final int REJECTIONS = COUNTS - 1;

    private final LongCounters values = new LongCounters(COUNTS + MAX_ERRNO);

    /** Messages this encoder segmented (each write of a large or segmented datagram counts once). */
    public long writes() {
        return values.get(WRITES);
    }

    /** Datagrams passed down as they came, because they fit one datagram. */
    public long passedThrough() {
        return values.get(PASSED_THROUGH);
    }

    /** {@code SegmentedDatagramPacket}s handed to the kernel (each becomes one UDP_SEGMENT send). */
    public long kernelSends() {
        return values.get(KERNEL_SENDS);
    }

    /** Datagrams inside the kernel sends. */
    public long kernelSegments() {
        return values.get(KERNEL_SEGMENTS);
    }

    /**
     * Datagrams the kernel path handed down on their own, as plain datagrams, because that piece of a write was one
     * segment or less: typically the tail after the full kernel sends (a 65536-byte write in 1400-byte segments to
     * IPv4 is one kernel send of 46 segments, 64400 bytes, the most under the 65493-byte limit, and one single
     * datagram of 1136 bytes). Each is one send operation, like a kernel send; none is a fallback.
     */
    public long singleDatagrams() {
        return values.get(SINGLE_DATAGRAMS);
    }

    /**
     * Datagrams cut by the software path: on NIO, in {@link GsoMode#SOFTWARE}, without kernel support, and the
     * resends after a fallback. The kernel path's own single datagrams are {@link #singleDatagrams()}.
     */
    public long softwareDatagrams() {
        return values.get(SOFTWARE_DATAGRAMS);
    }

    /** Kernel sends refused as segmented sends and resent in software. */
    public long fallbacks() {
        return values.get(FALLBACKS);
    }

    /** Writes refused before reaching the channel (bad segment size, address family, no recipient). */
    public long invalid() {
        return values.get(INVALID);
    }

    /** Sends the pacer held back because they came before their time. */
    public long pacedSends() {
        return values.get(PACED_SENDS);
    }

    /** Kernel sends that failed with {@code errno} (fallbacks and application errors such as EMSGSIZE). */
    public long rejections(int errno) {
        return errno > 0 && errno <= MAX_ERRNO ? values.get(REJECTIONS + errno) : 0;
    }

    /** An immutable copy of the counters, safe to take from any thread. */
    public Snapshot snapshot() {
        return new Snapshot(values.copy(0, COUNTS + MAX_ERRNO));
    }

    /** Adds one to counter {@code index}; on the event loop only. */
    void increment(int index) {
        values.add(index, 1);
    }

    /** Adds {@code delta} to counter {@code index}; on the event loop only. */
    void add(int index, long delta) {
        values.add(index, delta);
    }

    void rejected(int errno) {
        if (errno > 0 && errno <= MAX_ERRNO) {
            values.add(REJECTIONS + errno, 1);
        }
    }

    @Override
    public String toString() {
        return snapshot().toString();
    }

    /**
     * The counters of a {@link GsoEncoder} at one moment. Each value is exact; values read while the encoder
     * runs may be a write apart from each other.
     */
    public static final class Snapshot {
        private final long[] values;

        Snapshot(long[] values) {
            this.values = values;
        }

        /** See {@link GsoCounters#writes()}. */
        public long writes() {
            return values[WRITES];
        }

        /** See {@link GsoCounters#passedThrough()}. */
        public long passedThrough() {
            return values[PASSED_THROUGH];
        }

        /** See {@link GsoCounters#kernelSends()}. */
        public long kernelSends() {
            return values[KERNEL_SENDS];
        }

        /** See {@link GsoCounters#kernelSegments()}. */
        public long kernelSegments() {
            return values[KERNEL_SEGMENTS];
        }

        /** See {@link GsoCounters#singleDatagrams()}. */
        public long singleDatagrams() {
            return values[SINGLE_DATAGRAMS];
        }

        /** See {@link GsoCounters#softwareDatagrams()}. */
        public long softwareDatagrams() {
            return values[SOFTWARE_DATAGRAMS];
        }

        /** See {@link GsoCounters#fallbacks()}. */
        public long fallbacks() {
            return values[FALLBACKS];
        }

        /** See {@link GsoCounters#invalid()}. */
        public long invalid() {
            return values[INVALID];
        }

        /** See {@link GsoCounters#pacedSends()}. */
        public long pacedSends() {
            return values[PACED_SENDS];
        }

        /** See {@link GsoCounters#rejections(int)}. */
        public long rejections(int errno) {
            return errno > 0 && errno <= MAX_ERRNO ? values[REJECTIONS + errno] : 0;
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder(160).append("GsoCounters(writes=").append(writes())
                    .append(", passedThrough=").append(passedThrough())
                    .append(", kernelSends=").append(kernelSends())
                    .append(", kernelSegments=").append(kernelSegments())
                    .append(", singleDatagrams=").append(singleDatagrams())
                    .append(", softwareDatagrams=").append(softwareDatagrams())
                    .append(", fallbacks=").append(fallbacks())
                    .append(", invalid=").append(invalid())
                    .append(", pacedSends=").append(pacedSends());
            for (int e = 1; e <= MAX_ERRNO; e++) {
                if (values[REJECTIONS + e] != 0) {
                    sb.append(", ").append(Errno.name(e)).append('=').append(values[REJECTIONS + e]);
                }
            }
            return sb.append(')').toString();
        }
    }
}
