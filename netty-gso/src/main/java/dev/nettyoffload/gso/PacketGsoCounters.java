package dev.nettyoffload.gso;

/**
 * What a {@link PacketGsoEncoder} did. Updated on the channel's event loop; readable from any thread, where
 * each value is recent and whole. {@link #snapshot()} copies them all at once.
 */
public final class PacketGsoCounters {
    private static final int PACKETS = 0;
    private static final int SEGMENTS = 1;
    private static final int INVALID = 2;

    private final LongCounters values = new LongCounters(3);

    /** {@code GsoPacket}s segmented. */
    public long packets() {
        return values.get(PACKETS);
    }

    /** Plain packets cut from {@code GsoPacket}s. */
    public long segments() {
        return values.get(SEGMENTS);
    }

    /** {@code GsoPacket}s refused by the segmenter; each failed its write. */
    public long invalid() {
        return values.get(INVALID);
    }

    /** An immutable copy of the counters, safe to take from any thread. */
    public Snapshot snapshot() {
        return new Snapshot(packets(), segments(), invalid());
    }

    void segmented(int segments) {
        values.add(PACKETS, 1);
        values.add(SEGMENTS, segments);
    }

    void refused() {
        values.add(INVALID, 1);
    }

    @Override
    public String toString() {
        return snapshot().toString();
    }

    /**
     * The counters of a {@link PacketGsoEncoder} at one moment. Each value is exact; values read while the encoder
     * runs may be a packet apart from each other.
     */
    public static final class Snapshot {
        private final long packets;
        private final long segments;
        private final long invalid;

        Snapshot(long packets, long segments, long invalid) {
            this.packets = packets;
            this.segments = segments;
            this.invalid = invalid;
        }

        /** {@code GsoPacket}s segmented. */
        public long packets() {
            return packets;
        }

        /** Plain packets cut from {@code GsoPacket}s. */
        public long segments() {
            return segments;
        }

        /** {@code GsoPacket}s refused by the segmenter. */
        public long invalid() {
            return invalid;
        }

        @Override
        public String toString() {
            return "PacketGsoCounters(packets=" + packets + ", segments=" + segments + ", invalid=" + invalid + ')';
        }
    }
}
