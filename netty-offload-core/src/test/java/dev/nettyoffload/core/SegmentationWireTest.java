package dev.nettyoffload.core;

import dev.nettyoffload.core.linux.NicFeatures;
import dev.nettyoffload.core.linux.OffloadLayer;
import dev.nettyoffload.core.linux.OffloadReport;
import dev.nettyoffload.testkit.CommandRunner;
import dev.nettyoffload.testkit.NetNs;
import dev.nettyoffload.testkit.Prerequisites;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.unix.SegmentedDatagramPacket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.System.Logger.Level;
import java.lang.System.Logger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Large TCP and UDP_SEGMENT writes with the sending veth's TSO / USO on and off. The topology stands in for a
 * host and its wire:
 * <pre>
 * root (this JVM) nc... ==veth== r0 [ns R, forwarding] r1 ==veth (TSO, USO off)== d0 [ns D, TCP sink]
 * </pre>
 * With the offload on, the sending veth takes few large packets (what a NIC with TSO/USO receives from the
 * stack); R forwards them out of r1, which cannot segment, so the kernel cuts them there: the r1-d0 link is the
 * "wire" and must carry packets no larger than the MTU in every case.
 */
class SegmentationWireTest {
    private static final Logger logger = System.getLogger(SegmentationWireTest.class.getName());
    private static final int MTU = 1500;
    private static final int WRITE = 64 * 1024;
    private static final int TCP_PORT = 5001;
    private static final int UDP_PORT = 5003;
    private static final int SEGMENT = 1400;
    /** Ethernet header + MTU: the largest frame veth counts in rx_bytes for an unsegmented packet. */
    private static final int MAX_FRAME = MTU + 14;

    private static String dev;
    private static NetNs r;
    private static NetNs d;
    private static InetAddress sink;
    private static InetAddress local;
    private static EventLoopGroup group;

    @BeforeAll
    static void setUp() throws Exception {
        Prerequisites.requireNetns();
        Prerequisites.requireCommand("ethtool", "ethtool");
        Prerequisites.requireTransport(Transport.EPOLL.displayName(), Transport.EPOLL.unavailabilityCause());
        dev = NetNs.uniqueDeviceName("nct");
        int a = NetNs.perProcess(200, 10, 5, 2);
        int b = NetNs.perProcess(200, 10, 5, 3);
        r = NetNs.create("ncsegr");
        d = NetNs.create("ncsegd");
        NetNs.vethToRoot(dev, "10.83." + a + ".1/24", r, "r0", "10.83." + a + ".2/24", MTU);
        NetNs.veth(r, "r1", "10.83." + b + ".1/24", d, "d0", "10.83." + b + ".2/24", MTU);
        r.exec("sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
        r.exec("ethtool", "-K", "r1", "tso", "off", "tx-udp-segmentation", "off");
        d.exec("ip", "route", "add", "default", "via", "10.83." + b + ".1");
        CommandRunner.run("ip", "route", "add", "10.83." + b + ".0/24", "via", "10.83." + a + ".2", "dev", dev);
        sink = InetAddress.getByName("10.83." + b + ".2");
        local = InetAddress.getByName("10.83." + a + ".1");
        group = Transport.EPOLL.newEventLoopGroup(1);
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (group != null) {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).sync();
        }
        if (dev != null) {
            CommandRunner.tryRun("ip", "link", "del", dev);
        }
        if (r != null) {
            r.close();
        }
        if (d != null) {
            d.close();
        }
    }

