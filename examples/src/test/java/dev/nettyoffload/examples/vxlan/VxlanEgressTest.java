package dev.nettyoffload.examples.vxlan;

import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.GsoType;
import dev.nettyoffload.testkit.TestPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import io.netty.util.internal.logging.InternalLoggerFactory;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The egress path on an {@link EmbeddedChannel}: re-segmentation to the egress MTU and USO batching. */
class VxlanEgressTest {
    private static final InetSocketAddress LOCAL = new InetSocketAddress("127.0.0.1", 4789);
    private static final InetSocketAddress VTEP = new InetSocketAddress("127.0.0.2", 4789);
    private static final int VNI = 200;

    private static VxlanEgress egress(EmbeddedChannel ch, int mtu, boolean offload) {
        return egress(ch, mtu, offload, List.of(VTEP));
    }

    private static VxlanEgress egress(EmbeddedChannel ch, int mtu, boolean offload, List<InetSocketAddress> remotes) {
        VxlanSegment segment = new VxlanSegment("b", LOCAL, VNI, mtu, remotes);
        VxlanEgress e = new VxlanEgress(segment, offload, 64,
                new DropLog(InternalLoggerFactory.getInstance(VxlanEgressTest.class), "test"));
        e.channel(ch);
        return e;
    }

    private static GsoPacket tcpRun(int payloadLength, int segmentSize) {
        TestPacket t = new TestPacket();
        t.ethernet = true;
        byte[] payload = new byte[payloadLength];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) i;
        }
        return new GsoPacket(Unpooled.wrappedBuffer(t.build(payload, t.original()).bytes), GsoType.TCPV4, segmentSize);
    }

    @Test
    void mergedRunIsCutToTheEgressMssAndLeavesAsOneUsoWrite() {
        EmbeddedChannel ch = new EmbeddedChannel();
        VxlanEgress e = egress(ch, 1000, true);
        GsoPacket run = tcpRun(3 * 1400, 1400);
        e.send(run, VTEP);
        ch.runPendingTasks();
        SegmentedDatagramPacket out = assertInstanceOf(SegmentedDatagramPacket.class, ch.readOutbound());
        try {
            // MSS = 1000 - 20 (IPv4) - 20 (TCP) = 960: 4 full segments and 360 bytes.
            int full = 8 + 14 + 40 + 960;
            assertEquals(full, out.segmentSize());
            assertEquals(4 * full + 8 + 14 + 40 + 360, out.content().readableBytes());
            assertEquals(VTEP, out.recipient());
            ByteBuf c = out.content();
            for (int i = 0; i < 5; i++) {
                int at = c.readerIndex() + i * full;
                assertEquals(0x08000000, c.getInt(at), "VXLAN flags of datagram " + i);
                assertEquals(VNI << 8, c.getInt(at + 4), "VNI of datagram " + i);
                int ipTotalLength = c.getUnsignedShort(at + 8 + 14 + 2);
                assertEquals(i < 4 ? 1000 : 400, ipTotalLength, "inner IPv4 total length of datagram " + i);
            }
        } finally {
            out.release();
        }
        assertEquals(0, run.refCnt());
        assertEquals(1, e.resegmented());
        assertEquals(5, e.segmentsOut());
        assertEquals(5, e.outerDatagrams());
        assertEquals(1, e.outerWrites());
        assertFalse(ch.finish());
    }

    @Test
    void withoutOffloadEveryFrameIsItsOwnDatagram() {
        EmbeddedChannel ch = new EmbeddedChannel();
        VxlanEgress e = egress(ch, 1450, false);
        e.send(tcpRun(3 * 1400, 1400), null); // flooded to the segment's one remote
        ch.runPendingTasks();
        for (int i = 0; i < 3; i++) {
            DatagramPacket dp = ch.readOutbound();
            assertFalse(dp instanceof SegmentedDatagramPacket);
            assertEquals(8 + 14 + 40 + 1400, dp.content().readableBytes());
            assertEquals(VTEP, dp.recipient());
            dp.release();
        }
        assertNull(ch.readOutbound());
        assertEquals(0, e.resegmented());
        assertEquals(3, e.outerWrites());
        assertFalse(ch.finish());
    }

    @Test
    void oversizeSingleTcpSegmentIsCutAndOversizeOtherFrameDropped() {
        EmbeddedChannel ch = new EmbeddedChannel();
        VxlanEgress e = egress(ch, 1450, true);
        GsoPacket jumbo = tcpRun(8000, 8000);
        ByteBuf single = jumbo.content().retain();
        jumbo.release();
        e.send(single, VTEP);
        ch.runPendingTasks();
        SegmentedDatagramPacket out = assertInstanceOf(SegmentedDatagramPacket.class, ch.readOutbound());
        assertEquals(8 + 14 + 1450, out.segmentSize());
        out.release();
        assertEquals(0, single.refCnt());

        ByteBuf notIp = Unpooled.buffer(3000).writeZero(3000); // EtherType 0: nothing to segment
        e.send(notIp, VTEP);
        ch.runPendingTasks();
        assertNull(ch.readOutbound());
        assertEquals(0, notIp.refCnt());
        assertFalse(ch.finish());
    }

    @Test
    void aLongRunIsCutIntoUsoSendsAtTheSegmentLimitAndFlushedAtOnce() {
        EmbeddedChannel ch = new EmbeddedChannel();
        VxlanEgress e = egress(ch, 600, true);
        // MSS 600 - 40 = 560: 107 full segments and one of 80 bytes, 600 + 22 = 622 bytes per outer datagram; 64
        // per send (the limit given to the egress) and the 44 left.
        GsoPacket run = tcpRun(60_000, 1400);
        e.send(run, VTEP);
        // More than a full send's worth: flushed without waiting for the end of the loop's task.
        SegmentedDatagramPacket first = assertInstanceOf(SegmentedDatagramPacket.class, ch.readOutbound());
        SegmentedDatagramPacket second = assertInstanceOf(SegmentedDatagramPacket.class, ch.readOutbound());
        try {
            assertEquals(622, first.segmentSize());
            assertEquals(64 * 622, first.content().readableBytes());
            assertEquals(622, second.segmentSize());
            assertEquals(43 * 622 + 8 + 14 + 40 + 80, second.content().readableBytes());
            ByteBuf c = second.content();
            int last = c.readerIndex() + 43 * 622;
            assertEquals(VNI << 8, c.getInt(last + 4), "VNI of the last datagram");
            assertEquals(40 + 80, c.getUnsignedShort(last + 8 + 14 + 2), "its inner IPv4 length");
        } finally {
            first.release();
            second.release();
        }
        assertNull(ch.readOutbound());
        assertEquals(0, run.refCnt());
        assertEquals(108, e.outerDatagrams());
        assertEquals(2, e.outerWrites());
        assertFalse(ch.finish());
    }

    @Test
    void aSmallFrameWaitsForTheEndOfTheTaskAndIsCopiedBehindItsHeader() {
        EmbeddedChannel ch = new EmbeddedChannel();
        VxlanEgress e = egress(ch, 1450, true);
        ByteBuf frame = Unpooled.buffer(60).writeZero(12).writeShort(0x0800).writeZero(46);
        e.send(frame, VTEP);
        assertEquals(0, frame.refCnt(), "copied, and released at once");
        assertNull(ch.readOutbound(), "not flushed before the loop's task ends");
        ch.runPendingTasks();
        DatagramPacket dp = ch.readOutbound();
        try {
            assertFalse(dp instanceof SegmentedDatagramPacket);
            assertEquals(8 + 60, dp.content().readableBytes());
            assertEquals(0x08000000, dp.content().getInt(dp.content().readerIndex()));
            assertEquals(0x0800, dp.content().getUnsignedShort(dp.content().readerIndex() + 8 + 12));
        } finally {
            dp.release();
        }
        assertFalse(ch.finish());
    }

    @Test
    void floodingSendsTheSameDatagramsToEveryRemote() {
        EmbeddedChannel ch = new EmbeddedChannel();
        InetSocketAddress other = new InetSocketAddress("127.0.0.3", 4789);
        VxlanEgress e = egress(ch, 1000, true, List.of(VTEP, other));
        GsoPacket run = tcpRun(3 * 1400, 1400);
        e.send(run, null);
        ch.runPendingTasks();
        SegmentedDatagramPacket a = assertInstanceOf(SegmentedDatagramPacket.class, ch.readOutbound());
        SegmentedDatagramPacket b = assertInstanceOf(SegmentedDatagramPacket.class, ch.readOutbound());
        try {
            assertEquals(VTEP, a.recipient());
            assertEquals(other, b.recipient());
            assertEquals(a.content(), b.content());
        } finally {
            a.release();
            assertEquals(1, b.content().refCnt(), "each remote's datagrams hold their own reference");
            b.release();
        }
        assertNull(ch.readOutbound());
        assertEquals(0, run.refCnt());
        assertEquals(10, e.outerDatagrams());
        assertFalse(ch.finish());
    }
}
