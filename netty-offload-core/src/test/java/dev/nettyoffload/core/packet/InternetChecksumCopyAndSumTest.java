package dev.nettyoffload.core.packet;

import dev.nettyoffload.testkit.RefChecksum;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.util.IllegalReferenceCountException;
import org.junit.jupiter.api.Test;

import java.nio.ReadOnlyBufferException;
import java.util.Random;
import java.util.function.IntFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * {@link InternetChecksum#copyAndSum} against the byte-at-a-time reference: every length 0..2000 at even and odd
 * offsets of source and destination, for each pairing of direct and heap buffers (raw-memory kernels for like
 * pairs, the two-pass path for mixed ones and composites). The copied bytes must equal the source and the bytes
 * around the destination range must stay untouched.
 */
class InternetChecksumCopyAndSumTest {
    private static final int MAX = 2000;
    private static final int[][] OFFSETS = {{0, 0}, {1, 0}, {0, 1}, {3, 5}, {6, 2}};

    private final byte[] data = new byte[MAX + 8];

    InternetChecksumCopyAndSumTest() {
        new Random(1624).nextBytes(data);
    }

    @Test
    void directToDirect() {
        check(n -> PooledByteBufAllocator.DEFAULT.directBuffer(n), n -> PooledByteBufAllocator.DEFAULT.directBuffer(n));
    }

    @Test
    void heapToHeap() {
        check(n -> PooledByteBufAllocator.DEFAULT.heapBuffer(n), n -> Unpooled.buffer(n));
    }

    @Test
    void heapToDirect() {
        check(n -> Unpooled.buffer(n), n -> PooledByteBufAllocator.DEFAULT.directBuffer(n));
    }

    @Test
    void directToHeap() {
        check(n -> Unpooled.directBuffer(n), n -> Unpooled.buffer(n));
    }

    @Test
    void compositeToDirect() {
        check(n -> {
            CompositeByteBuf c = Unpooled.compositeBuffer();
            int half = n / 2 + 1;
            c.addComponent(true, Unpooled.directBuffer(half).writeZero(half));
            c.addComponent(true, Unpooled.buffer(n - half).writeZero(n - half));
            return c;
        }, n -> Unpooled.directBuffer(n));
    }

    private void check(IntFunction<ByteBuf> source, IntFunction<ByteBuf> destination) {
        int capacity = MAX + 16;
        ByteBuf src = source.apply(capacity);
        ByteBuf dst = destination.apply(capacity);
        try {
            src.setBytes(0, data, 0, Math.min(data.length, capacity));
            for (int[] o : OFFSETS) {
                for (int len = 0; len <= MAX; len++) {
                    dst.setZero(0, capacity);
                    int s = InternetChecksum.copyAndSum(src, o[0], dst, o[1], len);
                    String what = "length " + len + ", offsets " + o[0] + "/" + o[1];
                    assertEquals(RefChecksum.fold(RefChecksum.sum(data, o[0], len, 0)), s, what);
                    byte[] copied = new byte[capacity];
                    dst.getBytes(0, copied);
                    for (int i = 0; i < capacity; i++) {
                        boolean inside = i >= o[1] && i < o[1] + len;
                        assertEquals(inside ? data[o[0] + i - o[1]] : 0, copied[i], what + ", byte " + i);
                    }
                    assertEquals(0, src.readerIndex(), what);
                    assertEquals(0, dst.writerIndex(), what);
                }
            }
        } finally {
            src.release();
            dst.release();
        }
    }

    @Test
    void refusesBadRangesReadOnlyAndReleased() {
        ByteBuf src = Unpooled.directBuffer(64).writeZero(64);
        ByteBuf dst = Unpooled.directBuffer(64);
        try {
            assertThrows(IndexOutOfBoundsException.class, () -> InternetChecksum.copyAndSum(src, 1, dst, 0, 64));
            assertThrows(IndexOutOfBoundsException.class, () -> InternetChecksum.copyAndSum(src, 0, dst, 1, 64));
            assertThrows(IndexOutOfBoundsException.class, () -> InternetChecksum.copyAndSum(src, 0, dst, 0, -1));
            assertThrows(ReadOnlyBufferException.class,
                    () -> InternetChecksum.copyAndSum(src, 0, dst.asReadOnly(), 0, 8));
            ByteBuf released = Unpooled.directBuffer(64);
            released.release();
            assertThrows(IllegalReferenceCountException.class,
                    () -> InternetChecksum.copyAndSum(src, 0, released, 0, 8));
            assertThrows(IllegalReferenceCountException.class,
                    () -> InternetChecksum.copyAndSum(released, 0, dst, 0, 8));
        } finally {
            src.release();
            dst.release();
        }
    }
}