    @Test
    void tcpWriteLeavesAsMssSizedPacketsWhetherTheNicOrTheKernelSegments() throws Exception {
        List<String> cmd = new ArrayList<>(d.command(System.getProperty("java.home") + "/bin/java", "-cp",
                System.getProperty("java.class.path"), TcpSinkMain.class.getName(), Integer.toString(TCP_PORT), "2"));
        Process sinkProcess = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            LineReader out = new LineReader(sinkProcess.getInputStream(), "tcp-sink");
            out.await("listening", 20_000);
            long[] off = sendTcp(false, out);
            long[] on = sendTcp(true, out);
            logger.log(Level.INFO, "64 KiB TCP write: TSO off: sender veth tx_packets " + off[0] + ", wire "
                    + off[1] + " packets / " + off[2] + " bytes; TSO on: sender veth tx_packets " + on[0] + ", wire "
                    + on[1] + " packets / " + on[2] + " bytes");
            int mssPackets = (WRITE + 1447) / 1448; // MSS 1448: MTU 1500 - 40 - 12 bytes of timestamps
            for (long[] run : new long[][] {off, on}) {
                assertTrue(run[1] >= mssPackets, "wire packets: " + run[1]);
                assertTrue(run[2] <= run[1] * MAX_FRAME, "a packet larger than the MTU reached the wire: "
                        + run[2] + " bytes in " + run[1] + " packets");
            }
            assertTrue(off[0] >= mssPackets, "without TSO the stack hands the veth MSS-sized packets: " + off[0]);
            assertTrue(on[0] * 3 <= off[0], "with TSO the veth gets fewer, larger packets: on " + on[0] + ", off "
                    + off[0]);
        } finally {
            sinkProcess.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void udpSegmentSendLeavesAsDatagramsWhetherTheNicOrTheKernelSegments() throws Exception {
        OffloadCapabilities caps = OffloadCapabilities.get();
        Prerequisites.require(caps.isKernelSegmentationAvailable(Transport.EPOLL), "UDP_SEGMENT on epoll: "
                + caps.udpSegmentProblem());
        int segments = Math.min(caps.maxSegmentsPerSend(), UdpLimits.MAX_IPV4_PAYLOAD / SEGMENT); // 46
        long[] off = sendUdp(false, segments);
        long[] on = sendUdp(true, segments);
        logger.log(Level.INFO, "one UDP_SEGMENT send of " + segments + " x " + SEGMENT + " bytes: USO off: sender "
                + "veth tx_packets " + off[0] + ", wire " + off[1] + " packets / " + off[2] + " bytes; USO on: "
                + "sender veth tx_packets " + on[0] + ", wire " + on[1] + " packets / " + on[2] + " bytes");
        for (long[] run : new long[][] {off, on}) {
            assertTrue(run[1] >= segments, "wire packets: " + run[1]);
            assertTrue(run[2] <= run[1] * MAX_FRAME, "a packet larger than the MTU reached the wire: " + run[2]
                    + " bytes in " + run[1] + " packets");
        }
        assertTrue(off[0] >= segments, "without USO the kernel cuts the send before the veth: " + off[0]);
        assertTrue(on[0] * 3 <= off[0], "with USO the veth gets one large packet: on " + on[0] + ", off " + off[0]);
    }

    /** Returns {sender tx_packets, wire packets, wire bytes} for one 64 KiB TCP write. */
    private static long[] sendTcp(boolean tso, LineReader sinkOut) throws Exception {
        NicFeatures features = NicFeatures.set(dev, NicFeatures.TX_TCP_SEGMENTATION, tso);
        assertEquals(tso, features.isEnabled(NicFeatures.TX_TCP_SEGMENTATION));
        Channel ch = new Bootstrap().group(group).channel(Transport.EPOLL.socketChannelClass())
                .handler(new ChannelInboundHandlerAdapter())
                .connect(new InetSocketAddress(sink, TCP_PORT)).sync().channel();
        try {
            TcpBulkSender.DEFAULT.apply(ch);
            OffloadReport report = TcpBulkSender.report(ch);
            assertEquals(tso ? OffloadLayer.NIC : OffloadLayer.KERNEL, report.tcpSegmentation().layer(),
                    report.toString());
            assertEquals(dev, report.route().device());
            long[] before = counters();
            ch.writeAndFlush(Unpooled.wrappedBuffer(new byte[WRITE])).sync();
            ch.close().sync();
            assertEquals("received " + WRITE, sinkOut.await("received", 10_000));
            // The FINs and last ACKs are small, so they cannot hide a large packet in the byte check.
            return delta(before);
        } finally {
            ch.close().sync();
        }
    }

    /** Returns {sender tx_packets, wire packets, wire bytes} for one UDP_SEGMENT send. */
    private static long[] sendUdp(boolean uso, int segments) throws Exception {
        NicFeatures features = NicFeatures.set(dev, NicFeatures.TX_UDP_SEGMENTATION, uso);
        assertEquals(uso, features.isEnabled(NicFeatures.TX_UDP_SEGMENTATION));
        OffloadReport report = OffloadReport.forDestination(sink, Transport.EPOLL);
        assertEquals(uso ? OffloadLayer.NIC : OffloadLayer.KERNEL, report.udpSegmentation().layer(),
                report.toString());
        Channel ch = new Bootstrap().group(group).channel(Transport.EPOLL.datagramChannelClass())
                .handler(new ChannelInboundHandlerAdapter()).bind(new InetSocketAddress(local, 0)).sync().channel();
        try {
            long[] before = counters();
            int n = segments * SEGMENT;
            ch.writeAndFlush(new SegmentedDatagramPacket(Unpooled.directBuffer(n).writeZero(n), SEGMENT,
                    new InetSocketAddress(sink, UDP_PORT))).sync();
            // Nothing acknowledges UDP: wait (bounded) until the wire has seen every segment.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            long[] now = delta(before);
            while (now[1] < segments && System.nanoTime() < deadline) {
                Thread.sleep(20);
                now = delta(before);
            }
            return now;
        } finally {
            ch.close().sync();
        }
    }

    private static long[] counters() {
        return new long[] {NetNs.rootStatistic(dev, "tx_packets"), d.statistic("d0", "rx_packets"),
                d.statistic("d0", "rx_bytes")};
    }

    private static long[] delta(long[] before) {
        long[] now = counters();
        return new long[] {now[0] - before[0], now[1] - before[1], now[2] - before[2]};
    }
}
