package dev.nettyoffload.examples.video;

import dev.nettyoffload.core.OffloadCapabilities;
import dev.nettyoffload.core.Transport;
import dev.nettyoffload.examples.quic.SendStats;
import dev.nettyoffload.testkit.CommandRunner;
import dev.nettyoffload.testkit.NetNs;
import dev.nettyoffload.testkit.Prerequisites;
import dev.nettyoffload.testkit.UdpSink;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The UDP MPEG-TS path: FFmpeg's ffprobe finds the H.264 stream in it, every datagram is 7 TS packets
 * (1316 bytes) carrying the clip in order, on loopback and across a veth pair with USO on and off.
 */
@Timeout(120)
class VideoUdpTest {
    private static int freeUdpPort() throws Exception {
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void ffprobeFindsTheH264StreamWithItsResolutionAndFrameRate() throws Exception {
        Prerequisites.requireCommand("ffprobe", "ffmpeg");
        int port = freeUdpPort();
        try (VideoServer server = VideoHttpTest.start("--no-http", "--no-h3", "--udp", "127.0.0.1:" + port)) {
            CommandRunner.Result r = CommandRunner.tryRun(List.of("ffprobe", "-v", "error", "-show_entries",
                    "stream=codec_name,codec_type,width,height,r_frame_rate", "-of", "compact",
                    "udp://127.0.0.1:" + port + "?timeout=20000000"), 40);
            System.out.println("ffprobe: " + r.stdout.trim().replace('\n', ' '));
            assertEquals(0, r.exitCode, r.stderr + r.stdout);
            String video = Arrays.stream(r.stdout.split("\n")).filter(l -> l.contains("codec_name=h264"))
                    .findFirst().orElse(null);
            assertNotNull(video, "no H.264 stream found: " + r.stdout + r.stderr);
            assertTrue(video.contains("width=640") && video.contains("height=360"), video);
            assertTrue(video.contains("r_frame_rate=25/1"), video);
            SendStats s = server.udp().sendStats();
            System.out.println(server.udp().stats());
            assertTrue(s.datagrams() > 0);
            if (OffloadCapabilities.get().isKernelSegmentationAvailable(Transport.best())) {
                assertTrue(s.kernelPath && s.kernelSends > 0, s.toString());
                assertTrue(s.datagrams() >= 4 * s.sendOperations(), "bursts are not batched: " + s);
            }
        }
    }

    /**
     * Receives on loopback for a while and checks each datagram: 1316 bytes, and exactly the 7 TS packets of
     * the clip that its place in the stream calls for (the clip loops, so datagram k holds packets 7k to 7k+6
     * modulo the clip's packet count).
     */
    @ParameterizedTest
    @EnumSource(Transport.class)
    void everyDatagramIsSevenTsPacketsOfTheClipInOrder(Transport transport) throws Exception {
        Prerequisites.requireTransport(transport.displayName(), transport.unavailabilityCause());
        byte[] ts = VideoHttpTest.resource(SampleClip.TS);
        int clipPackets = ts.length / MpegTsStreamer.TS_PACKET_SIZE;
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            socket.setReceiveBufferSize(4 << 20);
            socket.setSoTimeout(3000);
            int received = 0;
            try (VideoServer server = VideoHttpTest.start("--transport", transport.displayName(), "--no-http",
                    "--no-h3", "--udp", "127.0.0.1:" + socket.getLocalPort(), "--burst-ms", "20")) {
                byte[] buf = new byte[65536];
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
                while (System.nanoTime() < end) {
                    p.setLength(buf.length);
                    try {
                        socket.receive(p);
                    } catch (SocketTimeoutException e) {
                        break;
                    }
                    assertEquals(MpegTsStreamer.DATAGRAM_SIZE, p.getLength(), "datagram " + received);
                    for (int i = 0; i < MpegTsStreamer.PACKETS_PER_DATAGRAM; i++) {
                        int packet = (int) (((long) received * MpegTsStreamer.PACKETS_PER_DATAGRAM + i) % clipPackets);
                        int at = packet * MpegTsStreamer.TS_PACKET_SIZE;
                        assertArrayEquals(Arrays.copyOfRange(ts, at, at + MpegTsStreamer.TS_PACKET_SIZE),
                                Arrays.copyOfRange(buf, i * MpegTsStreamer.TS_PACKET_SIZE,
                                        (i + 1) * MpegTsStreamer.TS_PACKET_SIZE),
                                "datagram " + received + ", TS packet " + i);
                    }
                    received++;
                }
                SendStats s = server.udp().sendStats();
                System.out.println(transport + " loopback: " + received + " datagrams received; " + s);
                boolean kernel = transport != Transport.NIO
                        && OffloadCapabilities.get().isKernelSegmentationAvailable(transport);
                assertEquals(kernel, s.kernelPath, s.toString());
                assertEquals(0, s.fallbacks, s.toString());
            }
            // 1.3 Mbit/s is about 123 datagrams a second; allow for a slow start on a busy machine.
            assertTrue(received >= 60, "only " + received + " datagrams in 1.5 s");
        }
    }

