package dev.nettyoffload.gro;

import dev.nettyoffload.core.packet.InternetChecksum;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Big-endian reads and ones-complement sums over a copy of a packet's headers in a {@code byte[]}. The GRO path
 * copies each packet's headers once (one range and reference-count check) and reads every field from the copy:
 * per-field {@code ByteBuf} calls each repeat those checks, get slower once the JIT has seen several buffer
 * classes, and on JDK 24+ (where Netty no longer uses {@code sun.misc.Unsafe}) are slower still. Array view
 * handles compile to plain loads on every JDK this project supports.
 */
final class HeaderBytes {
    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
    // Sums read in native order (plain loads, no byte swap per word): a ones-complement sum is byte-order
    // independent up to one swap of the folded result (RFC 1071, section 2(B)).
    private static final VarHandle NATIVE_SHORT =
            MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.nativeOrder());
    private static final VarHandle NATIVE_INT =
            MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.nativeOrder());
    private static final VarHandle NATIVE_LONG =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.nativeOrder());
    private static final boolean LITTLE_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;

    private HeaderBytes() {
    }

    static int unsignedByte(byte[] a, int i) {
        return a[i] & 0xFF;
    }

    static int unsignedShort(byte[] a, int i) {
        return (short) SHORT.get(a, i) & 0xFFFF;
    }

    static short getShort(byte[] a, int i) {
        return (short) SHORT.get(a, i);
    }

    static int getInt(byte[] a, int i) {
        return (int) INT.get(a, i);
    }

    static long unsignedInt(byte[] a, int i) {
        return (int) INT.get(a, i) & 0xFFFFFFFFL;
    }

    static long getLong(byte[] a, int i) {
        return (long) LONG.get(a, i);
    }

    /**
     * The ones-complement sum of {@code length} bytes from {@code index} as big-endian 16-bit words (an odd last
     * byte padded with zero), folded to 16 bits (callers may add more to it). Headers are short: 8-byte native
     * words, each split into its 32-bit halves, into one long accumulator are enough.
     */
    static long sum(byte[] a, int index, int length) {
        long s = 0;
        int i = index;
        final int end = index + length;
        // A counted loop (int counter, invariant bound), which C2 compiles without a safepoint poll per word.
        for (int w = length >>> 3; w > 0; w--) {
            long x = (long) NATIVE_LONG.get(a, i);
            s += (x >>> 32) + (x & 0xFFFFFFFFL);
            i += 8;
        }
        if (end - i >= 4) {
            s += (int) NATIVE_INT.get(a, i) & 0xFFFFFFFFL;
            i += 4;
        }
        if (end - i >= 2) {
            s += (short) NATIVE_SHORT.get(a, i) & 0xFFFF;
            i += 2;
        }
        if (i < end) {
            // The padded word (byte, 0) in native order.
            s += LITTLE_ENDIAN ? a[i] & 0xFF : (a[i] & 0xFF) << 8;
        }
        int folded = InternetChecksum.fold(s);
        return LITTLE_ENDIAN ? ((folded & 0xFF) << 8) | (folded >>> 8) : folded;
    }

    /** The IPv4 pseudo-header sum (RFC 9293 section 3.1) for the header at {@code ip}, unfolded. */
    static long pseudoHeaderIpv4(byte[] a, int ip, int protocol, int l4Length) {
        return sum(a, ip + 12, 8) + protocol + l4Length;
    }

    /** The IPv6 pseudo-header sum (RFC 8200 section 8.1), addresses at {@code source} and {@code destination}. */
    static long pseudoHeaderIpv6(byte[] a, int source, int destination, int nextHeader, long l4Length) {
        return sum(a, source, 16) + sum(a, destination, 16) + nextHeader + (l4Length >>> 16) + (l4Length & 0xFFFF);
    }
}
