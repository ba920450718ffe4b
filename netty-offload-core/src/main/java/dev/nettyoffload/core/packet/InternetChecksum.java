package dev.nettyoffload.core.packet;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.util.IllegalReferenceCountException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ReadOnlyBufferException;

/**
 * The Internet checksum (RFC 1071): ones-complement sums over {@link ByteBuf} ranges, folding, pseudo-headers
 * for TCP/UDP over IPv4 and IPv6, and incremental updates (RFC 1624).
 * <p>
 * Sums are carried in a {@code long} accumulator of 16-bit big-endian words that may exceed 16 bits; add
 * accumulators with {@code +} and {@link #fold(long)} once at the end. A range summed on its own must start at
 * an even offset from the start of the checksummed data (all header lengths used here are even).
 * <p>
 * {@link #sum} checks the range and the reference count once, then reads raw memory in a tight loop
 * ({@code ChecksumKernel}): a direct buffer at its {@link ByteBuf#memoryAddress()}, a heap buffer in its backing
 * array, a composite component by component, anything else through its NIO buffers. Every buffer class
 * reaches the same loop, so the JIT's type profile of the loop does not depend on which buffers a program
 * uses, and no per-read {@link ByteBuf} call (with its own index and reference-count checks) is made. The loop
 * sums 32-bit words in native byte order and swaps the folded result: the ones-complement sum is byte-order
 * independent (RFC 1071 section 2(B)). Ranges that start at an odd offset of the data (a composite component
 * after an odd-length one) have their folded sums byte-swapped before they are added (RFC 1071 section 2(A)).
 * <p>
 * Direct buffers of Netty's pooled and adaptive allocators take a path on which the JIT knows their exact class
 * ({@code AllocatorBufferClasses}), so that its {@link ByteBuf} calls (memory address and capacity; the
 * reference count is checked by {@code memoryAddress()}) are inlined even in a program that uses many buffer
 * classes.
 */
public final class InternetChecksum {

    private InternetChecksum() {
    }

    /**
     * The ones-complement sum of {@code length} bytes of {@code buf} starting at {@code index}, folded to 16 bits
     * (0..0xFFFF) in network byte order; an odd last byte is padded with zero as RFC 1071 requires.
     *
     * @throws IndexOutOfBoundsException if the range is not within the buffer's capacity
     * @throws io.netty.util.IllegalReferenceCountException if the buffer was released
     */
    public static int sum(ByteBuf buf, int index, int length) {
        // One call site of directAddress per class, each compiled for that class alone (AllocatorBufferClasses).
        // ByteBuf.class, abstract, is no buffer's class: without raw access every buffer takes the generic path.
        Class<?> type = ChecksumKernel.ADDRESSES ? buf.getClass() : ByteBuf.class;
        long address;
        if (type == AllocatorBufferClasses.POOLED_UNSAFE) {
            address = directAddress(buf, index, length);
        } else if (type == AllocatorBufferClasses.POOLED) {
            address = directAddress(buf, index, length);
        } else if (type == AllocatorBufferClasses.ADAPTIVE) {
            address = directAddress(buf, index, length);
        } else {
            checkRange(buf, index, length);
            return sumChecked(buf, index, length);
        }
        return address != 0 ? ChecksumKernel.sumAddress(address, length) : sumChecked(buf, index, length);
    }

    /**
     * Checks the range and returns the address of {@code buf}'s byte at {@code index}, or 0 when the buffer has no
     * memory address. Kept within the JIT's 35-byte limit for inlining at any call frequency, so that it is
     * inlined at each call site of {@link #sum}, where the buffer's exact class is known. The allocators'
     * {@code memoryAddress()} checks the reference count itself (Netty's {@code ensureAccessible}, as every
     * accessor of the buffer does, unless {@code io.netty.buffer.checkAccessible=false}), so this path does not
     * read it a second time: the checksum loop is limited by instruction issue, and each instruction around it
     * counts (with the kernel's 8-byte tail step: 49.7 -> 49.0 ns for 1448 bytes).
     */
    private static long directAddress(ByteBuf buf, int index, int length) {
        if (!buf.hasMemoryAddress()) {
            checkRange(buf, index, length);
            return 0;
        }
        long address = buf.memoryAddress();
        checkBounds(buf, index, length);
        return address + index;
    }

