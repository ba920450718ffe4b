package dev.nettyoffload.core.packet;

import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The bulk loops of {@link InternetChecksum}, over memory whose range and reference count the caller has
 * checked once. Every method returns the ones-complement sum of its bytes folded to 16 bits in network byte
 * order, as if the range started at an even offset of the checksummed data.
 * <p>
 * Java 17 version (a multi-release jar replaces this class on Java 22+, see {@code src/main/java22}). Kernels,
 * chosen once at class initialisation:
 * <ul>
 *   <li>{@code unsafe}: {@code sun.misc.Unsafe} (module jdk.unsupported, looked up reflectively) sums
 *   64-bit words at two offsets into {@code long} accumulators (see {@code Raw.sumOffHeap}),
 *   from a native address (direct buffers) or a byte array (heap buffers), in two copies of the loop that
 *   each see one kind of memory.</li>
 *   <li>{@code nio}: when Unsafe is missing, or on Java 24+ where its memory access methods print a warning
 *   (JEP 498) and the multi-release variant was not built: the same loop over a little-endian
 *   {@link ByteBuffer} with absolute reads (arrays are wrapped, direct memory is read through
 *   {@code nioBuffer}).</li>
 * </ul>
 * The system property {@code dev.nettyoffload.checksum.kernel} forces {@code nio} (for comparisons).
 */
final class ChecksumKernel {
    private static final long LOW32 = 0xFFFFFFFFL;
    private static final boolean LITTLE = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
    /** The kernel in use: {@code unsafe} or {@code nio}. */
    static final String NAME;
    /** Whether {@link #sumAddress} may be called; otherwise direct memory goes through {@link #sumNio}. */
    static final boolean ADDRESSES;
    /** Whether {@link #copySumArray} may be called; otherwise the caller copies and sums in two passes. */
    static final boolean ARRAYS;
    /**
     * Whether {@link #put16}, {@link #put32}, {@link #put8} and {@link #copy} may be called: raw memory access,
     * whichever checksum kernel was forced.
     */
    static final boolean STORES;

    static {
        String wanted = System.getProperty("dev.nettyoffload.checksum.kernel", "");
        STORES = Runtime.version().feature() < 24 && Raw.available();
        boolean unsafe = !"nio".equals(wanted) && STORES;
        NAME = unsafe ? "unsafe" : "nio";
        ADDRESSES = unsafe;
        ARRAYS = unsafe;
    }

    private ChecksumKernel() {
    }

    /** {@code length} bytes at a native memory address; only when {@link #ADDRESSES}. */
    static int sumAddress(long address, int length) {
        return toNetwork(Raw.sumOffHeap(address, length));
    }

    /** {@code length} bytes of {@code array} from {@code offset}. */
    static int sumArray(byte[] array, int offset, int length) {
        if (ADDRESSES) {
            return toNetwork(Raw.sumArray(array, offset, length));
        }
        return sumNio(ByteBuffer.wrap(array, offset, length));
    }

    /**
     * Copies {@code length} bytes from native address {@code src} to {@code dst} (not overlapping) and returns
     * their sum; only when {@link #ADDRESSES}.
     */
    static int copySumAddress(long src, long dst, int length) {
        return toNetwork(Raw.copySumOffHeap(src, dst, length));
    }

    /** Like {@link #copySumAddress} between two arrays; only when {@link #ARRAYS}. */
    static int copySumArray(byte[] src, int srcOffset, byte[] dst, int dstOffset, int length) {
        return toNetwork(Raw.copySumArray(src, srcOffset, dst, dstOffset, length));
    }

    /** Big-endian 16-bit store at a native address; only when {@link #STORES}. */
    static void put16(long address, int value) {
        Raw.UNSAFE.putShort(address, LITTLE ? Short.reverseBytes((short) value) : (short) value);
    }

    /** Big-endian 32-bit store at a native address; only when {@link #STORES}. */
    static void put32(long address, int value) {
        Raw.UNSAFE.putInt(address, LITTLE ? Integer.reverseBytes(value) : value);
    }

