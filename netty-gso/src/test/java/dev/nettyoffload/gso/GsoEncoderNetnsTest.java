package dev.nettyoffload.gso;

import dev.nettyoffload.core.Errno;
import dev.nettyoffload.core.Transport;
import dev.nettyoffload.testkit.CommandRunner;
import dev.nettyoffload.testkit.NetNs;
import dev.nettyoffload.testkit.Prerequisites;
import dev.nettyoffload.testkit.UdpSink;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.IntegerUnixChannelOption;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GsoEncoder across a veth pair into a network namespace: what arrives on the far side's interface and in a
 * plain receiver there. The sender runs in this JVM (root namespace), the receiver is a JDK socket in a
 * child JVM inside the namespace.
 */
class GsoEncoderNetnsTest {
    private static final String ROOT_END = "gsv0";
    private static final String NS_END = "gsv1";
    private static final String ROOT_IP = "10.80.1.1";
    private static final String NS_IP = "10.80.1.2";
    private static final int PORT = 5001;

    private NetNs ns;
    private EventLoopGroup group;

    @BeforeEach
    void setUp() {
        Prerequisites.requireNetns();
        Prerequisites.requireCommand("ethtool", "ethtool");
        ns = NetNs.create("gso");
        NetNs.vethToRoot(ROOT_END, ROOT_IP + "/24", ns, NS_END, NS_IP + "/24", 1500);
        // No neighbour discovery or IPv6 chatter on the link, so its packet counters count only our datagrams.
        CommandRunner.run("sysctl", "-qw", "net.ipv6.conf." + ROOT_END + ".disable_ipv6=1");
        ns.exec("sysctl", "-qw", "net.ipv6.conf." + NS_END + ".disable_ipv6=1");
        String nsMac = ns.exec("cat", "/sys/class/net/" + NS_END + "/address").trim();
        String rootMac = CommandRunner.run("cat", "/sys/class/net/" + ROOT_END + "/address").trim();
        CommandRunner.run("ip", "neigh", "replace", NS_IP, "lladdr", nsMac, "dev", ROOT_END, "nud", "permanent");
        ns.exec("ip", "neigh", "replace", ROOT_IP, "lladdr", rootMac, "dev", NS_END, "nud", "permanent");
    }

    @AfterEach
    void tearDown() {
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
        CommandRunner.tryRun("ip", "link", "del", ROOT_END);
        if (ns != null) {
            ns.close();
        }
    }

    static Stream<Arguments> nativeTransportsAndUso() {
        return Stream.of(Arguments.of(Transport.EPOLL, false), Arguments.of(Transport.EPOLL, true),
                Arguments.of(Transport.IO_URING, false), Arguments.of(Transport.IO_URING, true));
    }

    static Stream<Transport> nativeTransports() {
        return Stream.of(Transport.EPOLL, Transport.IO_URING);
    }

    @ParameterizedTest(name = "{0} tx-udp-segmentation={1}")
    @MethodSource("nativeTransportsAndUso")
    void sixtyFourKibWriteLeavesAsSegmentSizedDatagrams(Transport transport, boolean deviceUso) throws Exception {
        Prerequisites.requireTransport(transport.displayName(), transport.unavailabilityCause());
        // With USO off on the device the kernel segments before the veth, so the far side counts datagrams.
        CommandRunner.run("ethtool", "-K", ROOT_END, "tx-udp-segmentation", deviceUso ? "on" : "off");
        byte[] payload = GsoEncoderSocketTest.pattern(65536, 42);
        GsoEncoder encoder = new GsoEncoder(1400);
        Channel sender = bindSender(transport, encoder);
        long rxBefore = ns.statistic(NS_END, "rx_packets");
        Process sink = startSink();
        ChannelFuture f = sender.writeAndFlush(new DatagramPacket(
                Unpooled.directBuffer(payload.length).writeBytes(payload), new InetSocketAddress(NS_IP, PORT)));
        assertTrue(f.await(10, TimeUnit.SECONDS) && f.isSuccess(), String.valueOf(f.cause()));
        UdpSink.Summary got = sinkResult(sink);
        long rxPackets = ns.statistic(NS_END, "rx_packets") - rxBefore;
        sender.close().sync();

        List<Integer> expected = GsoEncoderSocketTest.expectedSizes(65536, 1400);
        assertEquals(expected, got.sizes);
        assertEquals(UdpSink.sha256Hex(payload), got.sha256);
        assertTrue(encoder.isKernelPath());
        assertEquals(1, encoder.counters().kernelSends(), encoder.counters().toString());
        if (deviceUso) {
            // The veth carries the segmented send as one large skb (plus the one-segment remainder);
            // the receiving socket cuts it into datagrams.
            assertTrue(rxPackets < expected.size(), "rx_packets " + rxPackets);
        } else {
            assertEquals(expected.size(), rxPackets, "packets on the far side of the veth");
        }
    }

