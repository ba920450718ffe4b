package dev.nettyoffload.core.packet;

import dev.nettyoffload.testkit.RefChecksum;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The wide-read checksum against the byte-at-a-time reference, for every length, offset and buffer kind. */
class InternetChecksumTest {

    @Test
    void sumMatchesReferenceForAllLengthsAndOffsets() {
        Random r = new Random(42);
        byte[] data = new byte[600];
        r.nextBytes(data);
        ByteBuf heap = Unpooled.wrappedBuffer(data);
        ByteBuf direct = Unpooled.directBuffer(data.length).writeBytes(data);
        // Two components: no single backing array or NIO view, so the generic getLongLE path runs.
        ByteBuf composite = Unpooled.wrappedBuffer(Unpooled.wrappedBuffer(data, 0, 97),
                Unpooled.wrappedBuffer(data, 97, data.length - 97));
        ByteBuf pooled = io.netty.buffer.PooledByteBufAllocator.DEFAULT.directBuffer(700).writeZero(50)
                .writeBytes(data);
        try {
            for (int off = 0; off < 12; off++) {
                for (int len = 0; len <= 300; len++) {
                    int expected = RefChecksum.fold(RefChecksum.sum(data, off, len, 0));
                    assertEquals(expected, InternetChecksum.sum(heap, off, len), "heap off " + off + " len " + len);
                    assertEquals(expected, InternetChecksum.sum(direct, off, len), "direct off " + off + " len " + len);
                    assertEquals(expected, InternetChecksum.sum(composite, off, len), "composite off " + off
                            + " len " + len);
                    assertEquals(expected, InternetChecksum.sum(pooled, 50 + off, len), "pooled off " + off
                            + " len " + len);
                }
            }
        } finally {
            heap.release();
            direct.release();
            composite.release();
            pooled.release();
        }
    }

    @Test
    void allOnesAndZeros() {
        ByteBuf ones = Unpooled.buffer(4096).writeBytes(new byte[4096]);
        for (int i = 0; i < 4096; i++) {
            ones.setByte(i, 0xFF);
        }
        try {
            assertEquals(0xFFFF, InternetChecksum.sum(ones, 0, 4096));
            assertEquals(0xFF00, InternetChecksum.sum(ones, 0, 1));
            assertEquals(0, InternetChecksum.fold(0));
            assertEquals(0xFFFF, InternetChecksum.fold(0xFFFF));
            assertEquals(1, InternetChecksum.fold(0x10000));
            assertEquals(0xFFFF, InternetChecksum.finish(0));
            assertEquals(RefChecksum.fold(Long.MAX_VALUE >>> 3), InternetChecksum.fold(Long.MAX_VALUE >>> 3));
        } finally {
            ones.release();
        }
    }

    /**
     * Long ranges of high-valued bytes, direct and heap: the kernel's 64-bit accumulators wrap many times and the
     * low halves are recovered from the wrapped total, so a slip in that arithmetic shows only here.
     */
    @Test
    void longHighValuedRangesMatchReference() {
        Random r = new Random(5);
        for (int length : new int[] {65535, 65536 + 3, 1 << 20}) {
            byte[] data = new byte[length];
            for (int i = 0; i < length; i++) {
                data[i] = (byte) (0xF0 | r.nextInt(16));
            }
            ByteBuf heap = Unpooled.wrappedBuffer(data);
            ByteBuf direct = Unpooled.directBuffer(length).writeBytes(data);
            try {
                for (int off : new int[] {0, 1, 6, 7}) {
                    int expected = RefChecksum.fold(RefChecksum.sum(data, off, length - off, 0));
                    assertEquals(expected, InternetChecksum.sum(heap, off, length - off), "heap " + length + "/" + off);
                    assertEquals(expected, InternetChecksum.sum(direct, off, length - off),
                            "direct " + length + "/" + off);
                }
            } finally {
                heap.release();
                direct.release();
            }
        }
    }

    /** The fold against repeated 16-bit folding, for random and edge accumulators (read as unsigned). */
    @Test
    void foldMatchesReference() {
        long[] edges = {0, 1, 0xFFFF, 0x10000, 0x1FFFE, 0xFFFFFFFFL, 0x100000000L, 0xFFFFFFFF00000001L, -1L,
            Long.MIN_VALUE, Long.MAX_VALUE, 0xFFFFFFFEFFFFFFFFL, 0x0000FFFF0000FFFFL};
        for (long x : edges) {
            assertEquals(RefChecksum.fold(x), InternetChecksum.fold(x), Long.toHexString(x));
        }
        Random r = new Random(1624);
        for (int i = 0; i < 1_000_000; i++) {
            long x = r.nextLong() >>> r.nextInt(64);
            assertEquals(RefChecksum.fold(x), InternetChecksum.fold(x), Long.toHexString(x));
        }
    }