    /** One byte at a native address; only when {@link #STORES}. */
    static void put8(long address, int value) {
        Raw.UNSAFE.putByte(address, (byte) value);
    }

    /** Copies between native addresses (not overlapping); only when {@link #STORES}. */
    static void copy(long src, long dst, int length) {
        Raw.UNSAFE.copyMemory(src, dst, length);
    }

    /** Copies from a native address into an array; only when {@link #STORES}. */
    static void copyToArray(long src, byte[] dst, int dstOffset, int length) {
        Raw.UNSAFE.copyMemory(null, src, dst, Raw.BYTE_ARRAY_BASE + dstOffset, length);
    }

    /** The bytes of {@code buffer} from its position to its limit (any kind, read-only too), read little-endian. */
    static int sumNio(ByteBuffer buffer) {
        ByteBuffer b = buffer.order() == ByteOrder.LITTLE_ENDIAN ? buffer
                : buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int i = buffer.position();
        int end = buffer.limit();
        long a = 0;
        long c = 0;
        long d = 0;
        long e = 0;
        while (end - i >= 16) {
            a += b.getInt(i) & LOW32;
            c += b.getInt(i + 4) & LOW32;
            d += b.getInt(i + 8) & LOW32;
            e += b.getInt(i + 12) & LOW32;
            i += 16;
        }
        while (end - i >= 4) {
            a += b.getInt(i) & LOW32;
            i += 4;
        }
        if (end - i >= 2) {
            c += b.getShort(i) & 0xFFFF;
            i += 2;
        }
        if (end - i == 1) {
            // The odd byte is the high byte of a big-endian word, the low byte of a little-endian one.
            d += b.get(i) & 0xFF;
        }
        return swap16(InternetChecksum.fold(a + c + d + e));
    }

    /** Native-order 16-bit fold to network order. */
    private static int toNetwork(long nativeSum) {
        int folded = InternetChecksum.fold(nativeSum);
        return LITTLE ? swap16(folded) : folded;
    }

    static int swap16(int v) {
        return ((v & 0xFF) << 8) | (v >>> 8);
    }

    /** Holds Unsafe, so that a runtime without jdk.unsupported never links against it. */
    private static final class Raw {
        static final sun.misc.Unsafe UNSAFE;
        static final long BYTE_ARRAY_BASE;

        static {
            sun.misc.Unsafe u = null;
            long base = 0;
            try {
                Field f = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
                f.setAccessible(true);
                u = (sun.misc.Unsafe) f.get(null);
                base = u.arrayBaseOffset(byte[].class);
                if (u.arrayIndexScale(byte[].class) != 1) {
                    u = null;
                }
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                u = null;
            }
            UNSAFE = u;
            BYTE_ARRAY_BASE = base;
        }

        private Raw() {
        }

        static boolean available() {
            try {
                Class.forName("sun.misc.Unsafe", false, ChecksumKernel.class.getClassLoader());
                return UNSAFE != null;
            } catch (ClassNotFoundException | LinkageError e) {
                return false;
            }
        }

