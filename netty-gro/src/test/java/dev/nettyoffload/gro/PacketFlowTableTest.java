package dev.nettyoffload.gro;

import dev.nettyoffload.core.packet.LinkType;
import dev.nettyoffload.core.packet.PacketOffloadException;
import dev.nettyoffload.testkit.TestPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link PacketFlowTable} on its own: a flow is found by its key only, slots are bounded and reused in order. */
class PacketFlowTableTest {
    private static ByteBuf packet(int srcPort, long seq) {
        TestPacket s = new TestPacket();
        s.tcpFlags = TestPacket.ACK;
        s.srcPort = srcPort;
        s.seq = seq;
        return Unpooled.wrappedBuffer(new RawRun(s).next(100).bytes);
    }

    private static PacketFlow insert(PacketFlowTable t, PacketKey k, ByteBuf b) throws PacketOffloadException {
        k.parse(b, LinkType.RAW_IP, 0);
        k.sumL4(b);
        PacketFlow f = t.insert(k, PacketRules.maxIpLength(k, 0));
        f.first = b;
        f.append(k, IdSequence.UNDECIDED, IdSequence.UNDECIDED);
        return f;
    }

    @Test
    void findsTheFlowOfItsKeyOnly() throws PacketOffloadException {
        PacketFlowTable t = new PacketFlowTable(2, 4);
        PacketKey k = new PacketKey();
        ByteBuf a = packet(1000, 1);
        ByteBuf sameFlow = packet(1000, 101);
        ByteBuf otherPort = packet(1001, 1);
        try {
            PacketFlow f = insert(t, k, a);
            k.parse(sameFlow, LinkType.RAW_IP, 0);
            assertSame(f, t.find(k));
            k.parse(otherPort, LinkType.RAW_IP, 0);
            assertNull(t.find(k));
        } finally {
            a.release();
            sameFlow.release();
            otherPort.release();
        }
    }

    @Test
    void boundedOldestFirstAndSlotsReused() throws PacketOffloadException {
        PacketFlowTable t = new PacketFlowTable(2, 4);
        PacketKey k = new PacketKey();
        ByteBuf a = packet(1000, 1);
        ByteBuf b = packet(1001, 1);
        ByteBuf c = packet(1002, 1);
        try {
            PacketFlow fa = insert(t, k, a);
            PacketFlow fb = insert(t, k, b);
            assertTrue(t.isFull());
            assertSame(fa, t.oldest());
            t.remove(fa);
            assertFalse(t.isFull());
            assertEquals(1, t.size());
            assertSame(fb, t.oldest());
            assertEquals(0, fa.count, "a removed slot forgets its packets");
            PacketFlow fc = insert(t, k, c);
            assertSame(fa, fc, "the freed slot is reused");
            assertSame(fb, t.oldest());
            k.parse(a, LinkType.RAW_IP, 0);
            assertNull(t.find(k), "a removed flow is not found");
        } finally {
            a.release();
            b.release();
            c.release();
        }
    }
}