    /**
     * The stream crosses a veth pair into a namespace, where a plain JDK receiver counts datagram sizes; with USO
     * the kernel cuts the bursts, without it the encoder does, and the receiver sees the same 1316-byte
     * datagrams either way.
     */
    @ParameterizedTest
    @CsvSource({"on", "off"})
    void acrossVethEveryDatagramIs1316BytesWithUsoOnAndOff(String uso) throws Exception {
        Prerequisites.requireNetns();
        Transport transport = Transport.best();
        long pid = ProcessHandle.current().pid();
        String rootEnd = "vd" + (pid % 100000) + (uso.equals("on") ? "u" : "s");
        int subnet = (int) (pid % 200) + 20;
        int host = uso.equals("on") ? 4 : 8;
        String serverIp = "10.85." + subnet + "." + (host + 1);
        String sinkIp = "10.85." + subnet + "." + (host + 2);
        try (NetNs ns = NetNs.create("vdvideo")) {
            try {
                NetNs.vethToRoot(rootEnd, serverIp + "/30", ns, "eth0", sinkIp + "/30", 1500);
                Process sink = ns.javaProcess(UdpSink.class, sinkIp, "5004", "1500", "20000")
                        .redirectErrorStream(true).start();
                try {
                    BufferedReader out = new BufferedReader(new InputStreamReader(sink.getInputStream(),
                            StandardCharsets.UTF_8));
                    CompletableFuture<String> ready = CompletableFuture.supplyAsync(() -> readLine(out));
                    assertEquals("READY", ready.get(60, TimeUnit.SECONDS), "the sink did not start");
                    long txBefore = txPackets(rootEnd);
                    SendStats s;
                    try (VideoServer server = VideoHttpTest.start("--no-http", "--no-h3", "--udp", sinkIp + ":5004",
                            "--udp-source", serverIp + ":0", "--uso", uso)) {
                        Thread.sleep(2000);
                        s = server.udp().sendStats();
                    }
                    StringBuilder text = new StringBuilder();
                    for (String line; (line = readLine(out)) != null; ) {
                        text.append(line).append('\n');
                    }
                    assertTrue(sink.waitFor(30, TimeUnit.SECONDS), "the sink did not finish");
                    UdpSink.Summary summary = UdpSink.Summary.parse(text.toString());
                    long tx = txPackets(rootEnd) - txBefore;
                    System.out.println("veth, USO " + uso + ": " + summary.sizes.size() + " datagrams received, "
                            + tx + " packets counted by the veth (GSO packets count once); " + s);
                    assertTrue(summary.sizes.size() >= 100, "only " + summary.sizes.size() + " datagrams");
                    assertTrue(summary.sizes.stream().allMatch(n -> n == MpegTsStreamer.DATAGRAM_SIZE),
                            "sizes " + summary.sizes);
                    assertTrue(summary.sizes.size() >= s.datagrams(), "fewer received than sent: " + s);
                    if (uso.equals("on")) {
                        Prerequisites.require(OffloadCapabilities.get().isKernelSegmentationAvailable(transport),
                                "kernel UDP_SEGMENT on " + transport);
                        assertTrue(s.kernelPath && s.kernelSends > 0, s.toString());
                        assertTrue(s.datagrams() >= 4 * s.sendOperations(), s.toString());
                    } else {
                        assertFalse(s.kernelPath, s.toString());
                        assertEquals(0, s.kernelSends, s.toString());
                        assertEquals(s.datagrams(), s.softwareDatagrams, s.toString());
                    }
                } finally {
                    sink.destroyForcibly();
                    sink.waitFor(10, TimeUnit.SECONDS);
                }
            } finally {
                CommandRunner.tryRun("ip", "link", "del", rootEnd);
            }
        }
    }

    /** The multicast path: ffprobe in a namespace joins the group on its veth end and finds the H.264 stream. */
    @Test
    void ffprobeInANamespaceReceivesTheMulticastStreamAcrossVeth() throws Exception {
        Prerequisites.requireNetns();
        Prerequisites.requireCommand("ffprobe", "ffmpeg");
        long pid = ProcessHandle.current().pid();
        String rootEnd = "vd" + (pid % 100000) + "m";
        int subnet = (int) (pid % 200) + 20;
        String serverIp = "10.85." + subnet + ".13";
        String receiverIp = "10.85." + subnet + ".14";
        String group = "239.85." + subnet + ".1";
        try (NetNs ns = NetNs.create("vdvideo")) {
            try {
                NetNs.vethToRoot(rootEnd, serverIp + "/30", ns, "eth0", receiverIp + "/30", 1500);
                try (VideoServer server = VideoHttpTest.start("--no-http", "--no-h3", "--multicast", group + ":5004",
                        "--multicast-if", rootEnd, "--udp-source", serverIp + ":0")) {
                    CommandRunner.Result r = ns.tryExec("ffprobe", "-v", "error", "-show_entries",
                            "stream=codec_name,width,height,r_frame_rate", "-of", "compact",
                            "udp://" + group + ":5004?localaddr=" + receiverIp + "&timeout=20000000");
                    SendStats s = server.udp().sendStats();
                    System.out.println("multicast ffprobe: " + r.stdout.trim().replace('\n', ' ') + "; " + s);
                    assertEquals(0, r.exitCode, r.stderr + r.stdout);
                    String video = Arrays.stream(r.stdout.split("\n")).filter(l -> l.contains("codec_name=h264"))
                            .findFirst().orElse(null);
                    assertNotNull(video, "no H.264 stream in the multicast stream: " + r.stdout + r.stderr);
                    assertTrue(video.contains("width=640") && video.contains("height=360")
                            && video.contains("r_frame_rate=25/1"), video);
                    assertEquals(0, s.fallbacks, s.toString());
                    if (OffloadCapabilities.get().isKernelSegmentationAvailable(Transport.best())) {
                        assertTrue(s.kernelPath && s.kernelSends > 0, s.toString());
                    }
                }
            } finally {
                CommandRunner.tryRun("ip", "link", "del", rootEnd);
            }
        }
    }

    private static long txPackets(String device) {
        return NetNs.rootStatistic(device, "tx_packets");
    }

    private static String readLine(BufferedReader r) {
        try {
            return r.readLine();
        } catch (java.io.IOException e) {
            return null;
        }
    }
}
