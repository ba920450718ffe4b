package dev.nettyoffload.examples.vxlan;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MacTableTest {
    private static final InetSocketAddress VTEP1 = new InetSocketAddress("127.0.0.2", 51000);
    private static final InetSocketAddress VTEP1_OTHER_PORT = new InetSocketAddress("127.0.0.2", 52000);
    private static final InetSocketAddress VTEP2 = new InetSocketAddress("127.0.0.3", 51000);

    @Test
    void readsMacsAndGroupBit() {
        ByteBuf b = Unpooled.wrappedBuffer(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff,
                (byte) 0xff, (byte) 0xff, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55});
        try {
            assertEquals(0xffffffffffffL, MacTable.mac(b, 0));
            assertEquals(0x021122334455L, MacTable.mac(b, 6));
            assertTrue(MacTable.isGroup(MacTable.mac(b, 0)));
            assertFalse(MacTable.isGroup(MacTable.mac(b, 6)));
            assertTrue(MacTable.isGroup(0x01005e000001L)); // IPv4 multicast
            assertTrue(MacTable.isGroup(0x333300000001L)); // IPv6 multicast
        } finally {
            b.release();
        }
    }

    @Test
    void learnsTheVtepOnTheVxlanPortAndFollowsMoves() {
        MacTable t = new MacTable(2);
        t.learn(0x020000000001L, 0, VTEP1, 4789);
        MacTable.Entry e = t.lookup(0x020000000001L);
        assertEquals(0, e.side);
        assertEquals(new InetSocketAddress("127.0.0.2", 4789), e.vtep, "replies go to the VXLAN port");
        // Another flow of the same VTEP (another hashed source port) is no move.
        t.learn(0x020000000001L, 0, VTEP1_OTHER_PORT, 4789);
        assertEquals(0, t.moved());
        t.learn(0x020000000001L, 1, VTEP2, 4789);
        assertEquals(1, t.moved());
        assertEquals(1, t.lookup(0x020000000001L).side);
        assertEquals(new InetSocketAddress("127.0.0.3", 4789), t.lookup(0x020000000001L).vtep);
        // Bounded: the third address is not learned (its frames are flooded).
        t.learn(0x020000000002L, 0, VTEP1, 4789);
        t.learn(0x020000000003L, 0, VTEP1, 4789);
        assertNull(t.lookup(0x020000000003L));
        assertEquals(1, t.full());
        assertEquals(2, t.size());
        assertEquals(2, t.learned());
    }

    /**
     * Both sides' event loops learn and look up at once (the gateway runs one loop per side): no entry or count
     * may be lost, and every lookup sees a whole entry.
     */
    @Test
    void twoSidesLearnAtOnce() throws Exception {
        MacTable t = new MacTable(8192);
        int perSide = 1000;
        InetSocketAddress[] senders = {VTEP1, VTEP2};
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch start = new CountDownLatch(1);
        Thread[] threads = new Thread[2];
        for (int side = 0; side < 2; side++) {
            final int s = side;
            threads[side] = new Thread(() -> {
                try {
                    start.await();
                    for (int i = 0; i < perSide; i++) {
                        long mac = 0x020000000000L | ((long) s << 24) | i;
                        t.learn(mac, s, senders[s], 4789);
                        MacTable.Entry e = t.lookup(mac);
                        if (e == null || e.side != s || e.vtep == null) {
                            throw new AssertionError("side " + s + ", MAC " + Long.toHexString(mac) + ": " + e);
                        }
                        t.lookup(0x020000000000L | ((long) (1 - s) << 24) | i);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
            threads[side].start();
        }
        start.countDown();
        for (Thread th : threads) {
            th.join(30_000);
        }
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        assertEquals(2 * perSide, t.size());
        assertEquals(2 * perSide, t.learned());
        for (int side = 0; side < 2; side++) {
            for (int i = 0; i < perSide; i++) {
                MacTable.Entry e = t.lookup(0x020000000000L | ((long) side << 24) | i);
                assertEquals(side, e.side);
                assertEquals(new InetSocketAddress(senders[side].getAddress(), 4789), e.vtep);
            }
        }
    }
}
