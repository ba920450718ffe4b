package dev.nettyoffload.core.packet;

import io.netty.buffer.ByteBuf;
import io.netty.util.IllegalReferenceCountException;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The Internet checksum (RFC 1071): ones-complement sums over {@link ByteBuf} ranges, folding, pseudo-headers
 * for TCP/UDP over IPv4 and IPv6, and incremental updates (RFC 1624).
 * <p>
 * Sums are carried in a {@code long} accumulator of 16-bit big-endian words that may exceed 16 bits; add
 * accumulators with {@code +} and {@link #fold(long)} once at the end. A range summed on its own must start at
 * an even offset from the start of the checksummed data (all header lengths used here are even).
 * <p>
 * The bulk loop reads eight bytes at a time in little-endian order and swaps the folded result: the
 * ones-complement sum is byte-order independent (RFC 1071 section 2(B)), and little-endian reads are native on
 * x86 and arm64, so no per-word byte swap is needed. Direct buffers are read with {@link ByteBuf#getLongLE}
 * (measured faster than a {@link VarHandle} view of their NIO buffer); ranges of 64 bytes or more of a heap
 * buffer are read through a {@link VarHandle} view of the backing array, which is safe and avoids the
 * per-read checks.
 */
public final class InternetChecksum {
    private static final long LOW32 = 0xFFFFFFFFL;
    /** Below this many bytes the per-call setup of an array view costs more than it saves. */
    private static final int VIEW_THRESHOLD = 64;
    private static final VarHandle LONGS_LE_ARRAY =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private InternetChecksum() {
    }

    /**
     * The ones-complement sum of {@code length} bytes of {@code buf} starting at {@code index}, folded to 16 bits
     * (0..0xFFFF) in network byte order; an odd last byte is padded with zero as RFC 1071 requires.
     */
    public static int sum(ByteBuf buf, int index, int length) {
        if (length >= VIEW_THRESHOLD) {
            if (buf.hasArray()) {
                checkRange(buf, index, length);
                return swapFold(sumLittleEndian(buf.array(), buf.arrayOffset() + index, length));
            }
        }
        long a = 0;
        long b = 0;
        int i = index;
        int end = index + length;
        // Two accumulators of 32-bit halves: each add is below 2^33, so 2^30 iterations cannot overflow.
        while (end - i >= 16) {
            long x = buf.getLongLE(i);
            long y = buf.getLongLE(i + 8);
            a += (x & LOW32) + (x >>> 32);
            b += (y & LOW32) + (y >>> 32);
            i += 16;
        }
        a += b;
        if (end - i >= 8) {
            long x = buf.getLongLE(i);
            a += (x & LOW32) + (x >>> 32);
            i += 8;
        }
        if (end - i >= 4) {
            a += buf.getUnsignedIntLE(i);
            i += 4;
        }
        if (end - i >= 2) {
            a += buf.getUnsignedShortLE(i);
            i += 2;
        }
        if (end - i == 1) {
            // The odd byte is the high byte of a big-endian word, i.e. the low byte of a little-endian one.
            a += buf.getUnsignedByte(i);
        }
        return swapFold(a);
    }

    private static int swapFold(long littleEndianSum) {
        int folded = fold(littleEndianSum);
        return ((folded & 0xFF) << 8) | (folded >>> 8);
    }

    private static void checkRange(ByteBuf buf, int index, int length) {
        if (buf.refCnt() == 0) {
            throw new IllegalReferenceCountException(0);
        }
        if (index < 0 || length < 0 || index > buf.capacity() - length) {
            throw new IndexOutOfBoundsException("index: " + index + ", length: " + length + " (expected: range(0, "
                    + buf.capacity() + "))");
        }
    }

    /** Little-endian ones-complement accumulation over a byte array; the caller checked the range. */
    private static long sumLittleEndian(byte[] array, int from, int length) {
        long a = 0;
        long b = 0;
        int i = from;
        int end = from + length;
        while (end - i >= 16) {
            long x = (long) LONGS_LE_ARRAY.get(array, i);
            long y = (long) LONGS_LE_ARRAY.get(array, i + 8);
            a += (x & LOW32) + (x >>> 32);
            b += (y & LOW32) + (y >>> 32);
            i += 16;
        }
        a += b;
        if (end - i >= 8) {
            long x = (long) LONGS_LE_ARRAY.get(array, i);
            a += (x & LOW32) + (x >>> 32);
            i += 8;
        }
        while (end - i >= 2) {
            a += (array[i] & 0xFF) | ((array[i + 1] & 0xFF) << 8);
            i += 2;
        }
        if (end - i == 1) {
            a += array[i] & 0xFF;
        }
        return a;
    }

    /** Folds an accumulator to 16 bits with end-around carry; the result is 0 only for an all-zero input. */
    public static int fold(long sum) {
        long s = (sum & LOW32) + (sum >>> 32);
        s = (s & LOW32) + (s >>> 32);
        s = (s & 0xFFFF) + (s >>> 16);
        s = (s & 0xFFFF) + (s >>> 16);
        s = (s & 0xFFFF) + (s >>> 16);
        return (int) s;
    }

    /** The checksum field value for an accumulator: the complement of its fold. */
    public static int finish(long sum) {
        return ~fold(sum) & 0xFFFF;
    }

    /** Whether data whose checksum field is included sums to all ones, i.e. its checksum verifies. */
    public static boolean verifies(long sum) {
        return fold(sum) == 0xFFFF;
    }

    /** The ones-complement negation of a 16-bit value, to remove a word from an accumulator. */
    public static int negate(int word) {
        return ~word & 0xFFFF;
    }

    /**
     * The IPv4 pseudo-header sum (RFC 9293 section 3.1, RFC 768) for the header at {@code ipIndex}: source,
     * destination, {@code protocol} and {@code l4Length}, unfolded.
     */
    public static long pseudoHeaderIpv4(ByteBuf buf, int ipIndex, int protocol, int l4Length) {
        long src = buf.getUnsignedInt(ipIndex + Ipv4Header.SOURCE_OFFSET);
        long dst = buf.getUnsignedInt(ipIndex + Ipv4Header.DESTINATION_OFFSET);
        return (src >>> 16) + (src & 0xFFFF) + (dst >>> 16) + (dst & 0xFFFF) + protocol + l4Length;
    }

    /**
     * The IPv6 pseudo-header sum (RFC 8200 section 8.1) with the source address at {@code sourceIndex}, the
     * final destination at {@code destinationIndex}, {@code nextHeader} and a 32-bit {@code l4Length}, unfolded.
     */
    public static long pseudoHeaderIpv6(ByteBuf buf, int sourceIndex, int destinationIndex, int nextHeader,
                                        long l4Length) {
        long s = addressSum(buf, sourceIndex) + addressSum(buf, destinationIndex);
        return s + nextHeader + (l4Length >>> 16) + (l4Length & 0xFFFF);
    }

    private static long addressSum(ByteBuf buf, int index) {
        long x = buf.getLong(index);
        long y = buf.getLong(index + 8);
        return (x >>> 48) + ((x >>> 32) & 0xFFFF) + ((x >>> 16) & 0xFFFF) + (x & 0xFFFF)
                + (y >>> 48) + ((y >>> 32) & 0xFFFF) + ((y >>> 16) & 0xFFFF) + (y & 0xFFFF);
    }

    /** The IPv4 header checksum for the {@code headerLength}-byte header at {@code index}, skipping its field. */
    public static int ipv4HeaderChecksum(ByteBuf buf, int index, int headerLength) {
        int s = sum(buf, index, headerLength);
        return finish((long) s + negate(buf.getUnsignedShort(index + Ipv4Header.CHECKSUM_OFFSET)));
    }

    /**
     * Updates a checksum field after a 16-bit word of the covered data changed from {@code oldWord} to
     * {@code newWord}, by RFC 1624 equation 3: {@code HC' = ~(~HC + ~m + m')}.
     */
    public static int update16(int checksum, int oldWord, int newWord) {
        long s = negate(checksum) + (long) negate(oldWord) + (newWord & 0xFFFF);
        return finish(s);
    }

    /** Like {@link #update16} for a 32-bit field (two words), such as a TCP sequence number. */
    public static int update32(int checksum, int oldValue, int newValue) {
        long s = negate(checksum)
                + (long) negate(oldValue >>> 16) + negate(oldValue & 0xFFFF)
                + (newValue >>> 16) + (newValue & 0xFFFF);
        return finish(s);
    }
}
