package dev.nettyoffload.gro;

import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.IpProtocol;
import dev.nettyoffload.core.packet.LinkType;
import dev.nettyoffload.core.packet.PacketLayout;
import dev.nettyoffload.core.packet.TcpHeader;
import dev.nettyoffload.core.packet.TunnelType;
import dev.nettyoffload.testkit.NetNs;
import dev.nettyoffload.testkit.PcapReader;
import dev.nettyoffload.testkit.Prerequisites;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Real traffic: a TCP transfer between two network namespaces over veth (the sender segments in software with
 * full checksums, the receiver has GRO off so tcpdump sees MSS-sized packets), over IPv4 and IPv6 and through Linux vxlan
 * devices. The capture is fed to {@link PacketGroAggregator} in NAPI-sized bursts of 64; the merged packets must carry
 * the transferred byte stream exactly, segment back into the captured packets, and merge well.
 */
class PacketGroCaptureTest {
    private static final int PORT = 5201;
    private static final int BYTES = 2 << 20;
    private static final int BURST = 64;
    /** 160 Mbit/s: slow enough for tcpdump on a loaded machine; pacing does not change segment sizes. */
    private static final int PACING_BYTES_PER_SECOND = 20_000_000;
    private static final Pattern DROPPED = Pattern.compile("(\\d+) packets? dropped by kernel");
    private static final String SINK = String.join("\n",
            "import socket, sys",
            "s = socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET, socket.SOCK_STREAM)",
            "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
            "s.bind((sys.argv[1], " + PORT + ")); s.listen(1)",
            "print('ready', flush=True)",
            "c, _ = s.accept(); n = 0",
            "while True:",
            "    d = c.recv(1 << 20)",
            "    if not d: break",
            "    n += len(d)",
            "print('received', n, flush=True)");
    private static final String SEND = String.join("\n",
            "import socket, sys",
            "n = int(sys.argv[2]); data = (bytes(range(251)) * (n // 251 + 1))[:n]",
            "s = socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET, socket.SOCK_STREAM)",
            "s.setsockopt(socket.SOL_SOCKET, 47, int(sys.argv[3]))  # SO_MAX_PACING_RATE: tcpdump must keep up",
            "s.connect((sys.argv[1], " + PORT + "))",
            "s.sendall(data); s.shutdown(socket.SHUT_WR); s.recv(1); s.close()",
            "print('sent', n)");

    @TempDir
    Path dir;

    @Test
    void tcpOverVeth() throws Exception {
        requirements();
        try (NetNs a = NetNs.create("pgro-a"); NetNs b = NetNs.create("pgro-b")) {
            NetNs.veth(a, "pgs", "10.86.1.1/24", b, "pgr", "10.86.1.2/24", 1500);
            // Software segmentation with complete checksums on the sender, no GRO on the receiver.
            a.exec("ethtool", "-K", "pgs", "tx", "off", "tso", "off", "gso", "on");
            b.exec("ethtool", "-K", "pgr", "gro", "off");
            List<byte[]> frames = transfer(a, b, "10.86.1.2");
            check(frames, TunnelType.NONE, "veth");
        }
    }

    @Test
    void tcp6OverVeth() throws Exception {
        requirements();
        try (NetNs a = NetNs.create("pgro-a"); NetNs b = NetNs.create("pgro-b")) {
            NetNs.veth(a, "pgs", "fd86:1::1/64", b, "pgr", "fd86:1::2/64", 1500);
            a.exec("ethtool", "-K", "pgs", "tx", "off", "tso", "off", "gso", "on");
            b.exec("ethtool", "-K", "pgr", "gro", "off");
            List<byte[]> frames = transfer(a, b, "fd86:1::2");
            check(frames, TunnelType.NONE, "veth IPv6");
        }
    }

