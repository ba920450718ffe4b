package dev.nettyoffload.gso;

import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.GsoType;
import dev.nettyoffload.core.packet.Ipv4IdMode;
import dev.nettyoffload.core.packet.LinkType;
import dev.nettyoffload.core.packet.PacketLayout;
import dev.nettyoffload.core.packet.TunnelType;
import dev.nettyoffload.testkit.CommandRunner;
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
 * <p>
 * Tunnels: the same over a Linux vxlan device with outer UDP checksums ({@code udpcsum}), one without
 * ({@code noudpcsum}) and a gre device with GRE checksums ({@code csum}), where the kernel supports GRE. The tunnel
 * devices keep GSO, so the large encapsulated skb reaches the veth, whose UDP-tunnel and GRE segmentation
 * offloads are off: the kernel segments it in software ({@code skb_udp_tunnel_segment}, {@code gre_gso_segment})
 * and tcpdump captures the encapsulated wire packets. Each header's IPv4 ID mode (outer and inner apart) is taken
 * from the burst.
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

    private static final String VXLAN_CSUM_DEV = "pkv0";
    private static final String VXLAN_NOCSUM_DEV = "pkv1";
    private static final String GRE_DEV = "pkg0";
    private static final String[] TUNNEL_A = {"10.81.78.1", "10.81.79.1", "10.81.80.1"};
    private static final String[] TUNNEL_B = {"10.81.78.2", "10.81.79.2", "10.81.80.2"};
    private static final int TUNNEL_TCP_BYTES = 200_000;

    private static final Pattern DROPPED = Pattern.compile("(\\d+) packets? dropped by kernel");

    private static NetNs sender;
    private static NetNs receiver;
    private static List<byte[]> fullFrames;
    private static List<byte[]> partialFrames;
    private static Path captureDir;
    /** Captured encapsulated frames per checksum mode, null until a tunnel test asks; and whether GRE exists. */
    private static List<byte[]> tunnelFullFrames;
    private static List<byte[]> tunnelPartialFrames;
    private static boolean greSupported;
    private static String tunnelSkipReason;

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
        return capture(pcap, "(tcp or udp) and (src host " + A4 + " or src host " + A6 + ")",
                SINK_SCRIPT, new String[] {B4, B6}, SEND_SCRIPT,
                new String[] {B4, B6, Integer.toString(TCP_BYTES), Integer.toString(UDP_BYTES),
                        Integer.toString(UDP_SEGMENT_SIZE)}, "received " + TCP_BYTES + " " + TCP_BYTES);
    }

    private static List<byte[]> capture(Path pcap, String filter, String sinkScript, String[] sinkArgs,
                                        String sendScript, String[] sendArgs, String expectedSink) throws Exception {
        Process tcpdump = receiver.processBuilder("tcpdump", "-i", RECEIVER_DEV, "--immediate-mode",
                        "-B", "65536", "-U", "-s", "0", "-nn", "-w", pcap.toString(), filter)
                .redirectErrorStream(true).redirectOutput(captureDir.resolve(pcap.getFileName() + ".log").toFile()).start();
        Process sink = null;
        try {
            waitForLine(captureDir.resolve(pcap.getFileName() + ".log"), "listening on", tcpdump);
            List<String> sinkCommand = new ArrayList<>(List.of("timeout", "30", "python3", "-c", sinkScript));
            sinkCommand.addAll(List.of(sinkArgs));
            sink = receiver.processBuilder(sinkCommand.toArray(new String[0])).redirectErrorStream(true).start();
            BufferedReader sinkOut = new BufferedReader(new InputStreamReader(sink.getInputStream(),
                    StandardCharsets.UTF_8));
            String ready = sinkOut.readLine();
            assertEquals("ready", ready, "TCP sink in the receiver namespace");
            List<String> sendCommand = new ArrayList<>(List.of("timeout", "30", "python3", "-c", sendScript));
            sendCommand.addAll(List.of(sendArgs));
            String sent = sender.exec(sendCommand.toArray(new String[0]));
            assertTrue(sent.contains("sent"), "sender output: " + sent);
            assertTrue(sink.waitFor(20, TimeUnit.SECONDS), "sink finished");
            String received = sinkOut.readLine();
            assertEquals(expectedSink, received);
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

    /**
     * Creates the tunnel devices and captures the encapsulated traffic in both checksum modes, once; later calls
     * reuse the captures. Skips (through {@link Prerequisites}) when the kernel has no vxlan.
     */
    private static synchronized void captureTunnels() throws Exception {
        if (tunnelFullFrames != null || tunnelSkipReason != null) {
            Prerequisites.require(tunnelSkipReason == null, String.valueOf(tunnelSkipReason));
            return;
        }
        tunnelSkipReason = "vxlan devices ('ip link add type vxlan' failed)";
        String[] devices = {VXLAN_CSUM_DEV, VXLAN_NOCSUM_DEV, GRE_DEV};
        for (NetNs ns : new NetNs[] {sender, receiver}) {
            boolean isSender = ns == sender;
            String local = isSender ? A4 : B4;
            String remote = isSender ? B4 : A4;
            String underlay = isSender ? SENDER_DEV : RECEIVER_DEV;
            for (int i = 0; i < 2; i++) {
                CommandRunner.Result r = ns.tryExec("ip", "link", "add", devices[i], "type", "vxlan", "id",
                        Integer.toString(42 + i), "local", local, "remote", remote, "dstport", "4789", "dev", underlay,
                        i == 0 ? "udpcsum" : "noudpcsum");
                Prerequisites.require(r.ok(), tunnelSkipReason + ": " + r.stderr);
            }
            // GRE needs CONFIG_NET_IPGRE; without it only the vxlan tests run.
            greSupported = ns.tryExec("ip", "link", "add", GRE_DEV, "type", "gre", "local", local, "remote", remote,
                    "csum").ok() && (isSender || greSupported);
            for (int i = 0; i < 3; i++) {
                if (i < 2 || greSupported) {
                    NetNs.configure(ns, devices[i], (isSender ? TUNNEL_A[i] : TUNNEL_B[i]) + "/24");
                }
            }
        }
        tunnelSkipReason = null;
        int tunnels = greSupported ? 3 : 2;
        String[] targets = java.util.Arrays.copyOf(TUNNEL_B, tunnels);
        String filter = "src host " + A4 + " and (udp port 4789 or ip proto 47)";
        String expected = "received " + String.join(" ", java.util.Collections.nCopies(tunnels,
                Integer.toString(TUNNEL_TCP_BYTES)));
        List<String> sendArgs = new ArrayList<>(List.of(Integer.toString(TUNNEL_TCP_BYTES),
                Integer.toString(UDP_BYTES), Integer.toString(UDP_SEGMENT_SIZE)));
        sendArgs.addAll(List.of(targets));
        // The tunnel devices keep GSO; the veth segments the encapsulated skbs in software.
        sender.exec("ethtool", "-K", SENDER_DEV, "tx", "off", "tso", "off", "tx-udp-segmentation", "off",
                "tx-udp_tnl-segmentation", "off", "tx-udp_tnl-csum-segmentation", "off", "tx-gre-segmentation", "off",
                "tx-gre-csum-segmentation", "off", "gso", "on");
        tunnelFullFrames = capture(captureDir.resolve("tunnel.pcap"), filter, TUNNEL_SINK_SCRIPT, targets,
                TUNNEL_SEND_SCRIPT, sendArgs.toArray(new String[0]), expected);
        sender.exec("ethtool", "-K", SENDER_DEV, "tx", "on");
        tunnelPartialFrames = capture(captureDir.resolve("tunnel-partial.pcap"), filter, TUNNEL_SINK_SCRIPT, targets,
                TUNNEL_SEND_SCRIPT, sendArgs.toArray(new String[0]), expected);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(ChecksumMode.class)
    void tcpInVxlanWithOuterChecksum(ChecksumMode mode) throws Exception {
        captureTunnels();
        int compared = compareTunnelBursts(mode, TunnelType.VXLAN, true, true);
        assertTrue(compared >= TUNNEL_TCP_BYTES / 1400, "compared " + compared + " packets");
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(ChecksumMode.class)
    void tcpInVxlanWithoutOuterChecksum(ChecksumMode mode) throws Exception {
        captureTunnels();
        int compared = compareTunnelBursts(mode, TunnelType.VXLAN, false, true);
        assertTrue(compared >= TUNNEL_TCP_BYTES / 1400, "compared " + compared + " packets");
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(ChecksumMode.class)
    void udpSegmentInVxlan(ChecksumMode mode) throws Exception {
        captureTunnels();
        assertEquals(UDP_BYTES / UDP_SEGMENT_SIZE, compareTunnelBursts(mode, TunnelType.VXLAN, true, false));
        assertEquals(UDP_BYTES / UDP_SEGMENT_SIZE, compareTunnelBursts(mode, TunnelType.VXLAN, false, false));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(ChecksumMode.class)
    void tcpInGreWithChecksum(ChecksumMode mode) throws Exception {
        captureTunnels();
        Prerequisites.requireKernelFeature(greSupported, "gre devices ('ip link add type gre' failed: "
                + "CONFIG_NET_IPGRE)");
        int compared = compareTunnelBursts(mode, TunnelType.GRE, true, true);
        assertTrue(compared >= TUNNEL_TCP_BYTES / 1400, "compared " + compared + " packets");
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(ChecksumMode.class)
    void udpSegmentInGre(ChecksumMode mode) throws Exception {
        captureTunnels();
        Prerequisites.requireKernelFeature(greSupported, "gre devices ('ip link add type gre' failed: "
                + "CONFIG_NET_IPGRE)");
        assertEquals(UDP_BYTES / UDP_SEGMENT_SIZE, compareTunnelBursts(mode, TunnelType.GRE, true, false));
    }

    /** One captured encapsulated frame, parsed for its offsets (the comparison itself is on bytes). */
    private static final class TunnelFrame {
        final byte[] b;
        final PacketLayout l;
        final boolean tcp;
        final boolean outerChecksum;
        final int header;
        final int payload;

        TunnelFrame(byte[] b, PacketLayout l) {
            this.b = b;
            this.l = l;
            this.tcp = l.l4Protocol() == 6;
            int t = l.tunnelL4();
            this.outerChecksum = l.tunnelType() == TunnelType.VXLAN ? u16(b, t + 6) != 0
                    : (u16(b, t) & 0x8000) != 0;
            this.header = l.headerLength();
            this.payload = l.payloadLength();
        }

        long seq() {
            return ((long) u16(b, l.l4() + 4) << 16) | u16(b, l.l4() + 6);
        }

        int flags() {
            return b[l.l4() + 13] & 0xFF;
        }

        int id(boolean outer) {
            return u16(b, (outer ? l.outerL3() : l.l3()) + 4);
        }

        boolean sameInvariantHeader(TunnelFrame o) {
            if (o.header != header || o.tcp != tcp || o.l.l3() != l.l3() || o.l.l4() != l.l4()) {
                return false;
            }
            for (int i = 0; i < header; i++) {
                if (!rewritten(i) && b[i] != o.b[i]) {
                    return false;
                }
            }
            return true;
        }

        /** Whether segmentation rewrites byte {@code i}: lengths, IDs, checksums, TCP sequence and flags. */
        private boolean rewritten(int i) {
            return ipRewritten(i - l.outerL3(), l.outerL3Version()) || ipRewritten(i - l.l3(), l.l3Version())
                    || (i - l.tunnelL4() >= 4 && i - l.tunnelL4() <= 7)
                    || (tcp ? i - l.l4() >= 4 && i - l.l4() <= 7 || i - l.l4() == 13 || i - l.l4() == 16
                    || i - l.l4() == 17 : i - l.l4() >= 4 && i - l.l4() <= 7);
        }

        private static boolean ipRewritten(int r, int version) {
            return version == 6 ? r == 4 || r == 5 : r >= 2 && r <= 5 || r == 10 || r == 11;
        }
    }

    /**
     * Bursts of the encapsulated data packets of one tunnel kind, outer checksum setting and transport, formed as
     * for plain packets with each IPv4 header's ID mode followed apart; compares each; returns the count.
     */
    private static int compareTunnelBursts(ChecksumMode mode, TunnelType tunnel, boolean outerChecksum, boolean tcp) {
        List<TunnelFrame> data = new ArrayList<>();
        for (byte[] f : mode == ChecksumMode.FULL ? tunnelFullFrames : tunnelPartialFrames) {
            PacketLayout l;
            try {
                l = new PacketLayout().parse(Unpooled.wrappedBuffer(f), LinkType.ETHERNET, tunnel, null);
            } catch (RuntimeException e) {
                continue; // the other tunnel, or ARP/ICMPv6 inside this one
            }
            TunnelFrame x = new TunnelFrame(f, l);
            if (x.tcp == tcp && x.outerChecksum == outerChecksum && x.payload > 0) {
                data.add(x);
            }
        }
        String what = (tcp ? "TCP" : "UDP") + " in " + tunnel + (outerChecksum ? " with" : " without")
                + " outer checksum";
        assertTrue(!data.isEmpty(), "no captured " + what + " data packets");
        int compared = 0;
        int multi = 0;
        int i = 0;
        while (i < data.size()) {
            List<TunnelFrame> burst = new ArrayList<>();
            TunnelFrame first = data.get(i);
            burst.add(first);
            Boolean innerFixed = null;
            Boolean outerFixed = null;
            int total = first.header - first.l.outerL3() + first.payload;
            int j = i + 1;
            while (j < data.size()) {
                TunnelFrame prev = burst.get(burst.size() - 1);
                TunnelFrame cur = data.get(j);
                if (prev.payload != first.payload || cur.payload > first.payload || !first.sameInvariantHeader(cur)
                        || total + cur.payload > 65535) {
                    break;
                }
                if (tcp && ((prev.flags() & 0x09) != 0 || cur.seq() != ((prev.seq() + prev.payload) & 0xFFFFFFFFL))) {
                    break;
                }
                Boolean inner = first.l.l3Version() == 4 ? idMode(prev.id(false), cur.id(false), innerFixed) : null;
                Boolean outer = first.l.outerL3Version() == 4 ? idMode(prev.id(true), cur.id(true), outerFixed) : null;
                if ((first.l.l3Version() == 4 && inner == null) || (first.l.outerL3Version() == 4 && outer == null)) {
                    break;
                }
                innerFixed = inner;
                outerFixed = outer;
                burst.add(cur);
                total += cur.payload;
                j++;
            }
            compared += compareTunnelBurst(mode, burst, tunnel, Boolean.TRUE.equals(innerFixed),
                    Boolean.TRUE.equals(outerFixed));
            if (burst.size() > 1) {
                multi++;
            }
            i = j;
        }
        assertTrue(multi > 0, "no burst of more than one segment");
        System.out.println("kernel differential " + mode + " " + what + ": " + compared + " packets in " + multi
                + " multi-segment bursts matched byte for byte");
        return compared;
    }

    /** The ID mode (true = fixed) that {@code cur} continues from {@code prev} under {@code decided}, or null. */
    private static Boolean idMode(int prev, int cur, Boolean decided) {
        boolean same = cur == prev;
        boolean next = cur == ((prev + 1) & 0xFFFF);
        if (decided == null) {
            return same ? Boolean.TRUE : next ? Boolean.FALSE : null;
        }
        return decided ? (same ? decided : null) : (next ? decided : null);
    }

    private static int compareTunnelBurst(ChecksumMode mode, List<TunnelFrame> burst, TunnelType tunnel,
                                          boolean innerFixed, boolean outerFixed) {
        TunnelFrame first = burst.get(0);
        TunnelFrame last = burst.get(burst.size() - 1);
        PacketLayout l = first.l;
        ByteBuf big = Unpooled.buffer();
        big.writeBytes(first.b, 0, first.header);
        for (TunnelFrame f : burst) {
            big.writeBytes(f.b, f.header, f.payload);
        }
        int length = big.readableBytes();
        setIpLength(big, l.outerL3(), l.outerL3Version(), length);
        setIpLength(big, l.l3(), l.l3Version(), length);
        if (tunnel == TunnelType.VXLAN) {
            big.setShort(l.tunnelL4() + 4, length - l.tunnelL4());
        }
        if (first.tcp) {
            big.setByte(l.l4() + 13, first.flags() | (last.flags() & 0x09));
        } else {
            big.setShort(l.l4() + 4, length - l.l4());
        }
        GsoType type = !first.tcp ? GsoType.UDP_L4 : l.l3Version() == 6 ? GsoType.TCPV6 : GsoType.TCPV4;
        GsoPacket packet = new GsoPacket(big, type, tunnel, first.payload,
                innerFixed ? Ipv4IdMode.FIXED : Ipv4IdMode.INCREMENTING,
                outerFixed ? Ipv4IdMode.FIXED : Ipv4IdMode.INCREMENTING, false, burst.size());
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
                    fail(mode + " " + tunnel + ": segment " + k + " of a burst of " + burst.size()
                            + " differs from the kernel's:\nkernel "
                            + ByteBufUtil.hexDump(kernel, 0, Math.min(kernel.length, first.header)) + "\nours   "
                            + ByteBufUtil.hexDump(ours, 0, Math.min(ours.length, first.header)));
                }
            }
        } finally {
            for (Object o : out) {
                ((ByteBuf) o).release();
            }
            packet.release();
        }
        return burst.size();
    }

    private static void setIpLength(ByteBuf big, int l3, int version, int length) {
        if (version == 6) {
            big.setShort(l3 + 4, length - l3 - 40);
        } else {
            big.setShort(l3 + 2, length - l3);
        }
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

    /** Accepts one connection on each address in turn, reads each to EOF and prints the byte counts. */
    private static final String TUNNEL_SINK_SCRIPT = String.join("\n",
            "import socket, sys",
            "ls = []",
            "for a in sys.argv[1:]:",
            "    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
            "    l.bind((a, 5001)); l.listen(1); ls.append(l)",
            "print('ready', flush=True)",
            "counts = []",
            "for l in ls:",
            "    c, _ = l.accept(); n = 0",
            "    while True:",
            "        d = c.recv(65536)",
            "        if not d: break",
            "        n += len(d)",
            "    c.close(); counts.append(str(n))",
            "print('received ' + ' '.join(counts), flush=True)");

    /** Sends a large TCP write and one UDP_SEGMENT datagram train to each tunnel address. */
    private static final String TUNNEL_SEND_SCRIPT = String.join("\n",
            "import socket, sys",
            "n, u, gso = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])",
            "data = bytes((i * 7 + 3) % 251 for i in range(n))",
            "udata = bytes((i * 13 + 1) % 253 for i in range(u))",
            "for addr in sys.argv[4:]:",
            "    s = socket.socket(); s.settimeout(20); s.connect((addr, 5001))",
            "    s.sendall(data); s.close()",
            "    d = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
            "    d.setsockopt(17, 103, gso)  # SOL_UDP, UDP_SEGMENT",
            "    d.sendto(udata, (addr, 5002)); d.close()",
            "print('sent')");

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
