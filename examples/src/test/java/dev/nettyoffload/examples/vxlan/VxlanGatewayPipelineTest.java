package dev.nettyoffload.examples.vxlan;

import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.GsoType;
import dev.nettyoffload.core.Transport;
import dev.nettyoffload.testkit.TestPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Both sides' real pipelines on embedded channels (no root needed): TCP segments from A are merged and reach B
 * as VXLAN datagrams with B's VNI; random garbage is dropped or forwarded, never raises, never leaks.
 */
class VxlanGatewayPipelineTest {
    private static final InetSocketAddress GW_A = new InetSocketAddress("127.0.0.1", 4789);
    private static final InetSocketAddress GW_B = new InetSocketAddress("127.0.0.3", 4789);
    private static final InetSocketAddress PEER_A = new InetSocketAddress("127.0.0.2", 45678);
    private static final InetSocketAddress PEER_B = new InetSocketAddress("127.0.0.4", 4789);

    private static VxlanGateway gateway(EmbeddedChannel a, EmbeddedChannel b) {
        VxlanGateway g = new VxlanGateway(Transport.NIO, true,
                new VxlanSegment("a", GW_A, 100, 1450, List.of(new InetSocketAddress(PEER_A.getAddress(), 4789))),
                new VxlanSegment("b", GW_B, 200, 1450, List.of(PEER_B)));
        g.initPipeline(a, 0);
        g.initPipeline(b, 1);
        g.egress(0).channel(a);
        g.egress(1).channel(b);
        return g;
    }

    private static DatagramPacket vxlan(int vni, ByteBuf frame) {
        ByteBuf d = Unpooled.buffer(8 + frame.readableBytes());
        VxlanDecoder.writeHeader(d, vni);
        d.writeBytes(frame);
        frame.release();
        return new DatagramPacket(d, GW_A, PEER_A);
    }

    @Test
    void tcpSegmentsAreMergedAndForwardedWithTheOtherVni() {
        EmbeddedChannel a = new EmbeddedChannel();
        EmbeddedChannel b = new EmbeddedChannel();
        VxlanGateway g = gateway(a, b);
        TestPacket t = new TestPacket();
        t.ethernet = true;
        byte[] payload = new byte[8 * 1398];
        new Random(1).nextBytes(payload);
        GsoPacket run = new GsoPacket(Unpooled.wrappedBuffer(t.build(payload, t.original()).bytes), GsoType.TCPV4, 1398);
        // Cut the run into wire segments with the segmenter, as a Linux peer would send them.
        java.util.ArrayList<Object> wire = new java.util.ArrayList<>();
        new dev.nettyoffload.gso.PacketSegmenter(dev.nettyoffload.gso.PacketSegmenterConfig.newBuilder()
                .linkType(dev.nettyoffload.core.packet.LinkType.ETHERNET).build()).segment(run, a.alloc(), wire);
        run.release();
        assertEquals(8, wire.size());
        for (Object w : wire) {
            a.pipeline().fireChannelRead(vxlan(100, (ByteBuf) w));
        }
        a.pipeline().fireChannelReadComplete();
        a.runPendingTasks();
        b.runPendingTasks();
        int datagrams = 0;
        int bytes = 0;
        for (Object o; (o = b.readOutbound()) != null; ) {
            DatagramPacket dp = (DatagramPacket) o;
            try {
                assertEquals(PEER_B, dp.recipient());
                ByteBuf c = dp.content();
                assertEquals(200 << 8, c.getInt(c.readerIndex() + 4));
                datagrams += dp instanceof io.netty.channel.unix.SegmentedDatagramPacket
                        ? (c.readableBytes() + ((io.netty.channel.unix.SegmentedDatagramPacket) dp).segmentSize() - 1)
                        / ((io.netty.channel.unix.SegmentedDatagramPacket) dp).segmentSize() : 1;
                bytes += c.readableBytes();
            } finally {
                dp.release();
            }
        }
        assertEquals(8, datagrams);
        assertEquals(8 * (8 + 14 + 40) + payload.length, bytes);
        VxlanGatewayCounters c = g.snapshot();
        assertEquals(1, c.mergedPacketsOut(), c.toString());
        assertEquals(8, c.packetsMerged(), c.toString());
        assertEquals(8, c.segmentsOut(), c.toString());
        assertEquals(8, c.outerDatagrams(), c.toString());
        assertEquals(1, c.outerWrites(), "one USO write: " + c);
        a.finishAndReleaseAll();
        b.finishAndReleaseAll();
    }

    @Test
    void randomGarbageNeverRaisesNorLeaks() {
        EmbeddedChannel a = new EmbeddedChannel();
        EmbeddedChannel b = new EmbeddedChannel();
        VxlanGateway g = gateway(a, b);
        Random random = new Random(42);
        for (int i = 0; i < 3000; i++) {
            int length = random.nextInt(3000);
            ByteBuf d = Unpooled.buffer(length);
            byte[] bytes = new byte[length];
            random.nextBytes(bytes);
            d.writeBytes(bytes);
            if (length >= 8 && random.nextBoolean()) {
                d.setInt(0, 0x08000000);           // mostly valid header with our VNI
                d.setInt(4, 100 << 8);
                if (length > 8 + 14 && random.nextBoolean()) {
                    d.setShort(8 + 12, 0x0800);     // claims IPv4
                    d.setByte(8 + 14, 0x45);
                }
            }
            a.pipeline().fireChannelRead(new DatagramPacket(d, GW_A, PEER_A));
            if (i % 16 == 15) {
                a.pipeline().fireChannelReadComplete();
                a.runPendingTasks();
                b.runPendingTasks();
                for (Object o; (o = b.readOutbound()) != null; ) {
                    ReferenceCountUtil.release(o);
                }
            }
        }
        a.pipeline().fireChannelReadComplete();
        a.runPendingTasks();
        b.runPendingTasks();
        a.finishAndReleaseAll();
        b.finishAndReleaseAll();
        // Besides no exception and no leak (LeakCheckExtension): every datagram is accounted for.
        VxlanGatewayCounters c = g.snapshot();
        assertTrue(c.drops(VxlanDropReason.SHORT) > 0, c.toString());
        assertTrue(c.drops(VxlanDropReason.NO_VNI_FLAG) > 0, c.toString());
        assertTrue(c.drops(VxlanDropReason.UNKNOWN_VNI) > 0, c.toString());
        assertTrue(c.framesIn() > 0, c.toString());
        assertEquals(3000, c.drops(VxlanDropReason.SHORT) + c.drops(VxlanDropReason.NO_VNI_FLAG)
                + c.drops(VxlanDropReason.UNKNOWN_VNI) + c.drops(VxlanDropReason.BAD_SOURCE_MAC) + c.framesIn(),
                c.toString());
    }
}