    @Test
    void tcpOverVxlan() throws Exception {
        requirements();
        try (NetNs a = NetNs.create("pgro-a"); NetNs b = NetNs.create("pgro-b")) {
            NetNs.veth(a, "pgs", "10.86.1.1/24", b, "pgr", "10.86.1.2/24", 1500);
            a.exec("ip", "link", "add", "pgvx", "type", "vxlan", "id", "42", "local", "10.86.1.1", "remote",
                    "10.86.1.2", "dstport", "4789", "dev", "pgs", "udpcsum");
            b.exec("ip", "link", "add", "pgvx", "type", "vxlan", "id", "42", "local", "10.86.1.2", "remote",
                    "10.86.1.1", "dstport", "4789", "dev", "pgr", "udpcsum");
            NetNs.configure(a, "pgvx", "10.86.2.1/24");
            NetNs.configure(b, "pgvx", "10.86.2.2/24");
            a.exec("ethtool", "-K", "pgvx", "tx", "off", "tso", "off", "gso", "on");
            a.exec("ethtool", "-K", "pgs", "tx", "off", "tso", "off", "gso", "on");
            b.exec("ethtool", "-K", "pgr", "gro", "off");
            b.exec("ethtool", "-K", "pgvx", "gro", "off");
            List<byte[]> frames = transfer(a, b, "10.86.2.2");
            check(frames, TunnelType.VXLAN, "vxlan");
        }
    }

    private static void requirements() {
        Prerequisites.requireRoot();
        Prerequisites.requireCommand("ip", "iproute2");
        Prerequisites.requireNetns();
        Prerequisites.requireCommand("tcpdump", "tcpdump");
        Prerequisites.requireCommand("ethtool", "ethtool");
        Prerequisites.requireCommand("python3", "python3");
    }

