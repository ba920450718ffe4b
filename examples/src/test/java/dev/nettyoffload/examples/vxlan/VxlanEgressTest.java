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
        VxlanSegment segment = new VxlanSegment("b", LOCAL, VNI, mtu, List.of(VTEP));
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
}
