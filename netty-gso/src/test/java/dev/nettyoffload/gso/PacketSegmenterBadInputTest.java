package dev.nettyoffload.gso;

import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.GsoType;
import dev.nettyoffload.core.packet.Ipv4IdMode;
import dev.nettyoffload.core.packet.LinkType;
import dev.nettyoffload.core.packet.PacketOffloadException;
import dev.nettyoffload.core.packet.TunnelType;
import dev.nettyoffload.testkit.TestPacket;
import dev.nettyoffload.testkit.TestPacket.Tunnel;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad input gets a clear exception naming the actual and allowed values, adds nothing and leaks nothing. */
class PacketSegmenterBadInputTest {

    /** A case: a spec, a byte mutation of the built packet, the metadata, and text the message must contain. */
    private static Arguments bad(String name, Consumer<TestPacket> shape, Consumer<byte[]> mutate, GsoType type,
                                 TunnelType tunnel, int gso, int segmentCount, String expected) {
        TestPacket spec = new TestPacket();
        shape.accept(spec);
        return Arguments.of(name, spec, mutate, type, tunnel, gso, segmentCount, expected);
    }

    private static Arguments bad(String name, Consumer<TestPacket> shape, Consumer<byte[]> mutate, String expected) {
        TestPacket spec = new TestPacket();
        shape.accept(spec);
        return Arguments.of(name, spec, mutate, null, null, 1000, 0, expected);
    }

    private static final Consumer<TestPacket> TCP4 = s -> { };
    private static final Consumer<byte[]> NONE = b -> { };

