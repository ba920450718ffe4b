package dev.nettyoffload.gro;

import dev.nettyoffload.core.packet.LinkType;
import dev.nettyoffload.core.packet.PacketOffloadException;
import dev.nettyoffload.testkit.TestPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link PacketFlow}'s run buffer: the first packet whole, then each payload, bounded by its capacity. */
class PacketFlowTest {
    private static final int PAYLOAD = 100;

    private static byte[] packet(long seq) {
        TestPacket s = new TestPacket();
        s.tcpFlags = TestPacket.ACK;
        s.seq = seq;
        return new RawRun(s).next(PAYLOAD).bytes;
    }

    /** A packet buffer: direct (copied by raw address) or heap (copied through the buffer). */
    private static ByteBuf input(byte[] bytes, boolean direct) {
        ByteBuf b = direct ? Unpooled.directBuffer(bytes.length + 7) : Unpooled.buffer(bytes.length + 7);
        // A reader index other than 0, as in a slice of a receive buffer.
        return b.writerIndex(7).readerIndex(7).writeBytes(bytes);
    }

    private static PacketKey parse(ByteBuf b) throws PacketOffloadException {
        PacketKey k = new PacketKey();
        k.parse(b, LinkType.RAW_IP, 0);
        k.sumL4(b);
        return k;
    }

    @ParameterizedTest(name = "direct input {0}")
    @ValueSource(booleans = {true, false})
    void runHoldsTheFirstPacketThenEachPayloadAndStopsAtItsCapacity(boolean direct) throws PacketOffloadException {
        for (ByteBufAllocator alloc : new ByteBufAllocator[] {PooledByteBufAllocator.DEFAULT,
                new UnpooledByteBufAllocator(true), new UnpooledByteBufAllocator(false)}) {
            byte[][] bytes = {packet(1), packet(1 + PAYLOAD), packet(1 + 2 * PAYLOAD)};
            ByteBuf[] in = {input(bytes[0], direct), input(bytes[1], direct), input(bytes[2], direct)};
            PacketFlow f = new PacketFlow(2);
            try {
                PacketKey k = parse(in[0]);
                int hl = k.headerLength;
                f.start(k, PacketRules.maxIpLength(k, 0));
                f.first = in[0];
                f.append(k, IdSequence.UNDECIDED, IdSequence.UNDECIDED);

                k = parse(in[1]);
                f.copyPayload(k, in[1], alloc);
                f.append(k, IdSequence.INCREMENTING, IdSequence.UNDECIDED);
                assertEquals(0, in[0].refCnt(), "the first packet is released once copied");
                assertEquals(1, in[1].refCnt(), "a joining packet stays the caller's");
                assertNull(f.first);

                // Two segments at most (maxSegments): the buffer has no room for a third payload.
                PacketKey third = parse(in[2]);
                assertThrows(IllegalStateException.class, () -> f.copyPayload(third, in[2], alloc));

                ByteBuf run = f.takeOnly();
                byte[] expected = Arrays.copyOf(bytes[0], bytes[0].length + PAYLOAD);
                System.arraycopy(bytes[1], hl, expected, bytes[0].length, PAYLOAD);
                assertArrayEquals(expected, ByteBufUtil.getBytes(run), "run buffer of " + alloc);
                run.release();
            } finally {
                f.clear();
                for (ByteBuf b : in) {
                    if (b.refCnt() > 0) {
                        b.release();
                    }
                }
            }
        }
    }
}
