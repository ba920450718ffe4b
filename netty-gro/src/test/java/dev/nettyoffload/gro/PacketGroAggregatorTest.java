package dev.nettyoffload.gro;

import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.testkit.TestPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/** The raw-packet side of {@link PacketGroAggregator} in a pipeline: one test per way held packets leave. */
class PacketGroAggregatorTest {
    private final List<ByteBuf> inputs = new ArrayList<>();
    private final RawRun run = new RawRun(spec());

    private static TestPacket spec() {
        TestPacket s = new TestPacket();
        s.tcpFlags = TestPacket.ACK;
        return s;
    }

    private ByteBuf segment(int size) {
        ByteBuf b = PacketChecks.input(run.next(size).bytes, true);
        inputs.add(b);
        return b;
    }

    private void assertInputsReleased() {
        for (ByteBuf b : inputs) {
            assertEquals(0, b.refCnt(), "input released");
        }
    }

    private static PacketGroConfig timerConfig(long micros) {
        return PacketGroConfig.newBuilder().flushDelay(micros, TimeUnit.MICROSECONDS).build();
    }

    @Test
    void testFlushViaReadComplete() {
        PacketGroAggregator gro = new PacketGroAggregator();
        EmbeddedChannel ch = new EmbeddedChannel(gro);
        ch.pipeline().fireChannelRead(segment(1448));
        ch.pipeline().fireChannelRead(segment(1448));
        assertNull(ch.readInbound(), "held until the end of the burst");
        assertEquals(2, gro.heldPackets());
        ch.pipeline().fireChannelReadComplete();
        GsoPacket g = assertInstanceOf(GsoPacket.class, ch.readInbound());
        assertEquals(2, g.segmentCount());
        g.release();
        assertEquals(1, gro.counters().flowsFlushed(PacketFlushReason.READ_COMPLETE));
        assertFalse(ch.finish());
        assertInputsReleased();
    }

    @Test
    void testFlushViaTimer() {
        PacketGroAggregator gro = new PacketGroAggregator(timerConfig(50));
        EmbeddedChannel ch = new EmbeddedChannel(gro);
        ch.freezeTime();
        ch.pipeline().fireChannelRead(segment(1448));
        ch.pipeline().fireChannelRead(segment(1448));
        ch.advanceTimeBy(10, TimeUnit.MICROSECONDS);
        ch.runScheduledPendingTasks();
        assertNull(ch.readInbound(), "held before the timeout");
        ch.advanceTimeBy(50, TimeUnit.MICROSECONDS);
        ch.runScheduledPendingTasks();
        GsoPacket g = assertInstanceOf(GsoPacket.class, ch.readInbound());
        g.release();
        assertEquals(1, gro.counters().flowsFlushed(PacketFlushReason.TIMER));
        assertFalse(ch.finish());
        assertInputsReleased();
    }

    @Test
    void testFlushViaClose() {
        PacketGroAggregator gro = new PacketGroAggregator(timerConfig(0));
        EmbeddedChannel ch = new EmbeddedChannel(gro);
        ch.pipeline().fireChannelRead(segment(1448));
        ch.pipeline().fireChannelRead(segment(1448));
        ch.pipeline().fireChannelRead(segment(1448));
        ch.close().syncUninterruptibly();
        GsoPacket g = assertInstanceOf(GsoPacket.class, ch.readInbound());
        assertEquals(3, g.segmentCount());
        g.release();
        assertEquals(1, gro.counters().flowsFlushed(PacketFlushReason.CLOSE));
        assertEquals(0, gro.counters().packetsDroppedOnInactive());
        assertFalse(ch.finish());
        assertInputsReleased();
    }

    @Test
    void testFlushViaHandlerRemoved() {
        PacketGroAggregator gro = new PacketGroAggregator(timerConfig(0));
        EmbeddedChannel ch = new EmbeddedChannel(gro);
        ByteBuf lone = segment(1448);
        ch.pipeline().fireChannelRead(lone);
        ch.pipeline().remove(gro);
        assertSame(lone, ch.readInbound(), "a lone packet leaves as it came");
        lone.release();
        assertFalse(ch.finish());
        assertInputsReleased();
    }

