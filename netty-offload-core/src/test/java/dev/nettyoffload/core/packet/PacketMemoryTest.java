package dev.nettyoffload.core.packet;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** {@link PacketMemory}'s raw stores land where and how the buffer's own big-endian accessors see them. */
class PacketMemoryTest {
    @Test
    void storesAreBigEndianAtTheirIndex() {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(64, 64);
        try {
            b.setZero(0, 64);
            long a = PacketMemory.writableAddress(b);
            if (a == 0) {
                // No raw access in this JVM (Java 17 kernel on JDK 24+, or no native access): nothing to store.
                assertEquals(0, PacketMemory.address(b));
                return;
            }
            PacketMemory.putShort(a + 3, 0xABCD);
            PacketMemory.putInt(a + 9, 0x12345678);
            PacketMemory.putByte(a + 20, 0x1FE);
            assertEquals(0xABCD, b.getUnsignedShort(3));
            assertEquals(0x12345678, b.getInt(9));
            assertEquals(0xFE, b.getUnsignedByte(20));
            assertEquals(0, b.getByte(2));
            assertEquals(0, b.getByte(5));
            assertEquals(0, b.getByte(13));
            assertEquals(0, b.getByte(21));
            PacketMemory.copy(a + 3, a + 40, 18);
            for (int i = 0; i < 18; i++) {
                assertEquals(b.getByte(3 + i), b.getByte(40 + i), "byte " + i);
            }
            assertEquals(0, b.getByte(58));
            byte[] out = new byte[32];
            PacketMemory.copyToArray(a + 3, out, 5, 18);
            for (int i = 0; i < 32; i++) {
                assertEquals(i >= 5 && i < 23 ? b.getByte(3 + i - 5) : 0, out[i], "array byte " + i);
            }
            if (!PacketMemory.isCopyAndSumSupported()) {
                return;
            }
            int expected = InternetChecksum.sum(b, 0, 29);
            assertEquals(expected, PacketMemory.copyAndSum(a, a + 34, 29));
            assertEquals(expected, InternetChecksum.sum(b, 34, 29));
            assertEquals(0, PacketMemory.copyAndSum(a, a + 34, 0));
            for (int off = 0; off < 4; off++) {
                for (int len = 0; len <= 29; len++) {
                    assertEquals(InternetChecksum.sum(b, off, len), PacketMemory.sum(a + off, len),
                            "sum at " + off + ", " + len + " bytes");
                }
            }
        } finally {
            b.release();
        }
    }

    @Test
    void noAddressForHeapOrReadOnlyWrites() {
        ByteBuf heap = Unpooled.buffer(8);
        ByteBuf direct = Unpooled.directBuffer(8);
        try {
            assertEquals(0, PacketMemory.address(heap));
            assertEquals(0, PacketMemory.writableAddress(direct.asReadOnly()));
            if (PacketMemory.address(direct) != 0) {
                assertNotEquals(0, PacketMemory.writableAddress(direct));
            }
        } finally {
            heap.release();
            direct.release();
        }
    }
}