    /** RFC 1071 section 3 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2. */
    @Test
    void rfc1071Example() {
        ByteBuf b = Unpooled.wrappedBuffer(new byte[] {0x00, 0x01, (byte) 0xf2, 0x03, (byte) 0xf4, (byte) 0xf5,
                (byte) 0xf6, (byte) 0xf7});
        try {
            assertEquals(0xddf2, InternetChecksum.sum(b, 0, 8));
        } finally {
            b.release();
        }
    }

    @Test
    void ipv4HeaderChecksumVerifies() {
        // A header from a real capture with its checksum field (0xb861).
        byte[] h = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, (byte) 0xb8, 0x61, (byte) 0xc0,
                (byte) 0xa8, 0x00, 0x01, (byte) 0xc0, (byte) 0xa8, 0x00, (byte) 0xc7};
        ByteBuf b = Unpooled.wrappedBuffer(h);
        try {
            assertEquals(0xb861, InternetChecksum.ipv4HeaderChecksum(b, 0, 20));
            assertTrue(InternetChecksum.verifies(InternetChecksum.sum(b, 0, 20)));
            b.setByte(8, 0x3f);
            assertFalse(InternetChecksum.verifies(InternetChecksum.sum(b, 0, 20)));
        } finally {
            b.release();
        }
    }

    @Test
    void pseudoHeadersMatchReference() {
        Random r = new Random(7);
        byte[] v4 = new byte[20];
        byte[] v6 = new byte[40];
        for (int it = 0; it < 200; it++) {
            r.nextBytes(v4);
            r.nextBytes(v6);
            int len = r.nextInt(70000);
            ByteBuf b4 = Unpooled.wrappedBuffer(v4);
            ByteBuf b6 = Unpooled.wrappedBuffer(v6);
            try {
                byte[] s4 = java.util.Arrays.copyOfRange(v4, 12, 16);
                byte[] d4 = java.util.Arrays.copyOfRange(v4, 16, 20);
                assertEquals(RefChecksum.fold(RefChecksum.pseudo(s4, d4, 6, len & 0xFFFF)),
                        InternetChecksum.fold(InternetChecksum.pseudoHeaderIpv4(b4, 0, 6, len & 0xFFFF)));
                byte[] s6 = java.util.Arrays.copyOfRange(v6, 8, 24);
                byte[] d6 = java.util.Arrays.copyOfRange(v6, 24, 40);
                assertEquals(RefChecksum.fold(RefChecksum.pseudo(s6, d6, 17, len)),
                        InternetChecksum.fold(InternetChecksum.pseudoHeaderIpv6(b6, 8, 24, 17, len)));
            } finally {
                b4.release();
                b6.release();
            }
        }
    }

    /** RFC 1624 incremental updates agree with recomputing the checksum over the changed data. */
    @Test
    void incrementalUpdatesMatchRecomputation() {
        Random r = new Random(99);
        byte[] data = new byte[64];
        for (int it = 0; it < 2000; it++) {
            r.nextBytes(data);
            int before = RefChecksum.checksum(RefChecksum.sum(data, 0, data.length, 0));
            int at = 2 * r.nextInt(30);
            int old16 = RefChecksum.u16(data, at);
            int new16 = r.nextInt(65536);
            RefChecksum.put16(data, at, new16);
            int after = RefChecksum.checksum(RefChecksum.sum(data, 0, data.length, 0));
            int updated16 = InternetChecksum.update16(before, old16, new16);
            assertEquals(after == 0xFFFF ? 0 : after, updated16 == 0xFFFF ? 0 : updated16, "update16 at " + at);
            int at32 = 4 * r.nextInt(15);
            int old32 = (int) RefChecksum.u32(data, at32);
            int new32 = r.nextInt();
            RefChecksum.put32(data, at32, new32 & 0xFFFFFFFFL);
            int updated = InternetChecksum.update32(after, old32, new32);
            int recomputed = RefChecksum.checksum(RefChecksum.sum(data, 0, data.length, 0));
            // 0x0000 and 0xFFFF are the same ones-complement number (RFC 1624 section 3).
            assertEquals(recomputed == 0xFFFF ? 0 : recomputed, updated == 0xFFFF ? 0 : updated, "update32");
        }
    }
}
