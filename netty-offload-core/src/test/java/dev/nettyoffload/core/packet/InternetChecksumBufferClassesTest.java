package dev.nettyoffload.core.packet;

import dev.nettyoffload.testkit.RefChecksum;
import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.IllegalReferenceCountException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The checksum kernel over every buffer class Netty hands out, one JVM seeing all of them (as production does),
 * at odd and even offsets and lengths, against the byte-at-a-time reference.
 */
class InternetChecksumBufferClassesTest {
    private static final int SIZE = 1600;
    /** Where the data starts in each buffer, so that index 0 of the data is not index 0 of the memory. */
    private static final int LEAD = 7;

    private final byte[] data = new byte[SIZE];
    /** Buffers whose bytes from {@link #LEAD} on are {@link #data}. */
    private final Map<String, ByteBuf> buffers = new LinkedHashMap<>();
    private final List<ByteBuf> toRelease = new ArrayList<>();

    @BeforeEach
    void setUp() {
        new Random(1071).nextBytes(data);
        PooledByteBufAllocator pooled = PooledByteBufAllocator.DEFAULT;
        UnpooledByteBufAllocator unpooled = UnpooledByteBufAllocator.DEFAULT;
        add("pooled direct", fill(pooled.directBuffer(LEAD + SIZE)));
        add("pooled heap", fill(pooled.heapBuffer(LEAD + SIZE)));
        add("unpooled direct", fill(unpooled.directBuffer(LEAD + SIZE)));
        add("unpooled heap", fill(unpooled.heapBuffer(LEAD + SIZE)));
        AdaptiveByteBufAllocator adaptive = new AdaptiveByteBufAllocator();
        add("adaptive direct", fill(adaptive.directBuffer(LEAD + SIZE)));
        add("adaptive heap", fill(adaptive.heapBuffer(LEAD + SIZE)));
        // The allocators' own classes (InternetChecksum's fast path) even when leak detection wraps them.
        add("pooled direct, unwrapped", allocated(buffers.get("pooled direct")));
        add("adaptive direct, unwrapped", allocated(buffers.get("adaptive direct")));
        byte[] wrapped = new byte[LEAD + SIZE + 5];
        System.arraycopy(data, 0, wrapped, LEAD + 3, SIZE);
        add("wrapped array with offset", keep(Unpooled.wrappedBuffer(wrapped, 3, LEAD + SIZE)));
        ByteBuf parent = keep(fill(pooled.directBuffer(LEAD + SIZE + 11), 11));
        add("slice of pooled direct", parent.slice(11, LEAD + SIZE));
        add("retained slice of pooled direct", keep(parent.retainedSlice(11, LEAD + SIZE)));
        ByteBuf heapParent = keep(fill(pooled.heapBuffer(LEAD + SIZE + 3), 3));
        add("slice of pooled heap", heapParent.slice(3, LEAD + SIZE));
        add("duplicate of unpooled direct", buffers.get("unpooled direct").duplicate());
        add("read-only direct", buffers.get("pooled direct").asReadOnly());
        add("read-only heap", buffers.get("unpooled heap").asReadOnly());
        ByteBuffer nioDirect = ByteBuffer.allocateDirect(LEAD + SIZE);
        nioDirect.position(LEAD);
        nioDirect.put(data).clear();
        add("read-only NIO direct", keep(Unpooled.wrappedBuffer(nioDirect.asReadOnlyBuffer())));
        ByteBuffer nioHeap = ByteBuffer.allocate(LEAD + SIZE);
        nioHeap.position(LEAD);
        nioHeap.put(data).clear();
        add("read-only NIO heap", keep(Unpooled.wrappedBuffer(nioHeap.asReadOnlyBuffer())));
        add("composite, odd-length mixed components", keep(composite(new int[] {LEAD, 1, 13, 2, 0, 333, 1, 64},
                true)));
        add("composite, one byte per component", keep(composite(new int[] {LEAD, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
                false)));
        add("composite of composites", keep(nested()));
        add("read-only composite", buffers.get("composite, odd-length mixed components").asReadOnly());
    }

    @AfterEach
    void tearDown() {
        for (ByteBuf b : toRelease) {
            b.release();
        }
    }

    /** The buffer an allocator made, inside the leak detector's wrapper when there is one. */
    private static ByteBuf allocated(ByteBuf b) {
        ByteBuf inner = b.unwrap();
        return inner != null ? inner : b;
    }

    private void add(String name, ByteBuf b) {
        buffers.put(name, b);
    }

    private ByteBuf keep(ByteBuf b) {
        toRelease.add(b);
        return b;
    }

    private ByteBuf fill(ByteBuf b) {
        return keep(fill(b, 0));
    }

    private ByteBuf fill(ByteBuf b, int before) {
        b.writeZero(before + LEAD).writeBytes(data);
        return b;
    }

    /**
     * A composite of components with the given lengths (the last one takes the rest), alternating direct and
     * heap when {@code mixed}.
     */
    private ByteBuf composite(int[] lengths, boolean mixed) {
        CompositeByteBuf c = Unpooled.compositeBuffer(64);
        byte[] all = new byte[LEAD + SIZE];
        System.arraycopy(data, 0, all, LEAD, SIZE);
        int at = 0;
        for (int i = 0; i <= lengths.length; i++) {
            int n = i < lengths.length ? lengths[i] : all.length - at;
            ByteBuf part = mixed && (i & 1) == 1 ? PooledByteBufAllocator.DEFAULT.directBuffer(n)
                    : PooledByteBufAllocator.DEFAULT.heapBuffer(n);
            part.writeBytes(all, at, n);
            c.addComponent(true, part);
            at += n;
        }
        return c;
    }

    private ByteBuf nested() {
        CompositeByteBuf outer = Unpooled.compositeBuffer();
        byte[] all = new byte[LEAD + SIZE];
        System.arraycopy(data, 0, all, LEAD, SIZE);
        CompositeByteBuf inner = Unpooled.compositeBuffer();
        inner.addComponent(true, Unpooled.directBuffer(101).writeBytes(all, 0, 101));
        inner.addComponent(true, Unpooled.wrappedBuffer(all, 101, 200));
        outer.addComponent(true, inner);
        outer.addComponent(true, Unpooled.directBuffer(all.length - 301).writeBytes(all, 301, all.length - 301));
        return outer;
    }

    private int reference(int off, int len) {
        return RefChecksum.fold(RefChecksum.sum(data, off, len, 0));
    }

    @Test
    void everyBufferClassAtEveryOffsetAndLength() {
        int[] lengths = {0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 333, 1447, 1448};
        for (Map.Entry<String, ByteBuf> e : buffers.entrySet()) {
            for (int off = 0; off < 40; off++) {
                for (int len : lengths) {
                    if (off + len > SIZE) {
                        continue;
                    }
                    assertEquals(reference(off, len), InternetChecksum.sum(e.getValue(), LEAD + off, len),
                            e.getKey() + " off " + off + " len " + len);
                }
            }
            assertEquals(reference(0, SIZE), InternetChecksum.sum(e.getValue(), LEAD, SIZE), e.getKey());
            assertEquals(reference(1, SIZE - 1), InternetChecksum.sum(e.getValue(), LEAD + 1, SIZE - 1), e.getKey());
        }
    }

    /** The NIO kernel (the fallback) is exercised directly, whatever kernel this JVM chose. */
    @Test
    void nioKernelOverEveryByteBufferKind() {
        ByteBuffer heap = ByteBuffer.wrap(data);
        ByteBuffer direct = ByteBuffer.allocateDirect(SIZE).put(data);
        direct.clear();
        ByteBuffer[] kinds = {heap, direct, heap.asReadOnlyBuffer(), direct.asReadOnlyBuffer(),
            heap.duplicate().order(ByteOrder.LITTLE_ENDIAN), direct.duplicate().order(ByteOrder.LITTLE_ENDIAN)};
        for (ByteBuffer b : kinds) {
            for (int off = 0; off < 9; off++) {
                for (int len = 0; len < 70; len++) {
                    ByteBuffer view = b.duplicate().order(b.order());
                    view.limit(off + len).position(off);
                    assertEquals(reference(off, len), ChecksumKernel.sumNio(view), b + " off " + off + " len " + len);
                }
            }
        }
    }

    @Test
    void arrayKernelAtEveryOffset() {
        for (int off = 0; off < 9; off++) {
            for (int len = 0; len < 200; len++) {
                assertEquals(reference(off, len), ChecksumKernel.sumArray(data, off, len), "off " + off + " len " + len);
            }
        }
    }

    /** Sums that exceed 32 bits in the accumulators: 64 KiB of 0xFF, and the largest packet. */
    @Test
    void largeRangesOfOnes() {
        ByteBuf direct = PooledByteBufAllocator.DEFAULT.directBuffer(70_000);
        ByteBuf heap = Unpooled.buffer(70_000);
        try {
            for (int i = 0; i < 70_000; i++) {
                direct.writeByte(0xFF);
                heap.writeByte(0xFF);
            }
            assertEquals(0xFFFF, InternetChecksum.sum(direct, 0, 70_000));
            byte[] ones = new byte[70_000];
            java.util.Arrays.fill(ones, (byte) 0xFF);
            assertEquals(RefChecksum.fold(RefChecksum.sum(ones, 0, 65_537, 0)), InternetChecksum.sum(heap, 1, 65_537));
            assertEquals(0xFFFF, InternetChecksum.sum(heap, 1, 65_538));
            assertEquals(0xFF00, InternetChecksum.sum(direct, 3, 1));
        } finally {
            direct.release();
            heap.release();
        }
    }

    /** Range and reference-count checks, on the exact-class fast path of each allocator's buffers too. */
    @Test
    void oneCheckPerCall() {
        ByteBufAllocator[] allocators = {PooledByteBufAllocator.DEFAULT, new AdaptiveByteBufAllocator(),
            UnpooledByteBufAllocator.DEFAULT};
        for (ByteBufAllocator allocator : allocators) {
            for (ByteBuf wrapper : new ByteBuf[] {allocator.directBuffer(64), allocator.heapBuffer(64)}) {
                ByteBuf b = allocated(wrapper);
                String name = b.getClass().getName();
                b.writeZero(64);
                assertThrows(IndexOutOfBoundsException.class, () -> InternetChecksum.sum(b, 60, 5), name);
                assertThrows(IndexOutOfBoundsException.class, () -> InternetChecksum.sum(b, -1, 2), name);
                assertThrows(IndexOutOfBoundsException.class, () -> InternetChecksum.sum(b, 0, -1), name);
                assertEquals(0, InternetChecksum.sum(b, 64, 0), name);
                wrapper.release();
                assertThrows(IllegalReferenceCountException.class, () -> InternetChecksum.sum(b, 0, 8), name);
            }
        }
        ByteBuf c = keep(composite(new int[] {3, 5}, true));
        assertThrows(IndexOutOfBoundsException.class, () -> InternetChecksum.sum(c, 0, LEAD + SIZE + 1));
    }

    /** The fast path's classes are this Netty's: a renamed class would silently send every buffer the slow way. */
    @Test
    void allocatorBufferClassesAreFound() {
        ByteBuf pooled = PooledByteBufAllocator.DEFAULT.directBuffer(8);
        ByteBuf adaptive = new AdaptiveByteBufAllocator().directBuffer(8);
        try {
            Class<?> pooledClass = allocated(pooled).getClass();
            assertTrue(pooledClass == AllocatorBufferClasses.POOLED_UNSAFE
                    || pooledClass == AllocatorBufferClasses.POOLED, pooledClass.getName());
            assertEquals(AllocatorBufferClasses.ADAPTIVE, allocated(adaptive).getClass());
            assertTrue(AllocatorBufferClasses.POOLED != null && AllocatorBufferClasses.POOLED_UNSAFE != null);
        } finally {
            pooled.release();
            adaptive.release();
        }
    }

    @Test
    void kernelIsKnown() {
        assertTrue(List.of("unsafe", "nio", "vector", "segment").contains(ChecksumKernel.NAME), ChecksumKernel.NAME);
        System.out.println("checksum kernel: " + ChecksumKernel.NAME + " on Java " + Runtime.version().feature());
    }
}
