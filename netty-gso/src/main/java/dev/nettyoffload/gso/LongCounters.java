package dev.nettyoffload.gso;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Counters written by one thread, the channel's event loop, and read by any. Opaque stores and loads make each
 * value whole (a plain {@code long} may be read torn, JLS 17.7) and visible to other threads soon after it is
 * written, without the fence a {@code volatile} store costs; on x86 and ARM they compile to plain moves.
 */
final class LongCounters {
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] values;

    LongCounters(int size) {
        values = new long[size];
    }

    /** Adds {@code delta} to counter {@code index}; call from the writing thread only. */
    void add(int index, long delta) {
        // A single writer: its own plain read is current, and only the store has to be published.
        LONGS.setOpaque(values, index, values[index] + delta);
    }

    /** The value of counter {@code index}, from any thread. */
    long get(int index) {
        return (long) LONGS.getOpaque(values, index);
    }

    /** A copy of counters {@code from} to {@code from + length - 1}, from any thread. */
    long[] copy(int from, int length) {
        long[] copy = new long[length];
        for (int i = 0; i < length; i++) {
            copy[i] = get(from + i);
        }
        return copy;
    }
}
