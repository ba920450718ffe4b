package dev.nettyoffload.core.packet;

/**
 * The exact sum of a range's 32-bit words from two sums of its 8-byte words that lost their carries: the Java 17
 * checksum loop ({@code ChecksumKernel}) adds each 8-byte word straight from memory into a {@code long}, once at
 * offsets 0, 8, 16, ... (sum {@code s}) and once at offsets 4, 12, 20, ... (sum {@code t}, whose words end 4 bytes
 * past the last whole 8-byte word), and lets both overflow.
 * <p>
 * Let {@code E} and {@code O} be the exact sums of the 32-bit words at offsets 0 and 4 mod 8, {@code first} the
 * range's first 32-bit word and {@code next} the one after the last 8-byte word, and {@code E' = E - first +
 * next}. Then, mod 2^64, a little-endian machine has {@code s = E + 2^32 O} and {@code t = O + 2^32 E'}; a
 * big-endian one has {@code t = E' + 2^32 O} and {@code s = O + 2^32 E}. Both are the shape that
 * {@link #recover} solves.
 */
final class TwoStreamSum {
    private static final long LOW32 = 0xFFFFFFFFL;

    private TwoStreamSum() {
    }

    /**
     * {@code E + O} for the two stream sums of fewer than 2^32 8-byte words, {@code first} and {@code next}
     * (zero-extended 32-bit words in the machine's order), on a machine of the given byte order.
     */
    static long exact(long s, long t, long first, long next, boolean littleEndian) {
        return littleEndian ? recover(s, t, next - first) : recover(t, s, first - next) + first - next;
    }

    /**
     * {@code X + Y}, given {@code a = X + 2^32 Y} and {@code b = Y + 2^32 (X + d)}, both mod 2^64, where
     * {@code X}, {@code Y} and {@code X + d} are sums of fewer than 2^32 32-bit words (so their high halves are
     * below 2^32). The low half of {@code b} is {@code Y mod 2^32}, and the high half of {@code a} minus it is
     * {@code floor(X / 2^32) mod 2^32}, which is {@code floor(X / 2^32)} itself: that gives {@code X}. The high
     * half of {@code b} minus {@code X + d} gives {@code floor(Y / 2^32)} the same way.
     */
    static long recover(long a, long b, long d) {
        long yLow = b & LOW32;
        long x = ((a >>> 32) - yLow) << 32 | (a & LOW32);
        long y = ((b >>> 32) - (x + d)) << 32 | yLow;
        return x + y;
    }
}