    private List<byte[]> transfer(NetNs a, NetNs b, String to) throws Exception {
        Path pcap = dir.resolve("capture.pcap");
        Path log = dir.resolve("tcpdump.log");
        Process tcpdump = b.processBuilder("tcpdump", "-i", "pgr", "--immediate-mode", "-B", "65536", "-U", "-s", "0",
                "-nn", "-w", pcap.toString(), "tcp port " + PORT + " or udp port 4789").redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Process sink = null;
        try {
            waitFor(() -> Files.exists(log) && Files.readString(log).contains("listening on"), tcpdump, log);
            sink = b.processBuilder("timeout", "30", "python3", "-c", SINK, to).redirectErrorStream(true).start();
            BufferedReader sinkOut = new BufferedReader(new InputStreamReader(sink.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("ready", sinkOut.readLine(), "TCP sink");
            String sent = a.exec("timeout", "30", "python3", "-c", SEND, to, Integer.toString(BYTES),
                    Integer.toString(PACING_BYTES_PER_SECOND));
            assertTrue(sent.contains("sent"), "sender: " + sent);
            assertEquals("received " + BYTES, sinkOut.readLine(), "sink");
            assertTrue(sink.waitFor(20, TimeUnit.SECONDS), "sink exits");
            long[] size = {-1};
            long[] stableSince = {System.nanoTime()};
            waitFor(() -> {
                long s = Files.size(pcap);
                if (s != size[0]) {
                    size[0] = s;
                    stableSince[0] = System.nanoTime();
                }
                return System.nanoTime() - stableSince[0] > TimeUnit.MILLISECONDS.toNanos(500);
            }, tcpdump, log);
        } finally {
            if (sink != null) {
                sink.destroy();
            }
            tcpdump.destroy();
            tcpdump.waitFor(10, TimeUnit.SECONDS);
        }
        Matcher dropped = DROPPED.matcher(Files.readString(log));
        if (dropped.find() && !dropped.group(1).equals("0")) {
            fail("tcpdump lost packets, the comparison would be partial: " + Files.readString(log));
        }
        PcapReader.Capture capture = PcapReader.read(pcap);
        assertEquals(PcapReader.LINKTYPE_ETHERNET, capture.linkType);
        return capture.packets;
    }

    interface Condition {
        boolean holds() throws Exception;
    }

    private static void waitFor(Condition c, Process p, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            if (c.holds()) {
                return;
            }
            if (!p.isAlive()) {
                fail("tcpdump exited: " + Files.readString(log));
            }
            Thread.sleep(50);
        }
        fail("timed out; tcpdump log: " + Files.readString(log));
    }

    /** Feeds the frames in bursts, then checks stream, round trip and merge ratio. */
    private static void check(List<byte[]> frames, TunnelType tunnel, String what) {
        PacketGroAggregator gro = new PacketGroAggregator(PacketGroConfig.newBuilder().linkType(LinkType.ETHERNET).build());
        EmbeddedChannel ch = new EmbeddedChannel(gro);
        List<Object> out = new ArrayList<>();
        try {
            for (int i = 0; i < frames.size(); i++) {
                ch.pipeline().fireChannelRead(PacketChecks.input(frames.get(i), true));
                if ((i + 1) % BURST == 0 || i == frames.size() - 1) {
                    ch.pipeline().fireChannelReadComplete();
                    out.addAll(PacketChecks.drain(ch));
                }
            }
            // The data stream carried by the outputs.
            Stream in = new Stream(tunnel);
            for (byte[] f : frames) {
                ByteBuf b = PacketChecks.input(f, true);
                try {
                    in.add(b, false);
                } finally {
                    b.release();
                }
            }
            Stream merged = new Stream(tunnel);
            for (Object o : out) {
                merged.add(o instanceof GsoPacket ? ((GsoPacket) o).content() : (ByteBuf) o, o instanceof GsoPacket);
            }
            assertTrue(merged.isn >= 0, what + ": SYN seen");
            for (int i = 0; i < BYTES; i++) {
                if (merged.stream[i] != (byte) (i % 251) || !merged.covered[i]) {
                    fail(what + ": byte " + i + " of the stream differs or is missing in the merged packets");
                }
            }
            List<byte[]> back = PacketChecks.expandOutputs(out, LinkType.ETHERNET, PooledByteBufAllocator.DEFAULT);
            PacketChecks.assertSameMultiset(frames, back, what + ": GSO(GRO(capture)) == capture");
            double ratio = (double) in.dataPackets / merged.dataPackets;
            System.out.printf("%s: %d frames, %d data packets in, %d data messages out (%d merged): merge ratio"
                            + " %.1f, checksum failures %d%n", what, frames.size(), in.dataPackets, merged.dataPackets,
                    gro.counters().mergedPacketsOut(), ratio, gro.counters().checksumFailures());
            assertEquals(0, gro.counters().checksumFailures(), what + ": checksum failures");
            // NAPI-like bursts of 64 frames, a third of them ACKs going the other way: about 40 data segments
            // per burst of one flow, capped at 45 per 64 KiB; anything below 10 means the rules refuse real runs.
            assertTrue(ratio >= 10, what + ": merge ratio " + ratio);
        } finally {
            PacketChecks.releaseAll(out);
            ch.finishAndReleaseAll();
        }
    }

    /** Reassembles the data direction (to {@link #PORT}) of a capture or of the aggregator's outputs. */
    private static final class Stream {
        final TunnelType tunnel;
        final byte[] stream = new byte[BYTES];
        final boolean[] covered = new boolean[BYTES];
        final PacketLayout layout = new PacketLayout();
        long isn = -1;
        long dataPackets;

        Stream(TunnelType tunnel) {
            this.tunnel = tunnel;
        }

        void add(ByteBuf b, boolean merged) {
            PacketLayout l;
            try {
                l = layout.parse(b, LinkType.ETHERNET, tunnel, null);
            } catch (RuntimeException e) {
                return; // ARP, IPv6 neighbour discovery and the like
            }
            int base = b.readerIndex();
            if (l.l4Protocol() != IpProtocol.TCP || b.getUnsignedShort(base + l.l4() + 2) != PORT) {
                return;
            }
            long seq = b.getUnsignedInt(base + l.l4() + TcpHeader.SEQUENCE_OFFSET);
            int flags = b.getUnsignedByte(base + l.l4() + TcpHeader.FLAGS_OFFSET);
            if ((flags & TcpHeader.SYN) != 0) {
                isn = (seq + 1) & 0xFFFFFFFFL;
                return;
            }
            int payload = l.payloadLength();
            if (payload == 0 || isn < 0) {
                return;
            }
            dataPackets++;
            long at = (seq - isn) & 0xFFFFFFFFL;
            if (at >= BYTES) {
                return;
            }
            int n = (int) Math.min(payload, BYTES - at);
            // One bulk read: paranoid leak detection records every single-byte access.
            b.getBytes(base + l.headerLength(), stream, (int) at, n);
            java.util.Arrays.fill(covered, (int) at, (int) at + n, true);
        }
    }
}
