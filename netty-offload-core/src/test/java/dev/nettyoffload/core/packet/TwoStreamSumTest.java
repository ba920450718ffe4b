package dev.nettyoffload.core.packet;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The carry recovery of the Java 17 checksum loop in both byte orders (the machine running the tests has one):
 * stream sums built here from byte arrays read in either order must give the exact sum of the 32-bit words.
 */
class TwoStreamSumTest {
    private static final long LOW32 = 0xFFFFFFFFL;

    @Test
    void randomRangesInBothByteOrders() {
        Random r = new Random(17);
        for (int round = 0; round < 2000; round++) {
            int words = 1 + r.nextInt(round < 1000 ? 8 : 5000);
            byte[] data = new byte[words * 8 + 4];
            if (round % 3 == 0) {
                // High-valued bytes: the stream sums wrap many times.
                for (int i = 0; i < data.length; i++) {
                    data[i] = (byte) (0xF0 | r.nextInt(16));
                }
            } else {
                r.nextBytes(data);
            }
            for (ByteOrder order : new ByteOrder[] {ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN}) {
                assertEquals(exactSum(data, words, order), fromStreams(data, words, order),
                        words + " words, " + order);
            }
        }
    }

    @Test
    void millionWordsOfOnes() {
        // Too large for an array here: every 32-bit word is 0xFFFFFFFF, so each 8-byte word is -1 in either order.
        long words = 1 << 20;
        long s = -words;
        long t = -words;
        long expected = 2 * words * LOW32;
        assertEquals(expected, TwoStreamSum.exact(s, t, LOW32, LOW32, true));
        assertEquals(expected, TwoStreamSum.exact(s, t, LOW32, LOW32, false));
    }

    @Test
    void nextWordDiffersFromFirst() {
        byte[] data = new byte[8 * 3 + 4];
        Arrays.fill(data, 0, 4, (byte) 0xFF);
        for (ByteOrder order : new ByteOrder[] {ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN}) {
            assertEquals(LOW32, fromStreams(data, 3, order), order.toString());
        }
        Arrays.fill(data, (byte) 0);
        Arrays.fill(data, 24, 28, (byte) 0xFF);
        for (ByteOrder order : new ByteOrder[] {ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN}) {
            assertEquals(0, fromStreams(data, 3, order), order.toString());
        }
    }

    /** The two stream sums as the loop forms them on a machine of {@code order}, then their recovery. */
    private static long fromStreams(byte[] data, int words, ByteOrder order) {
        ByteBuffer b = ByteBuffer.wrap(data).order(order);
        long s = 0;
        long t = 0;
        for (int w = 0; w < words; w++) {
            s += b.getLong(w * 8);
            t += b.getLong(w * 8 + 4);
        }
        long first = b.getInt(0) & LOW32;
        long next = b.getInt(words * 8) & LOW32;
        return TwoStreamSum.exact(s, t, first, next, order == ByteOrder.LITTLE_ENDIAN);
    }

    private static long exactSum(byte[] data, int words, ByteOrder order) {
        ByteBuffer b = ByteBuffer.wrap(data).order(order);
        long sum = 0;
        for (int i = 0; i < words * 2; i++) {
            sum += b.getInt(i * 4) & LOW32;
        }
        return sum;
    }
}
