package dev.nettyoffload.core;

import dev.nettyoffload.core.testing.Prerequisites;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import org.junit.jupiter.api.Test;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A 64 KiB TCP write with TSO on and off on the sending veth. The topology stands in for a host and its wire:
 * <pre>
 * root (this JVM) ncT.. ==veth== r0 [ns R, forwarding] r1 ==veth (TSO off)== d0 [ns D, TCP sink]
 * </pre>
 * With TSO on, the sending veth takes few large packets (what a TSO NIC receives from the stack); R forwards
 * them out of r1, which cannot segment TCP, so the kernel cuts them there: the r1-d0 link is the "wire" and
 * must carry MSS-sized packets in both cases.
 */
class TsoWireTest {
    private static final Logger logger = System.getLogger(TsoWireTest.class.getName());
    private static final int MTU = 1500;
    private static final int WRITE = 64 * 1024;
    private static final int PORT = 5001;
    /** Ethernet header + MTU: the largest frame veth counts in rx_bytes for an unsegmented packet. */
    private static final int MAX_FRAME = MTU + 14;

    @Test
    void tcpWriteLeavesAsMssSizedPacketsWhetherTheNicOrTheKernelSegments() throws Exception {
        NicTestNet.requireNetnsAndEthtool();
        Prerequisites.requireTransport(Transport.EPOLL);
        String dev = NicTestNet.rootDevice('t');
        int a = NicTestNet.subnet(2);
        int b = NicTestNet.subnet(3);
        String sinkAddress = "10.83." + b + ".2";
        NicTestNet r = NicTestNet.create("nctsor");
        NicTestNet d = null;
        Process sink = null;
        EventLoopGroup group = null;
        try {
            d = NicTestNet.create("nctsod");
            r.vethToRoot(dev, "10.83." + a + ".1/24", null, "r0", "10.83." + a + ".2/24", null, MTU);
            r.veth("r1", "10.83." + b + ".1/24", d, "d0", sinkAddress + "/24", MTU);
            r.exec("sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
            r.exec("ethtool", "-K", "r1", "tso", "off");
            d.exec("ip", "route", "add", "default", "via", "10.83." + b + ".1");
            NicTestNet.run("ip", "route", "add", "10.83." + b + ".0/24", "via", "10.83." + a + ".2", "dev", dev);

            List<String> cmd = new ArrayList<>(d.wrap(System.getProperty("java.home") + "/bin/java", "-cp",
                    System.getProperty("java.class.path"), TcpSinkMain.class.getName(), Integer.toString(PORT), "2"));
            sink = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            LineReader out = new LineReader(sink.getInputStream(), "tcp-sink");
            out.await("listening", 20_000);

            group = Transport.EPOLL.newEventLoopGroup(1);
            InetAddress dst = InetAddress.getByName(sinkAddress);
            long[] off = send(group, dev, d, dst, false, out);
            long[] on = send(group, dev, d, dst, true, out);
            logger.log(Level.INFO, "64 KiB TCP write: TSO off: sender veth tx_packets " + off[0] + ", wire "
                    + off[1] + " packets / " + off[2] + " bytes; TSO on: sender veth tx_packets " + on[0] + ", wire "
                    + on[1] + " packets / " + on[2] + " bytes");
            for (long[] run : new long[][] {off, on}) {
                // At most MSS (1448 with timestamps) per packet: at least 46 data packets, none above MTU.
                assertTrue(run[1] >= (WRITE + 1447) / 1448, "wire packets: " + run[1]);
                assertTrue(run[2] <= run[1] * MAX_FRAME, "a packet larger than the MTU reached the wire: "
                        + run[2] + " bytes in " + run[1] + " packets");
            }
            assertTrue(off[0] >= (WRITE + 1447) / 1448, "without TSO the stack hands the veth MSS-sized packets: "
                    + off[0]);
            assertTrue(on[0] * 3 <= off[0], "with TSO the veth gets fewer, larger packets: on " + on[0] + ", off "
                    + off[0]);
        } finally {
            if (group != null) {
                group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).sync();
            }
            if (sink != null) {
                sink.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
            NicTestNet.tryRun("ip", "link", "del", dev);
            r.close();
            if (d != null) {
                d.close();
            }
        }
    }

    /** Returns {sender tx_packets, wire packets, wire bytes} for one 64 KiB write. */
    private static long[] send(EventLoopGroup group, String dev, NicTestNet d, InetAddress dst, boolean tso,
                               LineReader sinkOut) throws Exception {
        NicFeatures features = NicFeatures.set(dev, NicFeatures.TX_TCP_SEGMENTATION, tso);
        assertEquals(tso, features.isEnabled(NicFeatures.TX_TCP_SEGMENTATION));
        Channel ch = new Bootstrap().group(group).channel(Transport.EPOLL.socketChannelClass())
                .handler(new ChannelInboundHandlerAdapter())
                .connect(new InetSocketAddress(dst, PORT)).sync().channel();
        try {
            TcpBulkSender.defaults().apply(ch);
            OffloadReport report = TcpBulkSender.report(ch);
            assertEquals(tso ? OffloadLayer.NIC : OffloadLayer.KERNEL, report.tcpSegmentation().layer(),
                    report.toString());
            assertEquals(dev, report.route().device());
            long tx0 = NicTestNet.rootStatistic(dev, "tx_packets");
            long rx0 = d.statistic("d0", "rx_packets");
            long bytes0 = d.statistic("d0", "rx_bytes");
            ch.writeAndFlush(Unpooled.wrappedBuffer(new byte[WRITE])).sync();
            ch.close().sync();
            assertEquals("received " + WRITE, sinkOut.await("received", 10_000));
            // The sink's FIN and our last ACK may still be in flight; they are small, so waiting is not needed.
            return new long[] {NicTestNet.rootStatistic(dev, "tx_packets") - tx0,
                    d.statistic("d0", "rx_packets") - rx0, d.statistic("d0", "rx_bytes") - bytes0};
        } finally {
            ch.close().sync();
        }
    }
}