    @ParameterizedTest
    @MethodSource("nativeTransports")
    void segmentLargerThanTheMtuFailsWithEmsgsizeAndSendsNothing(Transport transport) throws Exception {
        Prerequisites.requireTransport(transport.displayName(), transport.unavailabilityCause());
        GsoEncoder encoder = new GsoEncoder(2000); // 2000 + 28 > 1500
        Channel sender = bindSender(transport, encoder);
        long rxBefore = ns.statistic(NS_END, "rx_packets");
        Process sink = startSink();
        ChannelFuture f = sender.writeAndFlush(new DatagramPacket(
                Unpooled.directBuffer(20_000).writeZero(20_000), new InetSocketAddress(NS_IP, PORT)));
        assertTrue(f.await(10, TimeUnit.SECONDS));
        assertFalse(f.isSuccess());
        assertEquals(Errno.EMSGSIZE, Errno.of(f.cause()), String.valueOf(f.cause()));
        UdpSink.Summary got = sinkResult(sink);
        sender.close().sync();
        assertEquals(List.of(), got.sizes);
        assertEquals(0, ns.statistic(NS_END, "rx_packets") - rxBefore);
        assertEquals(0, encoder.counters().fallbacks());
        assertEquals(1, encoder.counters().rejections(Errno.EMSGSIZE));
    }

    @ParameterizedTest
    @MethodSource("nativeTransports")
    void udpChecksumOffMakesTheKernelRefuseAndSoftwareDeliversEverything(Transport transport) throws Exception {
        Prerequisites.requireTransport(transport.displayName(), transport.unavailabilityCause());
        CommandRunner.run("ethtool", "-K", ROOT_END, "tx-udp-segmentation", "off");
        GsoEncoder encoder = new GsoEncoder(1400);
        Channel sender = bindSender(transport, encoder);
        // SO_NO_CHECK (SOL_SOCKET 1, optname 11): the kernel refuses UDP_SEGMENT without checksums (EINVAL).
        assertTrue(sender.config().setOption(new IntegerUnixChannelOption("SO_NO_CHECK", 1, 11), 1));
        byte[] first = GsoEncoderSocketTest.pattern(65536, 1);
        byte[] second = GsoEncoderSocketTest.pattern(30000, 2);
        long rxBefore = ns.statistic(NS_END, "rx_packets");
        Process sink = startSink();
        InetSocketAddress to = new InetSocketAddress(NS_IP, PORT);
        ChannelFuture f1 = sender.writeAndFlush(new DatagramPacket(
                Unpooled.directBuffer(first.length).writeBytes(first), to));
        assertTrue(f1.await(10, TimeUnit.SECONDS) && f1.isSuccess(), String.valueOf(f1.cause()));
        ChannelFuture f2 = sender.writeAndFlush(new DatagramPacket(
                Unpooled.directBuffer(second.length).writeBytes(second), to));
        assertTrue(f2.await(10, TimeUnit.SECONDS) && f2.isSuccess(), String.valueOf(f2.cause()));
        UdpSink.Summary got = sinkResult(sink);
        long rxPackets = ns.statistic(NS_END, "rx_packets") - rxBefore;
        sender.close().sync();

        byte[] all = new byte[first.length + second.length];
        System.arraycopy(first, 0, all, 0, first.length);
        System.arraycopy(second, 0, all, first.length, second.length);
        List<Integer> expected = new java.util.ArrayList<>(GsoEncoderSocketTest.expectedSizes(first.length, 1400));
        expected.addAll(GsoEncoderSocketTest.expectedSizes(second.length, 1400));
        assertEquals(expected, got.sizes, "every datagram exactly once, in order");
        assertEquals(UdpSink.sha256Hex(all), got.sha256);
        assertEquals(expected.size(), rxPackets);
        assertFalse(encoder.isKernelPath(), "the channel moved to software");
        assertEquals(1, encoder.counters().fallbacks(), encoder.counters().toString());
        assertEquals(1, encoder.counters().rejections(Errno.EINVAL));
    }

    private Channel bindSender(Transport transport, GsoEncoder encoder) throws InterruptedException {
        group = transport.newEventLoopGroup(1);
        return new Bootstrap().group(group).channel(transport.datagramChannelClass()).handler(encoder)
                .bind(new InetSocketAddress(ROOT_IP, 0)).sync().channel();
    }

    /** Starts a plain receiver in the namespace and waits until it is bound. */
    private Process startSink() throws IOException {
        Process p = ns.javaProcess(UdpSink.class, NS_IP, Integer.toString(PORT), "700", "15000")
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = r.readLine();
        assertEquals("READY", line, "sink did not start");
        return p;
    }

    private static UdpSink.Summary sinkResult(Process p) throws Exception {
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "sink did not finish");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return UdpSink.Summary.parse(out);
    }
}
