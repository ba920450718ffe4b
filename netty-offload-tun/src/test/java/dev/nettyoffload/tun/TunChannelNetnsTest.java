package dev.nettyoffload.tun;

import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.GsoType;
import dev.nettyoffload.core.packet.InternetChecksum;
import dev.nettyoffload.core.packet.LinkType;
import dev.nettyoffload.core.packet.PacketLayout;
import dev.nettyoffload.gso.PacketSegmenter;
import dev.nettyoffload.testkit.CommandRunner;
import dev.nettyoffload.testkit.NetNs;
import dev.nettyoffload.testkit.TcpTransfer;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two TUN devices in two network namespaces, joined by this JVM copying every packet from one channel to the
 * other: the Linux TCP stack on both ends is the peer. Reads must arrive as GsoPackets with the kernel's metadata,
 * and written GsoPackets must reach the other kernel as valid TCP (the transfer's bytes arrive intact).
 */
class TunChannelNetnsTest {
    private static EventLoopGroup group;

    @BeforeAll
    static void setUp() {
        group = TunTestLoops.start(1);
    }

    @AfterAll
    static void tearDown() {
        TunTestLoops.stop(group);
    }

    @Test
    void tcpThroughTwoTunsWithOffloads() throws Exception {
        Result r = transfer(TunOffload.all(), TunOffload.all(), 20_000_000);
        assertTrue(r.a.counters().gsoReads() > 0, "no super-packet read: " + r.a.counters());
        assertTrue(r.b.counters().gsoWrites() > 0, "no super-packet written: " + r.b.counters());
        assertEquals(0, r.b.counters().segmentedWrites());
        assertNull(r.bridge.problem, r.bridge.problem);
        assertTrue(r.bridge.gsoPackets > 0);
        assertEquals(EnumSet.allOf(TunOffload.class), r.a.offloads());
    }

    @Test
    void offloadsRefusedFallBackToOnePacketPerCall() throws Exception {
        // Side B refuses offloads: it never reads super-packets, and those A hands it are cut in software.
        Result r = transfer(TunOffload.all(), EnumSet.noneOf(TunOffload.class), 10_000_000);
        assertTrue(r.b.offloads().isEmpty());
        assertTrue(r.b.counters().segmentedWrites() > 0, r.b.counters().toString());
        assertEquals(0, r.b.counters().gsoWrites());
        assertEquals(0, r.b.counters().gsoReads());
        assertTrue(r.b.counters().segmentsWritten() > r.b.counters().segmentedWrites());
        assertTrue(r.b.counters().writes() >= r.b.counters().segmentsWritten());
        assertNull(r.bridge.problem, r.bridge.problem);
    }

    @Test
    void twelveByteVnetHeader() throws Exception {
        // struct virtio_net_hdr_mrg_rxbuf on both devices: the same super-packets, two bytes further on.
        Result r = transfer(TunOffload.all(), TunOffload.all(), 10_000_000, VirtioNetHeader.MRG_RXBUF_LENGTH);
        assertEquals(VirtioNetHeader.MRG_RXBUF_LENGTH, r.a.config().vnetHeaderSize());
        assertTrue(r.a.counters().gsoReads() > 0, "no super-packet read: " + r.a.counters());
        assertTrue(r.b.counters().gsoWrites() > 0, "no super-packet written: " + r.b.counters());
        assertEquals(0, r.a.counters().malformedReads() + r.b.counters().malformedReads());
        assertEquals(0, r.a.counters().writeErrors() + r.b.counters().writeErrors());
        assertNull(r.bridge.problem, r.bridge.problem);
    }

    private static final class Result {
        TunChannel a;
        TunChannel b;
        Bridge bridge;
    }

    private static Result transfer(Set<TunOffload> offloadsA, Set<TunOffload> offloadsB, long bytes)
            throws Exception {
        return transfer(offloadsA, offloadsB, bytes, VirtioNetHeader.LENGTH);
    }

    private static Result transfer(Set<TunOffload> offloadsA, Set<TunOffload> offloadsB, long bytes,
                                   int vnetHeaderSize) throws Exception {
        String nameA = NetNs.uniqueDeviceName("ta");
        String nameB = NetNs.uniqueDeviceName("tb");
        Result r = new Result();
        r.bridge = new Bridge();
        try (NetNs nsA = NetNs.create("tuna"); NetNs nsB = NetNs.create("tunb")) {
            r.a = bind(nameA, offloadsA, vnetHeaderSize);
            r.b = bind(nameB, offloadsB, vnetHeaderSize);
            try {
                r.bridge.a = r.a;
                r.bridge.b = r.b;
                r.a.pipeline().addLast(r.bridge.handler(r.b));
                r.b.pipeline().addLast(r.bridge.handler(r.a));
                // The descriptors keep working after the devices move into the namespaces.
                CommandRunner.run("ip", "link", "set", nameA, "netns", nsA.name());
                CommandRunner.run("ip", "link", "set", nameB, "netns", nsB.name());
                NetNs.configure(nsA, nameA, "10.201.0.1/24");
                NetNs.configure(nsB, nameB, "10.201.0.2/24");

                Process sink = nsB.javaProcess(TcpTransfer.class, "serve", "5201").start();
                try {
                    BufferedReader sinkOut = new BufferedReader(
                            new InputStreamReader(sink.getInputStream(), StandardCharsets.UTF_8));
                    assertEquals("LISTENING", sinkOut.readLine());
                    CommandRunner.Result sent = nsA.tryExec(
                            TcpTransfer.command("send", "10.201.0.2", "5201", Long.toString(bytes)), 60);
                    assertTrue(sent.ok(), sent.toString());
                    String received = sinkOut.readLine();
                    assertTrue(sink.waitFor(30, TimeUnit.SECONDS));
                    assertEquals(sent.stdout.trim(), received);
                    assertTrue(received.startsWith("bytes=" + bytes + " "), received);
                } finally {
                    sink.destroyForcibly();
                }
            } finally {
                r.a.close().syncUninterruptibly();
                r.b.close().syncUninterruptibly();
            }
        }
        return r;
    }

    private static TunChannel bind(String name, Set<TunOffload> offloads, int vnetHeaderSize) {
        return (TunChannel) new Bootstrap()
                .group(group)
                .channel(TunChannel.class)
                .option(TunChannelOption.OFFLOADS, offloads)
                .option(TunChannelOption.VNET_HDR_SIZE, vnetHeaderSize)
                .handler(new ChannelInboundHandlerAdapter())
                .bind(new TunAddress(name))
                .syncUninterruptibly()
                .channel();
    }

    /** Copies packets between the two channels and checks the metadata of the super-packets it sees. */
    private static final class Bridge {
        TunChannel a;
        TunChannel b;
        long gsoPackets;
        String problem;
        private final PacketSegmenter segmenter = new PacketSegmenter();

        ChannelInboundHandlerAdapter handler(TunChannel peer) {
            return new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    if (msg instanceof GsoPacket p) {
                        check(p, ctx);
                    }
                    peer.write(msg, peer.voidPromise());
                }

                @Override
                public void channelReadComplete(ChannelHandlerContext ctx) {
                    peer.flush();
                }
            };
        }

        /** gsoType and size as the kernel's TCP sets them; each segment cut from it carries a valid checksum. */
        private void check(GsoPacket p, ChannelHandlerContext ctx) {
            gsoPackets++;
            if (problem != null) {
                return;
            }
            PacketLayout l = p.layout(LinkType.RAW_IP);
            if (p.gsoType() != GsoType.TCPV4) {
                problem = "gsoType " + p.gsoType();
            } else if (p.segmentSize() != 1448) {
                // MTU 1500 - 20 (IPv4) - 20 (TCP) - 12 (timestamps).
                problem = "segmentSize " + p.segmentSize();
            } else if (l.payloadLength() <= p.segmentSize()) {
                problem = "a super-packet of one segment: " + l.payloadLength();
            } else {
                List<Object> out = new ArrayList<>();
                segmenter.segment(p, ctx.alloc(), out);
                for (Object o : out) {
                    ByteBuf s = (ByteBuf) o;
                    PacketLayout sl = new PacketLayout().parse(s, LinkType.RAW_IP, l.tunnelType(), null);
                    long sum = InternetChecksum.pseudoHeaderIpv4(s, s.readerIndex() + sl.l3(), 6,
                            sl.length() - sl.l4()) + InternetChecksum.sum(s, s.readerIndex() + sl.l4(),
                            sl.length() - sl.l4());
                    if (!InternetChecksum.verifies(sum)) {
                        problem = "segment checksum does not verify";
                    }
                    ReferenceCountUtil.release(s);
                }
            }
        }
    }
}