        /**
         * Native-order sum of the 32-bit words at a native address, unfolded. The loop reads every byte twice, as
         * two streams of 8-byte words summed mod 2^64 by x86's add-from-memory: {@code s}, the words at 0, 8,
         * 16, ..., and {@code t}, the words at 4, 12, 20, ...; carries out of bit 63 are lost, but together the
         * two sums give back the exact sum ({@link TwoStreamSum}). Eight loads and eight instructions per 32
         * bytes: the loop before it read each word whole and its high half as a zero-extended 32-bit word, which
         * takes twelve instructions, and ran at 50.4 against 48.0 ns for 1448 bytes on the EPYC test machine.
         * <p>
         * Off-heap and array reads have separate loops: an Unsafe access whose base may be either null or an
         * object is an "unknown" access to C2, which then fences every read and runs the loop about twice as
         * slowly. The loops count with an {@code int}, so C2 compiles them as counted loops.
         */
        static long sumOffHeap(long address, int length) {
            sun.misc.Unsafe u = UNSAFE;
            long s0 = 0;
            long s1 = 0;
            long t0 = 0;
            long t1 = 0;
            // The t stream reads 4 bytes past each block: keep 4 bytes after the last one.
            int whole = length < 36 ? 0 : (length - 4) & ~31;
            int i = 0;
            for (; i < whole; i += 32) {
                long p = address + i;
                s0 += u.getLong(p);
                t0 += u.getLong(p + 4);
                s1 += u.getLong(p + 8);
                t1 += u.getLong(p + 12);
                s0 += u.getLong(p + 16);
                t0 += u.getLong(p + 20);
                s1 += u.getLong(p + 24);
                t1 += u.getLong(p + 28);
            }
            long sum = whole == 0 ? 0
                    : TwoStreamSum.exact(s0 + s1, t0 + t1, u.getInt(address) & LOW32,
                            u.getInt(address + whole) & LOW32, LITTLE);
            for (; length - i >= 8; i += 8) {
                sum += (u.getInt(address + i) & LOW32) + (u.getInt(address + i + 4) & LOW32);
            }
            if (length - i >= 4) {
                sum += u.getInt(address + i) & LOW32;
                i += 4;
            }
            if (length - i >= 2) {
                sum += u.getShort(address + i) & 0xFFFF;
                i += 2;
            }
            if (length - i == 1) {
                int last = u.getByte(address + i) & 0xFF;
                sum += LITTLE ? last : last << 8;
            }
            return sum;
        }

        /**
         * Sums the source, then copies it while the sum has it in the L1 cache. The source of a GSO copy is a
         * 64 KiB packet, mostly in L2: copying first ran the copy at L2 speed and then summed the copy from L1
         * anyway (GSO with full checksums 106.5 against 100 ns per 1448-byte segment). One pass that stores each
         * word it adds measured about 10% slower than the two (C2's scalar stores against the copy stub's vector
         * moves).
         */
        static long copySumOffHeap(long src, long dst, int length) {
            long sum = sumOffHeap(src, length);
            UNSAFE.copyMemory(src, dst, length);
            return sum;
        }

        /** {@link #copySumOffHeap} between two arrays. */
        static long copySumArray(byte[] src, int srcOffset, byte[] dst, int dstOffset, int length) {
            long sum = sumArray(src, srcOffset, length);
            System.arraycopy(src, srcOffset, dst, dstOffset, length);
            return sum;
        }

        /** Like {@link #sumOffHeap} over {@code length} bytes of {@code array} from {@code offset}. */
        static long sumArray(byte[] array, int offset, int length) {
            sun.misc.Unsafe u = UNSAFE;
            long base = BYTE_ARRAY_BASE + offset;
            long s0 = 0;
            long s1 = 0;
            long t0 = 0;
            long t1 = 0;
            int whole = length < 36 ? 0 : (length - 4) & ~31;
            int i = 0;
            for (; i < whole; i += 32) {
                long p = base + i;
                s0 += u.getLong(array, p);
                t0 += u.getLong(array, p + 4);
                s1 += u.getLong(array, p + 8);
                t1 += u.getLong(array, p + 12);
                s0 += u.getLong(array, p + 16);
                t0 += u.getLong(array, p + 20);
                s1 += u.getLong(array, p + 24);
                t1 += u.getLong(array, p + 28);
            }
            long sum = whole == 0 ? 0 : TwoStreamSum.exact(s0 + s1, t0 + t1, u.getInt(array, base) & LOW32,
                    u.getInt(array, base + whole) & LOW32, LITTLE);
            for (; length - i >= 8; i += 8) {
                sum += (u.getInt(array, base + i) & LOW32) + (u.getInt(array, base + i + 4) & LOW32);
            }
            if (length - i >= 4) {
                sum += u.getInt(array, base + i) & LOW32;
                i += 4;
            }
            if (length - i >= 2) {
                sum += u.getShort(array, base + i) & 0xFFFF;
                i += 2;
            }
            if (length - i == 1) {
                int last = u.getByte(array, base + i) & 0xFF;
                sum += LITTLE ? last : last << 8;
            }
            return sum;
        }
    }
}
