package dev.nettyoffload.core.packet;

import io.netty.buffer.ByteBuf;

/**
 * Raw stores into (and copies out of) a direct buffer's memory, for engines that check a buffer's range and
 * reference count once and then write many header fields: each {@link ByteBuf#setShort} call checks both again, and on JDK 24+, where
 * Netty 4.2 no longer uses {@code sun.misc.Unsafe}, goes through a {@link java.nio.ByteBuffer}. Same kernels as
 * {@link InternetChecksum}: Unsafe on Java 17-23, a {@code java.lang.foreign.MemorySegment} over the address
 * space on Java 22+ when native access is enabled for this module.
 * <p>
 * Nothing here checks anything: an address outside memory the caller holds corrupts the JVM. Use
 * {@link #address(ByteBuf)} on a buffer held for the whole use, and stay within its capacity.
 * <p>
 * Internal to this project's engines: public only because the segmenter lives in another package. It is not a
 * supported API and may change or go away in any release.
 */
public final class PacketMemory {
    private PacketMemory() {
    }

    /**
     * The address of index 0 of {@code buf} when its memory can be read raw here (a buffer with a memory address,
     * and raw access available), else 0.
     */
    public static long address(ByteBuf buf) {
        return ChecksumKernel.STORES && buf.hasMemoryAddress() ? buf.memoryAddress() : 0;
    }

    /** Like {@link #address} for writing: 0 also for a read-only buffer. */
    public static long writableAddress(ByteBuf buf) {
        return buf.isReadOnly() ? 0 : address(buf);
    }

    /** Stores {@code value} as a big-endian 16-bit word at {@code address}. */
    public static void putShort(long address, int value) {
        ChecksumKernel.put16(address, value);
    }

    /** Stores {@code value} as a big-endian 32-bit word at {@code address}. */
    public static void putInt(long address, int value) {
        ChecksumKernel.put32(address, value);
    }

    /** Stores the low byte of {@code value} at {@code address}. */
    public static void putByte(long address, int value) {
        ChecksumKernel.put8(address, value);
    }

    /**
     * Whether {@link #copyAndSum} may be called: the checksum kernel reads addresses (not when the NIO kernel was
     * forced with {@code dev.nettyoffload.checksum.kernel}).
     */
    public static boolean isCopyAndSumSupported() {
        return ChecksumKernel.ADDRESSES;
    }

    /**
     * Copies {@code length} bytes from {@code src} to {@code dst} (not overlapping) and returns their
     * {@link InternetChecksum#sum}: {@link InternetChecksum#copyAndSum} without its per-call checks. Only when
     * {@link #isCopyAndSumSupported()}.
     */
    public static int copyAndSum(long src, long dst, int length) {
        return length == 0 ? 0 : ChecksumKernel.copySumAddress(src, dst, length);
    }

    /**
     * {@link InternetChecksum#sum} of {@code length} bytes at {@code address}, without its per-call checks (an
     * engine that holds the buffer and checked its range once saves the four {@code ByteBuf} calls, which are
     * megamorphic in a program that uses several buffer classes). Only when {@link #isCopyAndSumSupported()}.
     */
    public static int sum(long address, int length) {
        return length == 0 ? 0 : ChecksumKernel.sumAddress(address, length);
    }

    /** Copies {@code length} bytes from {@code src} to {@code dst}; the ranges must not overlap. */
    public static void copy(long src, long dst, int length) {
        ChecksumKernel.copy(src, dst, length);
    }

    /**
     * Copies {@code length} bytes from {@code src} into {@code dst} from {@code dstOffset}, which must fit (not
     * checked, as nothing here is).
     */
    public static void copyToArray(long src, byte[] dst, int dstOffset, int length) {
        ChecksumKernel.copyToArray(src, dst, dstOffset, length);
    }
}
