package dev.nettyoffload.core;

import dev.nettyoffload.core.linux.NicFeatures;
import dev.nettyoffload.core.linux.OffloadLayer;
import dev.nettyoffload.core.linux.OffloadReport;
import dev.nettyoffload.core.linux.Qdisc;
import dev.nettyoffload.testkit.CommandRunner;
import dev.nettyoffload.testkit.NetNs;
import dev.nettyoffload.testkit.Prerequisites;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.unix.SegmentedDatagramPacket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.System.Logger.Level;
import java.lang.System.Logger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 1 MiB streams through a veth, timed on the far end with tcpdump, with and without SO_MAX_PACING_RATE. Paced,
 * a stream takes about size/rate; unpaced, a small fraction of that. Tolerances are wide (the machine is
 * shared): the paced stream may not be faster than half what the rate allows nor slower than five times, and the
 * unpaced one must be at least twice as fast as the paced one.
 * <p>
 * UDP is paced only by the fq qdisc, so the UDP test needs a kernel with CONFIG_NET_SCH_FQ; TCP paces itself
 * (tcp_internal_pacing) with any qdisc.
 */
class PacingWireTest {
    private static final Logger logger = System.getLogger(PacingWireTest.class.getName());
    private static final int STREAM = 1 << 20;
    private static final int SEGMENT = 1400;
    private static final long RATE = 5_000_000; // bytes per second: 1 MiB in ~0.21 s
    private static final int UDP_PORT = 9999;
    private static final int TCP_PORT = 5002;
    // "1763755580.123456 IP a.b > c.d: UDP, length 1400" or "...: tcp 1448"
    private static final Pattern LINE = Pattern.compile("^(\\d+)\\.(\\d{6}) .*(?:length|tcp) (\\d+)");

    private NetNs ns;
    private String dev;
    private EventLoopGroup group;
    private InetAddress local;
    private InetAddress peer;