    static Stream<Arguments> cases() {
        return Stream.of(
                bad("gsoType TCPV6 on IPv4", TCP4, NONE, GsoType.TCPV6, TunnelType.NONE, 1000, 0,
                        "gsoType TCPV6 contradicts the headers: IPv4 carrying TCP"),
                bad("gsoType UDP_L4 on TCP", TCP4, NONE, GsoType.UDP_L4, TunnelType.NONE, 1000, 0,
                        "gsoType UDP_L4 contradicts the headers"),
                bad("gsoType TCPV4 on a VXLAN packet without tunnel", s -> s.tunnel = Tunnel.VXLAN, NONE,
                        GsoType.TCPV4, TunnelType.NONE, 1000, 0, "gsoType TCPV4 contradicts the headers: IPv4 carrying UDP"),
                bad("tunnel VXLAN on plain TCP", TCP4, NONE, GsoType.TCPV4, TunnelType.VXLAN, 1000, 0,
                        "tunnelType VXLAN contradicts the headers: outer IP carries TCP, not UDP"),
                bad("tunnel GRE on IPIP", s -> s.tunnel = Tunnel.IPIP, NONE, GsoType.TCPV4, TunnelType.GRE, 1000, 0,
                        "tunnelType GRE contradicts the headers"),
                bad("tunnel NONE on GRE", s -> s.tunnel = Tunnel.GRE, NONE, GsoType.TCPV4, TunnelType.NONE, 1000, 0,
                        "IPv4 carries protocol 47, not TCP or UDP (tunnelType is NONE)"),
                bad("segment count disagrees", TCP4, NONE, GsoType.TCPV4, TunnelType.NONE, 1000, 4,
                        "segmentCount 4 disagrees with the payload: 5000 bytes / segmentSize 1000 = 5 segments"),
                bad("too many segments", TCP4, NONE, GsoType.TCPV4, TunnelType.NONE, 4, 0,
                        "5000 payload bytes / segmentSize 4 = 1250 segments, more than maxSegmentsPerPacket 1024"),
                bad("IPv4 total length too long", TCP4, b -> b[3]++, "IPv4 total length 5041 disagrees with the "
                        + "buffer: 5040 bytes"),
                bad("IPv4 header length below 20", TCP4, b -> b[0] = 0x44, "IPv4 header length 16 is below 20"),
                bad("IPv4 more fragments", TCP4, b -> b[6] |= 0x20, "IPv4 fragment (flags/offset 0x6000)"),
                bad("IPv4 fragment offset", TCP4, b -> b[7] = 1, "IPv4 fragment (flags/offset 0x4001)"),
                bad("IPv6 payload length", s -> s.v6 = true, b -> b[5]++, "IPv6 payload length 5021 disagrees with the buffer: 5020 bytes after the IPv6 header"),
                bad("IPv6 zero length without jumbo", s -> s.v6 = true, b -> {
                    b[4] = 0;
                    b[5] = 0;
                }, "IPv6 payload length 0 without a jumbo payload option"),
                bad("IPv6 fragment header", s -> s.v6 = true, b -> b[6] = 44, "IPv6 Fragment header"),
                bad("IPv6 AH", s -> s.v6 = true, b -> b[6] = 51, "Authentication Header (AH)"),
                bad("IPv6 ESP", s -> s.v6 = true, b -> b[6] = 50, "ESP header"),
                bad("IPv6 unknown routing type", s -> {
                    s.v6 = true;
                    s.routing = true;
                }, b -> b[42] = 3, "routing header type 3 with 1 segments left"),
                bad("IP version", TCP4, b -> b[0] = 0x55, "IP version 5 is neither 4 nor 6"),
                bad("TCP data offset", TCP4, b -> b[32] = 0x30, "TCP data offset 12 is below 20"),
                bad("UDP length", s -> s.tcp = false, b -> b[25]++, "UDP length 5009 disagrees with the buffer"),
                bad("outer UDP length", s -> s.tunnel = Tunnel.VXLAN, b -> b[25]++, "outer UDP length"),
                bad("VXLAN without I flag", s -> s.tunnel = Tunnel.VXLAN, b -> b[28] = 0, "lack the I flag"),
                bad("GRE sequence numbers", s -> s.tunnel = Tunnel.GRE, b -> b[20] = 0x10,
                        "GRE with sequence numbers (S flag) cannot be segmented"),
                bad("GRE version 1", s -> s.tunnel = Tunnel.GRE, b -> b[21] = 1, "GRE version 1"),
                bad("GRE unknown protocol", s -> s.tunnel = Tunnel.GRE, b -> b[22] = 0x12,
                        "GRE protocol type EtherType 0x1200"),
                bad("inner IP version", s -> s.tunnel = Tunnel.IPIP, b -> b[20] = 0x65,
                        "inner IP version 6 where IPv4 was expected"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void refusedWithClearMessage(String name, TestPacket spec, Consumer<byte[]> mutate, GsoType type,
                                 TunnelType tunnel, int gso, int segmentCount, String expected) {
        byte[] bytes = spec.build(SegmentChecks.payload(5000, 3), spec.original()).bytes;
        mutate.accept(bytes);
        assertRefused(bytes, LinkType.RAW_IP, type != null ? type : SegmentChecks.gsoType(spec),
                tunnel != null ? tunnel : SegmentChecks.tunnelType(spec), gso, segmentCount, expected);
    }

    @Test
    void truncatedHeaders() {
        TestPacket spec = new TestPacket();
        spec.tcpOptionsLength = 12;
        byte[] full = spec.build(new byte[0], spec.original()).bytes;
        // Cut inside the TCP options, keeping the IPv4 total length consistent with the cut buffer.
        byte[] cut = Arrays.copyOf(full, 44);
        cut[2] = 0;
        cut[3] = 44;
        assertRefused(cut, LinkType.RAW_IP, GsoType.TCPV4, TunnelType.NONE, 1000, 0,
                "truncated TCP header with options: needs 32 bytes at offset 20, the packet has 44");
        assertRefused(Arrays.copyOf(full, 10), LinkType.RAW_IP, GsoType.TCPV4, TunnelType.NONE, 1000, 0,
                "truncated IPv4 header: needs 20 bytes at offset 0, the packet has 10");
        assertRefused(Arrays.copyOf(full, 0), LinkType.RAW_IP, GsoType.TCPV4, TunnelType.NONE, 1000, 0,
                "truncated IP header");
        assertRefused(Arrays.copyOf(full, 13), LinkType.ETHERNET, GsoType.TCPV4, TunnelType.NONE, 1000, 0,
                "truncated outer Ethernet header: needs 14 bytes");
    }

    @Test
    void noPayload() {
        TestPacket spec = new TestPacket();
        byte[] empty = spec.build(new byte[0], spec.original()).bytes;
        assertRefused(empty, LinkType.RAW_IP, GsoType.TCPV4, TunnelType.NONE, 1000, 0,
                "no L4 payload to segment: 40 bytes are all headers");
    }

    @Test
    void ethernetProblems() {
        TestPacket spec = new TestPacket();
        spec.ethernet = true;
        spec.vlanTags = 2;
        byte[] b = spec.build(new byte[3000], spec.original()).bytes;
        byte[] three = b.clone();
        three[20] = (byte) 0x81; // third TPID where the EtherType was
        three[21] = 0x00;
        assertRefused(three, LinkType.ETHERNET, GsoType.TCPV4, TunnelType.NONE, 1000, 0,
                "outer Ethernet header has more than 2 VLAN tags");
        byte[] arp = b.clone();
        arp[20] = 0x08;
        arp[21] = 0x06;
        assertRefused(arp, LinkType.ETHERNET, GsoType.TCPV4, TunnelType.NONE, 1000, 0,
                "outer Ethernet EtherType 0x806 is neither IPv4 (0x0800) nor IPv6 (0x86dd)");
        // Raw IP metadata on an Ethernet frame: the first nibble is not an IP version.
        assertRefused(b, LinkType.RAW_IP, GsoType.TCPV4, TunnelType.NONE, 1000, 0, "IP version 0");
    }

    /**
     * Only a jumbogram can have a segment too large for the 16-bit length fields. (A segmentSize larger than the
     * payload is no error: the packet goes out as one segment, see {@code PacketSegmenterTest}.)
     */
    @Test
    void jumbogramSegmentTooLarge() {
        TestPacket spec = new TestPacket();
        spec.v6 = true;
        spec.jumbo = true;
        byte[] bytes = spec.build(SegmentChecks.payload(70_000, 5), spec.original()).bytes;
        assertRefused(bytes, LinkType.RAW_IP, GsoType.TCPV6, TunnelType.NONE, 65_530, 0,
                "segmentSize 65530 too large for the headers: a full segment would be 65590 bytes from the IPv6 "
                        + "header, limit 65575");
    }

    /**
     * Jumbograms are segmented without a tunnel only (like Linux, whose BIG TCP has no tunnel form); inside one
     * they are refused by name. (An outer jumbogram is refused the same way in {@code PacketLayout}.)
     */
    @Test
    void jumbogramInsideATunnelIsRefusedByName() {
        for (Tunnel t : new Tunnel[] {Tunnel.IPIP, Tunnel.VXLAN, Tunnel.GRE}) {
            TestPacket spec = new TestPacket();
            spec.v6 = true;
            spec.outerV6 = true;
            spec.jumbo = true;
            spec.tunnel = t;
            byte[] bytes = spec.build(SegmentChecks.payload(5000, 9), spec.original()).bytes;
            assertRefused(bytes, LinkType.RAW_IP, GsoType.TCPV6, TunnelType.valueOf(t.name()), 1000, 0,
                    "IPv6 jumbogram inside a " + t + " tunnel is not supported");
        }
    }

    /** A released packet is named as such, not reported as Netty's bare "refCnt: 0". */
    @Test
    void releasedContentIsRefusedByName() {
        TestPacket spec = new TestPacket();
        ByteBuf in = SegmentChecks.input(spec.build(SegmentChecks.payload(3000, 6), spec.original()).bytes);
        GsoPacket packet = new GsoPacket(in, GsoType.TCPV4, 1000);
        packet.release();
        assertEquals("GsoPacket(TCPV4, segmentSize 1000, INCREMENTING, segmentCount 0, content released, refCnt 0)",
                packet.toString());
        List<Object> out = new ArrayList<>();
        PacketOffloadException e = assertThrows(PacketOffloadException.class,
                () -> new PacketSegmenter().segment(packet, PooledByteBufAllocator.DEFAULT, out));
        assertEquals(packet + ": the content was already released", e.getMessage());
        e = assertThrows(PacketOffloadException.class, () -> packet.layout(LinkType.RAW_IP));
        assertEquals(packet + ": the content was already released", e.getMessage());
        assertTrue(out.isEmpty());
    }

    @Test
    void metadataIsCheckedInTheConstructor() {
        ByteBuf buf = ByteBufAllocator.DEFAULT.buffer(10);
        try {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new GsoPacket(buf, GsoType.TCPV4, 0));
            assertEquals("segmentSize: 0 (expected: 1..65535)", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> new GsoPacket(buf, GsoType.TCPV4, 65536));
            assertEquals("segmentSize: 65536 (expected: 1..65535)", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> new GsoPacket(buf, null, 1000));
            assertEquals("gsoType: null", e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> new GsoPacket(buf, GsoType.TCPV4, TunnelType.NONE, 1000, Ipv4IdMode.FIXED, -1));
            assertTrue(e.getMessage().startsWith("segmentCount: -1"));
            e = assertThrows(IllegalArgumentException.class, () -> new GsoPacket(buf, GsoType.UDP_L4, TunnelType.NONE,
                    1000, Ipv4IdMode.FIXED, Ipv4IdMode.FIXED, true, 0));
            assertEquals("cwrOnEverySegment: true for gsoType UDP_L4 (expected: false, CWR is a TCP flag)",
                    e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> new GsoPacket(buf, GsoType.TCPV4, TunnelType.IPIP,
                    1000, Ipv4IdMode.FIXED, null, false, 0));
            assertEquals("outerIpv4IdMode: null", e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> PacketSegmenterConfig.newBuilder().maxSegmentsPerPacket(0));
            assertEquals("maxSegmentsPerPacket: 0 (expected: 1..65535)", e.getMessage());
        } finally {
            buf.release();
        }
    }

    /** An allocation failure in the middle of a packet releases the segments already made. */
    @Test
    void failureHalfwayReleasesWhatWasMade() {
        TestPacket spec = new TestPacket();
        byte[] bytes = spec.build(SegmentChecks.payload(10_000, 4), spec.original()).bytes;
        ByteBuf in = SegmentChecks.input(bytes);
        GsoPacket packet = new GsoPacket(in, GsoType.TCPV4, 1000);
        List<ByteBuf> allocated = new ArrayList<>();
        ByteBufAllocator failing = new AbstractByteBufAllocator(false) {
            private int composites;

            @Override
            public CompositeByteBuf compositeHeapBuffer(int maxNumComponents) {
                if (++composites > 4) {
                    throw new IllegalStateException("allocation failed on purpose");
                }
                return super.compositeHeapBuffer(maxNumComponents);
            }

            @Override
            protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
                ByteBuf b = Unpooled.buffer(initialCapacity, maxCapacity);
                allocated.add(b);
                return b;
            }

            @Override
            protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
                return newHeapBuffer(initialCapacity, maxCapacity);
            }

            @Override
            public boolean isDirectBufferPooled() {
                return false;
            }
        };
        List<Object> out = new ArrayList<>();
        out.add("earlier message");
        try {
            // The zero-copy form allocates a composite per segment: the fifth fails.
            PacketSegmenter slices = new PacketSegmenter(PacketSegmenterConfig.newBuilder().copyPayload(false).build());
            assertThrows(IllegalStateException.class, () -> slices.segment(packet, failing, out));
            assertEquals(List.of("earlier message"), out, "only what was there before");
            assertEquals(1, in.refCnt(), "no segment still holds the input");
            assertEquals(1, allocated.size(), "one header buffer per packet");
            assertEquals(0, allocated.get(0).refCnt(), "header buffer released");
        } finally {
            packet.release();
        }
        assertEquals(0, in.refCnt());
    }

    private static void assertRefused(byte[] bytes, LinkType linkType, GsoType type, TunnelType tunnel, int gso,
                                      int segmentCount, String expected) {
        ByteBuf in = SegmentChecks.input(bytes);
        GsoPacket packet = new GsoPacket(in, type, tunnel, gso, Ipv4IdMode.INCREMENTING, segmentCount);
        List<Object> out = new ArrayList<>();
        try {
            PacketSegmenter segmenter = new PacketSegmenter(
                    PacketSegmenterConfig.newBuilder().linkType(linkType).build());
            PacketOffloadException e = assertThrows(PacketOffloadException.class,
                    () -> segmenter.segment(packet, PooledByteBufAllocator.DEFAULT, out));
            assertTrue(e.getMessage().contains(expected),
                    "message \"" + e.getMessage() + "\" should contain \"" + expected + "\"");
            assertTrue(out.isEmpty(), "nothing added");
            assertEquals(1, in.refCnt(), "input untouched");
        } finally {
            packet.release();
        }
        assertEquals(0, in.refCnt());
    }
}