    /**
     * Copies {@code length} bytes of {@code src} from {@code srcIndex} to {@code dst} at {@code dstIndex} and
     * returns their {@link #sum}: the source is summed, then copied while the sum has it in the cache, in raw
     * memory when both buffers have a memory address (or both a backing array). Indices of neither
     * buffer change. The ranges must not overlap.
     *
     * @throws IndexOutOfBoundsException if a range is not within its buffer's capacity
     * @throws io.netty.util.IllegalReferenceCountException if a buffer was released
     * @throws java.nio.ReadOnlyBufferException if {@code dst} is read-only
     */
    public static int copyAndSum(ByteBuf src, int srcIndex, ByteBuf dst, int dstIndex, int length) {
        checkRange(src, srcIndex, length);
        checkRange(dst, dstIndex, length);
        if (dst.isReadOnly()) {
            throw new ReadOnlyBufferException();
        }
        if (length == 0) {
            return 0;
        }
        if (ChecksumKernel.ADDRESSES && src.hasMemoryAddress() && dst.hasMemoryAddress()) {
            return ChecksumKernel.copySumAddress(src.memoryAddress() + srcIndex, dst.memoryAddress() + dstIndex,
                    length);
        }
        if (ChecksumKernel.ARRAYS && src.hasArray() && dst.hasArray()) {
            return ChecksumKernel.copySumArray(src.array(), src.arrayOffset() + srcIndex, dst.array(),
                    dst.arrayOffset() + dstIndex, length);
        }
        // Mixed memory kinds or no raw access: two passes, the copy reading what the sum brought into the cache.
        int sum = sumChecked(src, srcIndex, length);
        dst.setBytes(dstIndex, src, srcIndex, length);
        return sum;
    }

    private static int sumChecked(ByteBuf buf, int index, int length) {
        if (length == 0) {
            return 0;
        }
        if (ChecksumKernel.ADDRESSES && buf.hasMemoryAddress()) {
            return ChecksumKernel.sumAddress(buf.memoryAddress() + index, length);
        }
        if (buf.hasArray()) {
            return ChecksumKernel.sumArray(buf.array(), buf.arrayOffset() + index, length);
        }
        if (buf instanceof CompositeByteBuf) {
            return sumComposite((CompositeByteBuf) buf, index, length);
        }
        int count = buf.nioBufferCount();
        if (count == 1) {
            return ChecksumKernel.sumNio(buf.nioBuffer(index, length).order(ByteOrder.LITTLE_ENDIAN));
        }
        if (count > 1) {
            long total = 0;
            int done = 0;
            for (ByteBuffer b : buf.nioBuffers(index, length)) {
                int s = ChecksumKernel.sumNio(b.order(ByteOrder.LITTLE_ENDIAN));
                total += (done & 1) == 0 ? s : ChecksumKernel.swap16(s);
                done += b.remaining();
            }
            return fold(total);
        }
        return sumWords(buf, index, length);
    }

    /** Component by component; each component's sum is swapped when it starts at an odd offset of the range. */
    private static int sumComposite(CompositeByteBuf buf, int index, int length) {
        long total = 0;
        int done = 0;
        int c = buf.toComponentIndex(index);
        while (done < length) {
            int start = buf.toByteIndex(c);
            ByteBuf component = buf.internalComponent(c);
            int from = index + done - start;
            int n = Math.min(length - done, component.capacity() - from);
            int s = n == 0 ? 0 : sumChecked(component, from, n);
            total += (done & 1) == 0 ? s : ChecksumKernel.swap16(s);
            done += n;
            c++;
        }
        return fold(total);
    }

    /** For buffers with neither memory address, array nor NIO view: 16-bit big-endian reads. */
    private static int sumWords(ByteBuf buf, int index, int length) {
        long s = 0;
        int i = index;
        int end = index + length;
        while (end - i >= 2) {
            s += buf.getUnsignedShort(i);
            i += 2;
        }
        if (i < end) {
            s += buf.getUnsignedByte(i) << 8;
        }
        return fold(s);
    }

    private static void checkRange(ByteBuf buf, int index, int length) {
        if (buf.refCnt() == 0) {
            throw new IllegalReferenceCountException(0);
        }
        checkBounds(buf, index, length);
    }

    private static void checkBounds(ByteBuf buf, int index, int length) {
        if (index < 0 || length < 0 || index > buf.capacity() - length) {
            throw new IndexOutOfBoundsException("index: " + index + ", length: " + length + " (expected: range(0, "
                    + buf.capacity() + "))");
        }
    }

    /**
     * Folds an accumulator (read as unsigned) to 16 bits with end-around carry; the result is 0 only for an
     * all-zero input. The high half of {@code x + rotl(x, half)} is the ones-complement sum of the halves of
     * {@code x}: the carry out of the low half is the end-around carry. Twice, 64 to 32 to 16 bits: six
     * instructions instead of the fifteen of masking and shifting in five steps.
     */
    public static int fold(long sum) {
        int s = (int) ((sum + Long.rotateLeft(sum, 32)) >>> 32);
        return (s + Integer.rotateLeft(s, 16)) >>> 16;
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