    @Test
    void testFlushViaOtherMessageKeepsOrder() {
        PacketGroAggregator gro = new PacketGroAggregator(timerConfig(0));
        EmbeddedChannel ch = new EmbeddedChannel(gro);
        ch.pipeline().fireChannelRead(segment(1448));
        ch.pipeline().fireChannelRead(segment(1448));
        ch.pipeline().fireChannelRead("marker");
        GsoPacket g = assertInstanceOf(GsoPacket.class, ch.readInbound());
        g.release();
        assertEquals("marker", ch.readInbound());
        assertEquals(1, gro.counters().flowsFlushed(PacketFlushReason.OTHER_MESSAGE));
        assertFalse(ch.finish());
        assertInputsReleased();
    }

    @Test
    void testByteLimitFlushesOldest() {
        PacketGroConfig config = PacketGroConfig.newBuilder().maxHeldBytes(65536).flushDelay(0, TimeUnit.SECONDS).build();
        PacketGroAggregator gro = new PacketGroAggregator(config);
        EmbeddedChannel ch = new EmbeddedChannel(gro);
        RawRun other = new RawRun(spec());
        other.spec.srcPort++;
        // Flow A: 44 x 1448 (about 65 KB held); flow B's first packet exceeds the byte budget.
        for (int i = 0; i < 44; i++) {
            ch.pipeline().fireChannelRead(segment(1448));
        }
        ByteBuf b = PacketChecks.input(other.next(1448).bytes, true);
        inputs.add(b);
        ch.pipeline().fireChannelRead(b);
        GsoPacket g = assertInstanceOf(GsoPacket.class, ch.readInbound());
        assertEquals(44, g.segmentCount());
        g.release();
        assertEquals(1, gro.counters().flowsFlushed(PacketFlushReason.BYTE_LIMIT));
        ch.pipeline().fireChannelReadComplete();
        ByteBuf lone = ch.readInbound();
        assertSame(b, lone);
        lone.release();
        assertFalse(ch.finish());
        assertInputsReleased();
    }

    @Test
    void heldPacketsAreReleasedWhenInactiveWithoutClose() {
        PacketGroAggregator gro = new PacketGroAggregator(timerConfig(0));
        EmbeddedChannel ch = new EmbeddedChannel(gro);
        ch.pipeline().fireChannelRead(segment(1448));
        ch.pipeline().fireChannelInactive();
        assertEquals(1, gro.counters().packetsDroppedOnInactive());
        assertNull(ch.readInbound());
        ch.finishAndReleaseAll();
        assertInputsReleased();
    }

    @Test
    void anAllocationFailureDropsThePacketThatNeededItWithoutLeakingOrThrowing() {
        PacketGroAggregator gro = new PacketGroAggregator(timerConfig(0));
        EmbeddedChannel ch = new EmbeddedChannel(gro);
        ch.config().setAllocator(PacketChecks.failingDirectAllocator());
        ByteBuf first = segment(1448);
        byte[] firstBytes = ByteBufUtil.getBytes(first);
        ch.pipeline().fireChannelRead(first);
        // The second packet starts the run's buffer, which cannot be allocated: it is dropped, the first kept.
        ch.pipeline().fireChannelRead(segment(1448));
        ch.pipeline().fireChannelReadComplete();
        ch.checkException();
        ByteBuf only = ch.readInbound();
        try {
            assertArrayEquals(firstBytes, ByteBufUtil.getBytes(only));
        } finally {
            only.release();
        }
        assertNull(ch.readInbound());
        assertEquals(1, gro.counters().packetsDropped());
        assertEquals(1, gro.counters().lonePacketsOut());
        assertEquals(0, gro.heldPackets());
        assertFalse(ch.finish());
        assertInputsReleased();
    }
}
