package dev.nettyoffload.testkit;

/**
 * A deliberately simple, byte-at-a-time RFC 1071 Internet checksum over byte arrays, independent of the
 * production code, for verifying what it writes.
 */
public final class RefChecksum {
    private RefChecksum() {
    }

    /** Ones-complement sum of {@code len} bytes at {@code off}, big-endian words, added to {@code initial}. */
    public static long sum(byte[] b, int off, int len, long initial) {
        long s = initial;
        for (int i = 0; i < len; i++) {
            int v = b[off + i] & 0xFF;
            s += (i & 1) == 0 ? v << 8 : v;
        }
        return s;
    }

    /** Folds with end-around carry to 16 bits, one carry at a time. */
    public static int fold(long s) {
        while ((s >>> 16) != 0) {
            s = (s & 0xFFFF) + (s >>> 16);
        }
        return (int) s;
    }

    /** The checksum field value: complement of the fold. */
    public static int checksum(long s) {
        return ~fold(s) & 0xFFFF;
    }

    /** The pseudo-header sum from address bytes (4 or 16 each), protocol and L4 length. */
    public static long pseudo(byte[] src, byte[] dst, int protocol, long length) {
        long s = sum(src, 0, src.length, 0);
        s = sum(dst, 0, dst.length, s);
        return s + protocol + (length >>> 16) + (length & 0xFFFF);
    }

    /** Reads a 16-bit big-endian value. */
    public static int u16(byte[] b, int off) {
        return ((b[off] & 0xFF) << 8) | (b[off + 1] & 0xFF);
    }

    /** Writes a 16-bit big-endian value. */
    public static void put16(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 8);
        b[off + 1] = (byte) v;
    }

    /** Writes a 32-bit big-endian value. */
    public static void put32(byte[] b, int off, long v) {
        b[off] = (byte) (v >>> 24);
        b[off + 1] = (byte) (v >>> 16);
        b[off + 2] = (byte) (v >>> 8);
        b[off + 3] = (byte) v;
    }

    /** Reads a 32-bit big-endian value. */
    public static long u32(byte[] b, int off) {
        return ((long) u16(b, off) << 16) | u16(b, off + 2);
    }
}
