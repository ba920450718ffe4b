package dev.nettyoffload.gso;

import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.GsoType;
import dev.nettyoffload.core.packet.Ipv4IdMode;
import dev.nettyoffload.core.packet.LinkType;
import dev.nettyoffload.core.packet.TunnelType;
import dev.nettyoffload.testkit.NetNs;
import dev.nettyoffload.testkit.PcapReader;
import dev.nettyoffload.testkit.Prerequisites;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Differential check against the Linux kernel's software segmentation. Two namespaces joined by a veth pair;
 * the sender's end has TSO, USO and TX checksum offload turned off, so the kernel segments (and checksums) TCP
 * writes and UDP_SEGMENT sends in software; the receiver's end has GRO off and tcpdump captures the wire
 * packets there.
 * <p>
 * Bursts: the kernel cuts each large skb into segments that share every header byte except the fields
 * segmentation rewrites. A burst is a maximal run of captured data packets that share those bytes (same ACK,
 * window, options including the timestamp, TTL, addresses, ports), continue the sequence exactly, follow one
 * IPv4 ID mode, have the first segment's payload size except the last, and carry PSH/FIN only on the last (the
 * kernel sets PSH on the last segment of an skb, so a PSH ends the burst). Two adjacent skbs that fall into one
 * burst are indistinguishable from one larger skb, so the comparison holds for them too. From each burst we
 * build the large packet (first segment's headers, concatenated payloads, lengths of the whole, PSH/FIN of the
 * last) with segmentSize = first payload size, segment it with {@link ChecksumMode#FULL} and require each output to
 * equal the captured frame byte for byte. A second capture with TX checksum offload on (TSO/USO still off)
 * gives CHECKSUM_PARTIAL segments, which must equal our {@link ChecksumMode#PARTIAL} output byte for byte.
 */
class KernelDifferentialTest {
    private static final String SENDER_DEV = "pka0";
    private static final String RECEIVER_DEV = "pkb0";
    private static final String A4 = "10.81.77.1";
    private static final String B4 = "10.81.77.2";
    private static final String A6 = "fd81:77::1";
    private static final String B6 = "fd81:77::2";
    private static final int TCP_BYTES = 300_000;
    private static final int UDP_BYTES = 12_000;
    private static final int UDP_SEGMENT_SIZE = 1200;

    private static final Pattern DROPPED = Pattern.compile("(\\d+) packets? dropped by kernel");

    private static NetNs sender;
    private static NetNs receiver;
    private static List<byte[]> fullFrames;
    private static List<byte[]> partialFrames;
    private static Path captureDir;

    @BeforeAll
    static void captureKernelSegmentation() throws Exception {
        Prerequisites.requireRoot();
        Prerequisites.requireCommand("ip", "iproute2");
        Prerequisites.require(NetNs.isSupported(), "network namespaces ('ip netns add' failed)");
        Prerequisites.requireCommand("tcpdump", "tcpdump");
        Prerequisites.requireCommand("ethtool", "ethtool");
        Prerequisites.requireCommand("python3", "python3");
        captureDir = Files.createTempDirectory("pk-capture");
        Path pcap = captureDir.resolve("wire.pcap");
        sender = NetNs.create("pk-snd");
        receiver = NetNs.create("pk-rcv");
        NetNs.veth(sender, SENDER_DEV, A4 + "/24", receiver, RECEIVER_DEV, B4 + "/24", 1500);
        sender.exec("ip", "addr", "add", A6 + "/64", "dev", SENDER_DEV, "nodad");
        receiver.exec("ip", "addr", "add", B6 + "/64", "dev", RECEIVER_DEV, "nodad");
        sender.exec("ethtool", "-K", SENDER_DEV, "tx", "off", "tso", "off", "tx-udp-segmentation", "off", "gso", "on");
        receiver.exec("ethtool", "-K", RECEIVER_DEV, "gro", "off");

        fullFrames = capture(pcap);
        // Same traffic with TX checksum offload on (TSO/USO still off): the kernel segments in software but
        // leaves CHECKSUM_PARTIAL segments, whose TCP/UDP checksum field holds the folded pseudo-header sum.
        sender.exec("ethtool", "-K", SENDER_DEV, "tx", "on", "tso", "off", "tx-udp-segmentation", "off");
        partialFrames = capture(captureDir.resolve("partial.pcap"));
    }

    private static List<byte[]> capture(Path pcap) throws Exception {
        Process tcpdump = receiver.processBuilder("tcpdump", "-i", RECEIVER_DEV, "--immediate-mode",
                        "-B", "65536", "-U", "-s", "0", "-nn", "-w", pcap.toString(), "(tcp or udp) and (src host " + A4 + " or src host " + A6 + ")")
                .redirectErrorStream(true).redirectOutput(captureDir.resolve(pcap.getFileName() + ".log").toFile()).start();
        Process sink = null;
        try {
            waitForLine(captureDir.resolve(pcap.getFileName() + ".log"), "listening on", tcpdump);
            sink = receiver.processBuilder("timeout", "30", "python3", "-c", SINK_SCRIPT, B4, B6)
                    .redirectErrorStream(true).start();
            BufferedReader sinkOut = new BufferedReader(new InputStreamReader(sink.getInputStream(),
                    StandardCharsets.UTF_8));
            String ready = sinkOut.readLine();
            assertEquals("ready", ready, "TCP sink in the receiver namespace");
            String sent = sender.exec("timeout", "30", "python3", "-c", SEND_SCRIPT, B4, B6,
                    Integer.toString(TCP_BYTES), Integer.toString(UDP_BYTES), Integer.toString(UDP_SEGMENT_SIZE));
            assertTrue(sent.contains("sent"), "sender output: " + sent);
            assertTrue(sink.waitFor(20, TimeUnit.SECONDS), "sink finished");
            String received = sinkOut.readLine();
            assertEquals("received " + TCP_BYTES + " " + TCP_BYTES, received);
            waitUntilStable(pcap);
        } finally {
            if (sink != null) {
                sink.destroy();
            }
            tcpdump.destroy();
            tcpdump.waitFor(10, TimeUnit.SECONDS);
        }
        String log = Files.readString(captureDir.resolve(pcap.getFileName() + ".log"));
        Matcher dropped = DROPPED.matcher(log);
        if (dropped.find() && !dropped.group(1).equals("0")) {
            fail("tcpdump lost packets (machine too loaded?), the comparison would be partial:\n" + log);
        }
        PcapReader.Capture capture = PcapReader.read(pcap);
        assertEquals(PcapReader.LINKTYPE_ETHERNET, capture.linkType);
        return capture.packets;
    }

    @AfterAll
    static void cleanUp() throws IOException {
        if (sender != null) {
            sender.close();
        }
        if (receiver != null) {
            receiver.close();
        }
        if (captureDir != null) {
            try (var files = Files.list(captureDir)) {
                for (Path p : (Iterable<Path>) files::iterator) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(captureDir);
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(ChecksumMode.class)
    void tcpOverIpv4(ChecksumMode mode) {
        int compared = compareBursts(mode, false, true);
        assertTrue(compared >= TCP_BYTES / 1448, "compared " + compared + " TCPv4 packets");
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(ChecksumMode.class)
    void tcpOverIpv6(ChecksumMode mode) {
        int compared = compareBursts(mode, true, true);
        assertTrue(compared >= TCP_BYTES / 1448, "compared " + compared + " TCPv6 packets");
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(ChecksumMode.class)
    void udpSegmentOverIpv4(ChecksumMode mode) {
        assertEquals(UDP_BYTES / UDP_SEGMENT_SIZE, compareBursts(mode, false, false));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(ChecksumMode.class)
    void udpSegmentOverIpv6(ChecksumMode mode) {
        assertEquals(UDP_BYTES / UDP_SEGMENT_SIZE, compareBursts(mode, true, false));
    }

    /** One captured Ethernet frame with the offsets of its headers. */
    private static final class Frame {
        final byte[] b;
        final int l3;
        final boolean v6;
        final int l4;
        final boolean tcp;
        final int header;
        final int payload;

        Frame(byte[] b) {
            this.b = b;
            this.l3 = 14;
            int etherType = u16(b, 12);
            this.v6 = etherType == 0x86DD;
            int ipLength;
            int proto;
            if (v6) {
                proto = b[l3 + 6] & 0xFF;
                l4 = l3 + 40;
                ipLength = 40 + u16(b, l3 + 4);
            } else {
                proto = b[l3 + 9] & 0xFF;
                l4 = l3 + (b[l3] & 0x0F) * 4;
                ipLength = u16(b, l3 + 2);
            }
            tcp = proto == 6;
            header = tcp ? l4 + ((b[l4 + 12] & 0xF0) >>> 2) : l4 + 8;
            payload = l3 + ipLength - header;
        }

        long seq() {
            return ((long) u16(b, l4 + 4) << 16) | u16(b, l4 + 6);
        }

        int flags() {
            return b[l4 + 13] & 0xFF;
        }

        int id() {
            return u16(b, l3 + 4);
        }

        /** Whether the bytes that segmentation does not rewrite equal those of {@code o}. */
        boolean sameInvariantHeader(Frame o) {
            if (o.header != header || o.v6 != v6 || o.tcp != tcp) {
                return false;
            }
            for (int i = 0; i < header; i++) {
                if (!rewritten(i) && b[i] != o.b[i]) {
                    return false;
                }
            }
            return true;
        }

        private boolean rewritten(int i) {
            int r = i - l3;
            if (v6 ? r == 4 || r == 5 : r >= 2 && r <= 5 || r == 10 || r == 11) {
                return true;
            }
            int t = i - l4;
            return tcp ? t >= 4 && t <= 7 || t == 13 || t == 16 || t == 17 : t >= 4 && t <= 7;
        }
    }

    private static int u16(byte[] b, int at) {
        return ((b[at] & 0xFF) << 8) | (b[at + 1] & 0xFF);
    }

    /** Groups the data packets of one family and protocol into bursts and compares each; returns the count. */
    private static int compareBursts(ChecksumMode mode, boolean v6, boolean tcp) {
        List<Frame> data = new ArrayList<>();
        for (byte[] f : mode == ChecksumMode.FULL ? fullFrames : partialFrames) {
            Frame x = new Frame(f);
            if (x.v6 == v6 && x.tcp == tcp && x.payload > 0) {
                data.add(x);
            }
        }
        assertTrue(!data.isEmpty(), "no captured " + (tcp ? "TCP" : "UDP") + (v6 ? "v6" : "v4") + " data packets");
        int compared = 0;
        int multi = 0;
        int i = 0;
        while (i < data.size()) {
            List<Frame> burst = new ArrayList<>();
            Frame first = data.get(i);
            burst.add(first);
            Boolean fixedId = null;
            int total = first.header - first.l3 + first.payload;
            int j = i + 1;
            while (j < data.size()) {
                Frame prev = burst.get(burst.size() - 1);
                Frame cur = data.get(j);
                if (prev.payload != first.payload || cur.payload > first.payload
                        || !first.sameInvariantHeader(cur) || total + cur.payload > 65535) {
                    break;
                }
                if (tcp && ((prev.flags() & 0x09) != 0 || cur.seq() != ((prev.seq() + prev.payload) & 0xFFFFFFFFL))) {
                    break;
                }
                if (!v6) {
                    boolean same = cur.id() == prev.id();
                    boolean next = cur.id() == ((prev.id() + 1) & 0xFFFF);
                    if (fixedId == null && (same || next)) {
                        fixedId = same;
                    } else if (fixedId == null || (fixedId ? !same : !next)) {
                        break;
                    }
                }
                burst.add(cur);
                total += cur.payload;
                j++;
            }
            compared += compareBurst(mode, burst, v6, tcp, Boolean.TRUE.equals(fixedId));
            if (burst.size() > 1) {
                multi++;
            }
            i = j;
        }
        assertTrue(multi > 0, "no burst of more than one segment");
        System.out.println("kernel differential " + mode + " " + (tcp ? "TCP" : "UDP") + (v6 ? "v6" : "v4") + ": " + compared
                + " packets in " + multi + " multi-segment bursts matched byte for byte");
        return compared;
    }

    private static int compareBurst(ChecksumMode mode, List<Frame> burst, boolean v6, boolean tcp, boolean fixedId) {
        Frame first = burst.get(0);
        Frame last = burst.get(burst.size() - 1);
        ByteBuf big = Unpooled.buffer();
        big.writeBytes(first.b, 0, first.header);
        for (Frame f : burst) {
            big.writeBytes(f.b, f.header, f.payload);
        }
        int length = big.readableBytes();
        if (v6) {
            big.setShort(first.l3 + 4, length - first.l3 - 40);
        } else {
            big.setShort(first.l3 + 2, length - first.l3);
            big.setShort(first.l3 + 10, 0);
        }
        if (tcp) {
            big.setByte(first.l4 + 13, first.flags() | (last.flags() & 0x09));
            big.setShort(first.l4 + 16, 0);
        } else {
            big.setShort(first.l4 + 4, length - first.l4);
            big.setShort(first.l4 + 6, 0);
        }
        GsoType type = !tcp ? GsoType.UDP_L4 : v6 ? GsoType.TCPV6 : GsoType.TCPV4;
        GsoPacket packet = new GsoPacket(big, type, TunnelType.NONE, first.payload,
                fixedId ? Ipv4IdMode.FIXED : Ipv4IdMode.INCREMENTING, burst.size());
        PacketSegmenter segmenter = new PacketSegmenter(PacketSegmenterConfig.newBuilder()
                .linkType(LinkType.ETHERNET).checksumMode(mode).build());
        List<Object> out = new ArrayList<>();
        try {
            segmenter.segment(packet, PooledByteBufAllocator.DEFAULT, out);
            assertEquals(burst.size(), out.size(), "segments of a burst of " + burst.size());
            for (int k = 0; k < burst.size(); k++) {
                byte[] ours = ByteBufUtil.getBytes((ByteBuf) out.get(k));
                byte[] kernel = burst.get(k).b;
                if (!java.util.Arrays.equals(kernel, ours)) {
                    fail("segment " + k + " of a burst of " + burst.size() + " differs from the kernel's:\nkernel "
                            + ByteBufUtil.hexDump(kernel, 0, Math.min(kernel.length, first.header)) + "\nours   "
                            + ByteBufUtil.hexDump(ours, 0, Math.min(ours.length, first.header)));
                }
                assertArrayEquals(kernel, ours);
            }
        } finally {
            for (Object o : out) {
                ((ByteBuf) o).release();
            }
            packet.release();
        }
        assertEquals(0, big.refCnt());
        return burst.size();
    }

    /** Waits (at most 10 s) until the capture file has stopped growing for 600 ms: tcpdump has written all. */
    private static void waitUntilStable(Path file) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        long last = -1;
        int stable = 0;
        while (stable < 3 && System.nanoTime() < deadline) {
            Thread.sleep(200);
            long size = Files.exists(file) ? Files.size(file) : 0;
            stable = size == last ? stable + 1 : 0;
            last = size;
        }
    }

    private static void waitForLine(Path log, String text, Process p) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (Files.exists(log) && Files.readString(log).contains(text)) {
                return;
            }
            if (!p.isAlive()) {
                fail("tcpdump exited: " + Files.readString(log));
            }
            Thread.sleep(50);
        }
        fail("tcpdump did not start: " + Files.readString(log));
    }

    /** Accepts one IPv4 and then one IPv6 connection, reads each to EOF and prints the byte counts. */
    private static final String SINK_SCRIPT = String.join("\n",
            "import socket, sys",
            "l4 = socket.socket(socket.AF_INET); l4.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
            "l4.bind((sys.argv[1], 5001)); l4.listen(1)",
            "l6 = socket.socket(socket.AF_INET6); l6.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
            "l6.bind((sys.argv[2], 5001)); l6.listen(1)",
            "print('ready', flush=True)",
            "counts = []",
            "for l in (l4, l6):",
            "    c, _ = l.accept(); n = 0",
            "    while True:",
            "        d = c.recv(65536)",
            "        if not d: break",
            "        n += len(d)",
            "    c.close(); counts.append(str(n))",
            "print('received ' + ' '.join(counts), flush=True)");

    /** Sends a large TCP write and one UDP_SEGMENT datagram train to each family. */
    private static final String SEND_SCRIPT = String.join("\n",
            "import socket, sys",
            "b4, b6, n, u, gso = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])",
            "data = bytes((i * 7 + 3) % 251 for i in range(n))",
            "udata = bytes((i * 13 + 1) % 253 for i in range(u))",
            "for fam, addr in ((socket.AF_INET, b4), (socket.AF_INET6, b6)):",
            "    s = socket.socket(fam); s.settimeout(20); s.connect((addr, 5001))",
            "    s.sendall(data); s.close()",
            "    d = socket.socket(fam, socket.SOCK_DGRAM)",
            "    d.setsockopt(17, 103, gso)  # SOL_UDP, UDP_SEGMENT",
            "    d.sendto(udata, (addr, 5002)); d.close()",
            "print('sent')");
}