    @BeforeEach
    void setUp() throws Exception {
        Prerequisites.requireNetns();
        Prerequisites.requireCommand("ethtool", "ethtool");
        Prerequisites.requireCommand("tc", "iproute2");
        Prerequisites.requireCommand("tcpdump", "tcpdump");
        Prerequisites.requireTransport(Transport.EPOLL.displayName(), Transport.EPOLL.unavailabilityCause());
        dev = NetNs.uniqueDeviceName("ncp");
        int net = NetNs.perProcess(200, 10, 5, 4);
        ns = NetNs.create("ncpace");
        NetNs.vethToRoot(dev, "10.83." + net + ".1/24", ns, "p0", "10.83." + net + ".2/24", 1500);
        local = InetAddress.getByName("10.83." + net + ".1");
        peer = InetAddress.getByName("10.83." + net + ".2");
        group = Transport.EPOLL.newEventLoopGroup(1);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (group != null) {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).sync();
        }
        if (dev != null) {
            CommandRunner.tryRun("ip", "link", "del", dev);
        }
        if (ns != null) {
            ns.close();
        }
    }

    @Test
    void udpSegmentStreamIsPacedByFq() throws Exception {
        OffloadCapabilities caps = OffloadCapabilities.get();
        Prerequisites.require(caps.isKernelSegmentationAvailable(Transport.EPOLL), "UDP_SEGMENT on epoll: "
                + caps.udpSegmentProblem());
        CommandRunner.Result fq = CommandRunner.tryRun("tc", "qdisc", "replace", "dev", dev, "root", "fq");
        // A kernel built without CONFIG_NET_SCH_FQ: nothing paces UDP there, which udpIsNotPacedWithoutFq checks
        // instead.
        Prerequisites.requireKernelFeature(fq.exitCode == 0 || !fq.stderr.contains("qdisc kind is unknown"),
                "the fq qdisc (CONFIG_NET_SCH_FQ), which UDP pacing needs");
        assertEquals(0, fq.exitCode, () -> "tc qdisc replace dev " + dev + " root fq: " + fq.stderr);
        assertTrue(Qdisc.isFqAttached(dev));
        // Let the kernel cut each send before the veth, as for a NIC without USO: the far end then sees
        // datagrams, and fq (which sits before that cut) paces whole sends.
        NicFeatures.set(dev, NicFeatures.TX_UDP_SEGMENTATION, false);
        assertEquals(OffloadLayer.KERNEL, OffloadReport.forDestination(peer, Transport.EPOLL)
                .udpSegmentation().layer());

        int pacedSegments = SocketPacing.maxSegmentsPerSend(RATE, SEGMENT, caps.maxSegmentsPerSend());
        double[] paced = measure("udp", UDP_PORT, () -> sendUdp(RATE, pacedSegments));
        double[] unpaced = measure("udp", UDP_PORT, () -> sendUdp(0, caps.maxSegmentsPerSend()));
        check("UDP_SEGMENT, " + pacedSegments + " segments per paced send", paced, unpaced);
        // One send, plus fq's initial allowance of 10 packets, per millisecond.
        assertTrue(paced[1] <= pacedSegments * 2 + 10, "burst of " + paced[1] + " packets in 1 ms");
    }

    @Test
    void udpIsNotPacedWithoutFq() throws Exception {
        // Documents why the fq hint matters: with the veth's default qdisc the rate is ignored for UDP.
        OffloadCapabilities caps = OffloadCapabilities.get();
        Prerequisites.require(caps.isKernelSegmentationAvailable(Transport.EPOLL), "UDP_SEGMENT on epoll: "
                + caps.udpSegmentProblem());
        assertTrue(!Qdisc.isFqAttached(dev));
        String problem = Qdisc.udpPacingProblem(peer);
        assertTrue(problem.startsWith("the fq qdisc is not attached to " + dev), problem);
        int segments = SocketPacing.maxSegmentsPerSend(RATE, SEGMENT, caps.maxSegmentsPerSend());
        double[] ignored = measure("udp", UDP_PORT, () -> sendUdp(RATE, segments));
        logger.log(Level.INFO, String.format("1 MiB of UDP_SEGMENT sends with SO_MAX_PACING_RATE %d B/s and no fq: "
                + "%.1f ms on the wire (%.1f ms if paced)", RATE, ignored[0] * 1000, STREAM * 1000.0 / RATE));
        assertTrue(ignored[0] < (double) STREAM / RATE / 2, "UDP took " + ignored[0] + " s without fq");
    }

    @Test
    void tcpStreamIsPacedByTheKernel() throws Exception {
        CommandRunner.Result qdisc = CommandRunner.tryRun("tc", "-j", "qdisc", "show", "dev", dev);
        List<String> cmd = new ArrayList<>(ns.command(System.getProperty("java.home") + "/bin/java", "-cp",
                System.getProperty("java.class.path"), TcpSinkMain.class.getName(), Integer.toString(TCP_PORT), "2"));
        Process sink = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            LineReader sinkOut = new LineReader(sink.getInputStream(), "tcp-sink");
            sinkOut.await("listening", 20_000);
            double[] paced = measure("tcp", TCP_PORT, () -> sendTcp(RATE, sinkOut));
            double[] unpaced = measure("tcp", TCP_PORT, () -> sendTcp(0, sinkOut));
            check("TCP (qdisc " + qdisc.stdout.strip() + ")", paced, unpaced);
        } finally {
            sink.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }

    private static void check(String what, double[] paced, double[] unpaced) {
        double expected = (double) STREAM / RATE;
        logger.log(Level.INFO, String.format("1 MiB on the wire, %s: paced at %d B/s %.1f ms (expected %.1f ms), "
                + "at most %d packets in 1 ms; unpaced %.1f ms, at most %d packets in 1 ms", what, RATE,
                paced[0] * 1000, expected * 1000, (int) paced[1], unpaced[0] * 1000, (int) unpaced[1]));
        assertTrue(paced[0] >= expected / 2, "paced stream took " + paced[0] + " s, the rate allows " + expected);
        assertTrue(paced[0] <= expected * 5, "paced stream took " + paced[0] + " s, expected " + expected);
        assertTrue(unpaced[0] * 2 <= paced[0], "unpaced " + unpaced[0] + " s vs paced " + paced[0] + " s");
    }

    private void sendUdp(long rate, int segmentsPerSend) throws Exception {
        Channel ch = new Bootstrap().group(group).channel(Transport.EPOLL.datagramChannelClass())
                .handler(new ChannelInboundHandlerAdapter()).bind(new InetSocketAddress(local, 0)).sync().channel();
        try {
            if (rate > 0) {
                SocketPacing.setMaxPacingRate(ch, rate);
            }
            InetSocketAddress recipient = new InetSocketAddress(peer, UDP_PORT);
            List<ChannelFuture> writes = new ArrayList<>();
            for (int sent = 0; sent < STREAM; ) {
                int n = Math.min(STREAM - sent, segmentsPerSend * SEGMENT);
                writes.add(ch.write(new SegmentedDatagramPacket(Unpooled.directBuffer(n).writeZero(n), SEGMENT,
                        recipient)));
                sent += n;
            }
            ch.flush();
            for (ChannelFuture f : writes) {
                assertTrue(f.await(10, TimeUnit.SECONDS), "write did not complete");
                assertTrue(f.isSuccess(), () -> "write failed: " + f.cause());
            }
        } finally {
            ch.close().sync();
        }
    }

    private void sendTcp(long rate, LineReader sinkOut) throws Exception {
        Channel ch = new Bootstrap().group(group).channel(Transport.EPOLL.socketChannelClass())
                .handler(new ChannelInboundHandlerAdapter())
                .connect(new InetSocketAddress(peer, TCP_PORT)).sync().channel();
        try {
            TcpBulkSender.newBuilder().pacingRate(rate).build().apply(ch);
            ch.writeAndFlush(Unpooled.directBuffer(STREAM).writeZero(STREAM)).sync();
        } finally {
            ch.close().sync();
        }
        assertEquals("received " + STREAM, sinkOut.await("received", 10_000));
    }

    /** A send that may throw. */
    private interface Send {
        void run() throws Exception;
    }

    /** Runs {@code send} under tcpdump on p0; returns {seconds from first to last packet, most packets in 1 ms}. */
    private double[] measure(String protocol, int port, Send send) throws Exception {
        Process tcpdump = ns.processBuilder("tcpdump", "-i", "p0", "-n", "-tt", "-l", "-q", "-B", "8192",
                protocol, "and", "dst", "port", Integer.toString(port)).redirectErrorStream(true).start();
        try {
            LineReader out = new LineReader(tcpdump.getInputStream(), "tcpdump");
            out.await("listening on", 10_000);
            send.run();
            List<Long> micros = new ArrayList<>();
            long bytes = 0;
            while (bytes < STREAM) {
                String line = out.next(10_000);
                if (line == null) {
                    throw new AssertionError("tcpdump saw only " + bytes + " of " + STREAM + " bytes");
                }
                Matcher m = LINE.matcher(line);
                if (m.find() && Long.parseLong(m.group(3)) > 0) {
                    micros.add(Long.parseLong(m.group(1)) * 1_000_000 + Long.parseLong(m.group(2)));
                    bytes += Long.parseLong(m.group(3));
                }
            }
            int burst = 0;
            for (int i = 0, j = 0; i < micros.size(); i++) {
                while (micros.get(i) - micros.get(j) >= 1000) {
                    j++;
                }
                burst = Math.max(burst, i - j + 1);
            }
            return new double[] {(micros.get(micros.size() - 1) - micros.get(0)) / 1e6, burst};
        } finally {
            tcpdump.destroy();
            if (!tcpdump.waitFor(5, TimeUnit.SECONDS)) {
                tcpdump.destroyForcibly();
            }
        }
    }
}
