package dev.nettyoffload.gro;

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
     * byte padded with zero), unfolded. Headers are short: 32-bit words into one long accumulator is enough.
     */
    static long sum(byte[] a, int index, int length) {
        long s = 0;
        int i = index;
        int end = index + length;
        while (end - i >= 4) {
            s += (int) INT.get(a, i) & 0xFFFFFFFFL;
            i += 4;
        }
        if (end - i >= 2) {
            s += (short) SHORT.get(a, i) & 0xFFFF;
            i += 2;
        }
        if (i < end) {
            s += (a[i] & 0xFF) << 8;
        }
        return s;
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
