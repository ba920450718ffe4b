package dev.nettyoffload.core.packet;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The bulk loops of {@link InternetChecksum} on Java 22+ (multi-release variant of the Java 17 class of the same
 * name): {@link MemorySegment} reads, with no {@code sun.misc.Unsafe} (whose memory access warns from Java 24 on,
 * JEP 498). Every method returns the ones-complement sum of its bytes folded to 16 bits in network byte order,
 * as if the range started at an even offset of the checksummed data; the caller checked range and reference
 * count once.
 * <p>
 * Kernels, chosen once at class initialisation:
 * <ul>
 *   <li>{@code vector}: when the incubating module {@code jdk.incubator.vector} is in the boot layer
 *   ({@code --add-modules jdk.incubator.vector}) and the platform has vectors of 128 bits or more
 *   ({@code VectorChecksum});</li>
 *   <li>{@code segment}: otherwise, a scalar loop of zero-extended 32-bit reads into four accumulators.</li>
 * </ul>
 * Direct memory is read by address through one segment spanning the address space, which needs a restricted
 * method ({@link MemorySegment#reinterpret(long)}): only when native access is enabled for this module
 * ({@code --enable-native-access}), so that it never prints a warning. Without it, direct buffers are read
 * through their NIO view ({@link MemorySegment#ofBuffer}), which costs the view's allocation. The system
 * property {@code dev.nettyoffload.checksum.kernel} forces {@code segment} or {@code nio} (NIO views for
 * direct memory).
 */
final class ChecksumKernel {
    private static final long LOW32 = 0xFFFFFFFFL;
    private static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG_LE =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT_BE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt INT_BE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    /** The kernel in use: {@code vector} or {@code segment}. */
    static final String NAME;
    /** Whether {@link #sumAddress} may be called; otherwise direct memory goes through {@link #sumNio}. */
    static final boolean ADDRESSES;
    /**
     * Whether {@link #put16}, {@link #put32}, {@link #put8} and {@link #copy} may be called: native access,
     * whichever checksum kernel was forced.
     */
    static final boolean STORES;
    /** Whether {@link #copySumArray} may be called: always, heap segments need no native access. */
    static final boolean ARRAYS = true;
    private static final boolean VECTOR;
    /** The whole address space, when native access is enabled. */
    private static final MemorySegment ALL;

    static {
        String wanted = System.getProperty("dev.nettyoffload.checksum.kernel", "");
        boolean vector = false;
        if (!"segment".equals(wanted) && !"nio".equals(wanted)
                && ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
            try {
                vector = VectorChecksum.usable();
            } catch (LinkageError e) {
                vector = false;
            }
        }
        VECTOR = vector;
        NAME = vector ? "vector" : "segment";
        STORES = ChecksumKernel.class.getModule().isNativeAccessEnabled();
        ADDRESSES = !"nio".equals(wanted) && STORES;
        ALL = STORES ? MemorySegment.NULL.reinterpret(Long.MAX_VALUE) : null;
    }

    private ChecksumKernel() {
    }

    /** {@code length} bytes at a native memory address; only when {@link #ADDRESSES}. */
    static int sumAddress(long address, int length) {
        return sum(ALL, address, length);
    }

    /** {@code length} bytes of {@code array} from {@code offset}. */
    static int sumArray(byte[] array, int offset, int length) {
        long s = VECTOR ? VectorChecksum.sumArray(array, offset, length)
                : sumScalar(MemorySegment.ofArray(array), offset, length);
        return swap16(InternetChecksum.fold(s));
    }

    /**
     * Copies {@code length} bytes from native address {@code src} to {@code dst} (not overlapping) and returns
     * their sum; only when {@link #ADDRESSES}.
     */
    static int copySumAddress(long src, long dst, int length) {
        return copySum(ALL, src, ALL, dst, length);
    }

    /** Like {@link #copySumAddress} between two arrays. */
    static int copySumArray(byte[] src, int srcOffset, byte[] dst, int dstOffset, int length) {
        System.arraycopy(src, srcOffset, dst, dstOffset, length);
        return sumArray(dst, dstOffset, length);
    }

    /**
     * The sum of the source, then a bulk copy of it while the sum has it in the L1 cache (see the Java 17
     * class: the source is usually in L2, and copying first ran the copy at L2 speed).
     */
    private static int copySum(MemorySegment src, long srcOffset, MemorySegment dst, long dstOffset, int length) {
        int sum = sum(src, srcOffset, length);
        MemorySegment.copy(src, srcOffset, dst, dstOffset, length);
        return sum;
    }

    /** Big-endian 16-bit store at a native address; only when {@link #STORES}. */
    static void put16(long address, int value) {
        ALL.set(SHORT_BE, address, (short) value);
    }

    /** Big-endian 32-bit store at a native address; only when {@link #STORES}. */
    static void put32(long address, int value) {
        ALL.set(INT_BE, address, value);
    }

    /** One byte at a native address; only when {@link #STORES}. */
    static void put8(long address, int value) {
        ALL.set(ValueLayout.JAVA_BYTE, address, (byte) value);
    }

    /** Copies between native addresses (not overlapping); only when {@link #STORES}. */
    static void copy(long src, long dst, int length) {
        MemorySegment.copy(ALL, src, ALL, dst, length);
    }

    /** Copies from a native address into an array; only when {@link #STORES}. */
    static void copyToArray(long src, byte[] dst, int dstOffset, int length) {
        MemorySegment.copy(ALL, ValueLayout.JAVA_BYTE, src, dst, dstOffset, length);
    }

    /** The bytes of {@code buffer} from its position to its limit (any kind, read-only too). */
    static int sumNio(ByteBuffer buffer) {
        if (buffer.hasArray()) {
            return sumArray(buffer.array(), buffer.arrayOffset() + buffer.position(), buffer.remaining());
        }
        return sum(MemorySegment.ofBuffer(buffer), 0, buffer.remaining());
    }

    /**
     * Only native segments reach the Vector API: the API's load code is shared by every caller in the JVM, and
     * once it has seen both heap and native segments its intrinsic no longer applies, which made the checksum
     * 2.5x slower in a JVM that had summed a heap buffer (78 against 30 ns for 1448 bytes). Arrays take
     * {@link VectorChecksum#sumArray}, which loads from the array itself; a heap segment (a read-only heap
     * {@link ByteBuffer}, whose array is hidden) takes the scalar loop.
     */
    private static int sum(MemorySegment segment, long offset, int length) {
        long s = VECTOR && segment.isNative() ? VectorChecksum.sumNative(segment, offset, length)
                : sumScalar(segment, offset, length);
        return swap16(InternetChecksum.fold(s));
    }

    /**
     * Little-endian sum of 32-bit words (the halves of 64-bit reads), unfolded. Four accumulators of zero-extended
     * words: each takes at most
     * 2^29 words below 2^32 for a 2 GiB range, so none can overflow. Native and heap segments have their own
     * copies of the loop, so that each copy's type profile has one segment class.
     */
    static long sumScalar(MemorySegment s, long offset, long length) {
        return s.isNative() ? sumScalarNative(s, offset, length) : sumScalarHeap(s, offset, length);
    }

    private static long sumScalarNative(MemorySegment s, long offset, long length) {
        long a = 0;
        long b = 0;
        long c = 0;
        long d = 0;
        long bound = length & ~15L;
        for (long i = 0; i < bound; i += 16) {
            long x = s.get(LONG_LE, offset + i);
            long y = s.get(LONG_LE, offset + i + 8);
            a += x & LOW32;
            b += x >>> 32;
            c += y & LOW32;
            d += y >>> 32;
        }
        return a + b + c + d + tail(s, offset + bound, length - bound);
    }

    /** {@link #sumScalarNative}'s twin for heap segments. */
    private static long sumScalarHeap(MemorySegment s, long offset, long length) {
        long a = 0;
        long b = 0;
        long c = 0;
        long d = 0;
        long bound = length & ~15L;
        for (long i = 0; i < bound; i += 16) {
            long x = s.get(LONG_LE, offset + i);
            long y = s.get(LONG_LE, offset + i + 8);
            a += x & LOW32;
            b += x >>> 32;
            c += y & LOW32;
            d += y >>> 32;
        }
        return a + b + c + d + tail(s, offset + bound, length - bound);
    }

    /** The last bytes of a range: 4-byte reads, then 2 and 1; also the vector kernel's last 0-31 bytes. */
    static long tail(MemorySegment s, long p, long length) {
        long a = 0;
        long end = p + length;
        while (end - p >= 4) {
            a += s.get(INT_LE, p) & LOW32;
            p += 4;
        }
        if (end - p >= 2) {
            a += s.get(SHORT_LE, p) & 0xFFFF;
            p += 2;
        }
        if (end - p == 1) {
            // The odd byte is the high byte of a big-endian word, the low byte of a little-endian one.
            a += s.get(ValueLayout.JAVA_BYTE, p) & 0xFF;
        }
        return a;
    }

    static int swap16(int v) {
        return ((v & 0xFF) << 8) | (v >>> 8);
    }
}
