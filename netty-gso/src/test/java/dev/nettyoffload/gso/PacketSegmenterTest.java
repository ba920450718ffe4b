package dev.nettyoffload.gso;

import dev.nettyoffload.core.packet.Ipv4IdMode;
import dev.nettyoffload.testkit.TestPacket;
import dev.nettyoffload.testkit.TestPacket.Tunnel;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.GsoType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Table-driven cases for every packet shape: each output packet is compared field by field with the packet an
 * independent builder writes for that segment (checksums by a byte-at-a-time RFC 1071 routine), in both
 * checksum modes.
 */
class PacketSegmenterTest {
    private static final int MSS = 1448;

    private static Arguments c(String name, int payload, int gso, Ipv4IdMode id, Consumer<TestPacket> shape) {
        TestPacket spec = new TestPacket();
        shape.accept(spec);
        return Arguments.of(name, spec, payload, gso, id);
    }

    private static Arguments c(String name, Consumer<TestPacket> shape) {
        return c(name, 5000, MSS, Ipv4IdMode.INCREMENTING, shape);
    }

    static Stream<Arguments> shapes() {
        List<Arguments> a = new ArrayList<>();
        a.add(c("TCPv4", s -> { }));
        a.add(c("TCPv4 IPv4 options + TCP timestamps", s -> {
            s.ipv4OptionsLength = 8;
            s.tcpOptionsLength = 12;
        }));
        a.add(c("TCPv4 FIN PSH CWR ECE", s -> s.tcpFlags = TestPacket.ACK | TestPacket.FIN | TestPacket.PSH
                | TestPacket.CWR | TestPacket.ECE));
        a.add(c("TCPv4 two segments CWR FIN", 2000, 1000, Ipv4IdMode.INCREMENTING,
                s -> s.tcpFlags = TestPacket.ACK | TestPacket.FIN | TestPacket.CWR));
        a.add(c("TCPv4 fixed ID", 5000, MSS, Ipv4IdMode.FIXED, s -> { }));
        a.add(c("TCPv4 ID wraps", 5000, MSS, Ipv4IdMode.INCREMENTING, s -> s.ipv4Id = 0xFFFE));
        a.add(c("TCPv4 seq wraps", 5000, MSS, Ipv4IdMode.INCREMENTING, s -> s.seq = 0xFFFFFC00L));
        a.add(c("TCPv4 one segment", 1000, MSS, Ipv4IdMode.INCREMENTING, s -> s.tcpFlags |= TestPacket.CWR));
        a.add(c("TCPv4 exact multiple", 3 * MSS, MSS, Ipv4IdMode.INCREMENTING, s -> { }));
        a.add(c("TCPv4 odd sizes", 4999, 999, Ipv4IdMode.INCREMENTING, s -> s.tos = 0xB8));
        a.add(c("TCPv4 Ethernet", s -> s.ethernet = true));
        a.add(c("TCPv4 Ethernet 1 VLAN", s -> {
            s.ethernet = true;
            s.vlanTags = 1;
        }));
        a.add(c("TCPv4 Ethernet QinQ", s -> {
            s.ethernet = true;
            s.vlanTags = 2;
            s.tcpOptionsLength = 12;
        }));
        a.add(c("TCPv6", s -> s.v6 = true));
        a.add(c("TCPv6 HBH + routing + dest options", s -> {
            s.v6 = true;
            s.hopByHop = true;
            s.routing = true;
            s.destinationOptions = true;
            s.tcpOptionsLength = 12;
            s.tos = 0x28;
        }));
        a.add(c("TCPv6 jumbogram", 70_000, 8000, Ipv4IdMode.INCREMENTING, s -> {
            s.v6 = true;
            s.jumbo = true;
        }));
        a.add(c("TCPv6 jumbogram with other HBH option", 70_000, 9000, Ipv4IdMode.INCREMENTING, s -> {
            s.v6 = true;
            s.jumbo = true;
            s.hopByHop = true;
        }));
        a.add(c("TCPv6 Ethernet VLAN", s -> {
            s.v6 = true;
            s.ethernet = true;
            s.vlanTags = 1;
        }));
        a.add(c("UDPv4", 6000, 1200, Ipv4IdMode.INCREMENTING, s -> s.tcp = false));
        a.add(c("UDPv4 odd gso", 5003, 1001, Ipv4IdMode.INCREMENTING, s -> s.tcp = false));
        a.add(c("UDPv4 options fixed ID", 6000, 1200, Ipv4IdMode.FIXED, s -> {
            s.tcp = false;
            s.ipv4OptionsLength = 4;
        }));
        a.add(c("UDPv6", 6000, 1200, Ipv4IdMode.INCREMENTING, s -> {
            s.tcp = false;
            s.v6 = true;
        }));
        a.add(c("UDPv6 ext headers Ethernet QinQ", 6000, 1233, Ipv4IdMode.INCREMENTING, s -> {
            s.tcp = false;
            s.v6 = true;
            s.hopByHop = true;
            s.destinationOptions = true;
            s.ethernet = true;
            s.vlanTags = 2;
        }));
        a.add(c("UDPv6 jumbogram", 66_000, 8000, Ipv4IdMode.INCREMENTING, s -> {
            s.tcp = false;
            s.v6 = true;
            s.jumbo = true;
        }));
        for (boolean outerV6 : new boolean[] {false, true}) {
            for (boolean csum : new boolean[] {false, true}) {
                String o = (outerV6 ? "outer v6" : "outer v4") + (csum ? " csum" : " no csum");
                a.add(c("VXLAN TCPv4 " + o, s -> {
                    s.tunnel = Tunnel.VXLAN;
                    s.outerV6 = outerV6;
                    s.outerUdpChecksum = csum;
                    s.tcpOptionsLength = 12;
                }));
                a.add(c("VXLAN TCPv6 " + o + " inner VLAN", s -> {
                    s.tunnel = Tunnel.VXLAN;
                    s.outerV6 = outerV6;
                    s.outerUdpChecksum = csum;
                    s.v6 = true;
                    s.innerVlanTags = 1;
                }));
                a.add(c("VXLAN UDPv4 " + o, 6000, 1100, Ipv4IdMode.INCREMENTING, s -> {
                    s.tunnel = Tunnel.VXLAN;
                    s.outerV6 = outerV6;
                    s.outerUdpChecksum = csum;
                    s.tcp = false;
                }));
                a.add(c("GRE TCPv4 " + o, s -> {
                    s.tunnel = Tunnel.GRE;
                    s.outerV6 = outerV6;
                    s.greChecksum = csum;
                }));
            }
        }
        a.add(c("VXLAN TCPv4 Ethernet VLAN fixed ID", 5000, MSS, Ipv4IdMode.FIXED, s -> {
            s.tunnel = Tunnel.VXLAN;
            s.ethernet = true;
            s.vlanTags = 1;
        }));
        a.add(c("IPIP TCPv4", s -> s.tunnel = Tunnel.IPIP));
        a.add(c("SIT TCPv6", s -> {
            s.tunnel = Tunnel.IPIP;
            s.v6 = true;
        }));
        a.add(c("IPv6-in-IPv6 TCPv6 ext headers", s -> {
            s.tunnel = Tunnel.IPIP;
            s.v6 = true;
            s.outerV6 = true;
            s.routing = true;
        }));
        a.add(c("IPv4-in-IPv6 UDPv4", 6000, 1200, Ipv4IdMode.INCREMENTING, s -> {
            s.tunnel = Tunnel.IPIP;
            s.outerV6 = true;
            s.tcp = false;
        }));
        a.add(c("IPIP Ethernet fixed ID", 5000, MSS, Ipv4IdMode.FIXED, s -> {
            s.tunnel = Tunnel.IPIP;
            s.ethernet = true;
        }));
        a.add(c("GRE csum+key TCPv6", s -> {
            s.tunnel = Tunnel.GRE;
            s.greChecksum = true;
            s.greKey = true;
            s.v6 = true;
        }));
        a.add(c("GRE TEB csum UDPv4 inner QinQ", 6000, 1300, Ipv4IdMode.INCREMENTING, s -> {
            s.tunnel = Tunnel.GRE;
            s.greTeb = true;
            s.greChecksum = true;
            s.innerVlanTags = 2;
            s.tcp = false;
        }));
        a.add(c("GRE key TEB TCPv4 outer v6", s -> {
            s.tunnel = Tunnel.GRE;
            s.greTeb = true;
            s.greKey = true;
            s.outerV6 = true;
        }));
        return a.stream();
    }

    static Stream<Arguments> cases() {
        List<Arguments> a = new ArrayList<>();
        shapes().forEach(s -> {
            for (ChecksumMode mode : ChecksumMode.values()) {
                Object[] x = s.get();
                a.add(Arguments.of(x[0], mode, x[1], x[2], x[3], x[4]));
            }
        });
        return a.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void segmentsEveryShape(String name, ChecksumMode mode, TestPacket spec, int payloadLength, int gso,
                            Ipv4IdMode idMode) {
        byte[] payload = SegmentChecks.payload(payloadLength, name.hashCode());
        byte[] joined = SegmentChecks.segmentAndCheck(name, spec, payload, gso, idMode, mode,
                PooledByteBufAllocator.DEFAULT);
        assertArrayEquals(payload, joined, name + ": concatenated payloads");
    }

    /**
     * Metadata the kernel carries per header and per flag: each IPv4 header's own ID mode (FIXEDID for the outer
     * or only header, FIXEDID_INNER for the inner one of a tunnel), DF set or not, and CWR on every segment
     * (SKB_GSO_TCP_ACCECN) or on the first only.
     */
    static Stream<Arguments> headerModes() {
        List<Arguments> a = new ArrayList<>();
        Ipv4IdMode inc = Ipv4IdMode.INCREMENTING;
        Ipv4IdMode fix = Ipv4IdMode.FIXED;
        Consumer<TestPacket> cwr = s -> s.tcpFlags = TestPacket.ACK | TestPacket.CWR | TestPacket.PSH;
        a.add(Arguments.of("TCPv4 CWR on every segment", spec(cwr), inc, inc, true));
        a.add(Arguments.of("TCPv6 CWR on every segment", spec(cwr.andThen(s -> s.v6 = true)), inc, inc, true));
        a.add(Arguments.of("VXLAN TCPv4 CWR on every segment", spec(cwr.andThen(s -> s.tunnel = Tunnel.VXLAN)),
                inc, inc, true));
        a.add(Arguments.of("TCPv4 fixed ID, DF clear", spec(s -> s.df = false), fix, fix, false));
        a.add(Arguments.of("UDPv4 fixed ID, DF clear", spec(s -> {
            s.df = false;
            s.tcp = false;
        }), fix, fix, false));
        for (Tunnel t : new Tunnel[] {Tunnel.IPIP, Tunnel.VXLAN, Tunnel.GRE}) {
            a.add(Arguments.of(t + " outer fixed, inner incrementing", spec(s -> s.tunnel = t), inc, fix, false));
            a.add(Arguments.of(t + " outer incrementing, inner fixed", spec(s -> s.tunnel = t), fix, inc, false));
            a.add(Arguments.of(t + " outer fixed DF clear, inner incrementing", spec(s -> {
                s.tunnel = t;
                s.df = false;
            }), inc, fix, false));
        }
        a.add(Arguments.of("IPv4-in-IPv6: the outer mode is unused", spec(s -> {
            s.tunnel = Tunnel.IPIP;
            s.outerV6 = true;
        }), fix, inc, false));
        return a.stream();
    }

    private static TestPacket spec(Consumer<TestPacket> shape) {
        TestPacket s = new TestPacket();
        shape.accept(s);
        return s;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("headerModes")
    void segmentsWithEachHeadersMode(String name, TestPacket spec, Ipv4IdMode inner, Ipv4IdMode outer,
                                     boolean cwrOnEverySegment) {
        for (ChecksumMode mode : ChecksumMode.values()) {
            int gso = spec.tcp ? MSS : 1200;
            byte[] payload = SegmentChecks.payload(5000, name.hashCode());
            byte[] joined = SegmentChecks.segmentAndCheck(name + " " + mode, spec, payload, gso, inner, outer,
                    cwrOnEverySegment, mode, PooledByteBufAllocator.DEFAULT);
            assertArrayEquals(payload, joined, name + ": concatenated payloads");
        }
    }

    /**
     * A packet whose payload fits in one segment leaves as it is, however large its segmentSize (Linux sends it
     * unchanged); only the length fields of the segments it would cut are limited.
     */
    @Test
    void onePacketWithALargeSegmentSizeLeavesUnchanged() {
        TestPacket spec = new TestPacket();
        spec.tcpFlags |= TestPacket.CWR | TestPacket.FIN;
        byte[] payload = SegmentChecks.payload(60_000, 7);
        for (ChecksumMode mode : ChecksumMode.values()) {
            byte[] joined = SegmentChecks.segmentAndCheck("TCPv4 60000 bytes, segmentSize 65535 " + mode, spec,
                    payload, GsoPacket.MAX_SEGMENT_SIZE, Ipv4IdMode.INCREMENTING, mode, PooledByteBufAllocator.DEFAULT);
            assertArrayEquals(payload, joined);
        }
        TestPacket udp6 = new TestPacket();
        udp6.tcp = false;
        udp6.v6 = true;
        byte[] p6 = SegmentChecks.payload(65_000, 8);
        assertArrayEquals(p6, SegmentChecks.segmentAndCheck("UDPv6 65000 bytes, segmentSize 65535", udp6, p6,
                GsoPacket.MAX_SEGMENT_SIZE, Ipv4IdMode.INCREMENTING, ChecksumMode.FULL, PooledByteBufAllocator.DEFAULT));
    }

    @Test
    void heapAllocatorGivesTheSameBytes() {
        TestPacket spec = new TestPacket();
        spec.tunnel = Tunnel.VXLAN;
        byte[] payload = SegmentChecks.payload(7000, 1);
        SegmentChecks.segmentAndCheck("heap", spec, payload, MSS, Ipv4IdMode.INCREMENTING, ChecksumMode.FULL,
                new UnpooledByteBufAllocator(false));
    }

    @Test
    void payloadsAreSlicesOfTheInputNotCopies() {
        TestPacket spec = new TestPacket();
        byte[] payload = SegmentChecks.payload(3000, 2);
        TestPacket.Built big = spec.build(payload, spec.original());
        ByteBuf in = SegmentChecks.input(big.bytes);
        GsoPacket packet = new GsoPacket(in, GsoType.TCPV4, 1000);
        List<Object> out = new ArrayList<>();
        try {
            new PacketSegmenter(PacketSegmenterConfig.newBuilder().copyPayload(false).build())
                    .segment(packet, ByteBufAllocator.DEFAULT, out);
            assertEquals(3, out.size());
            CompositeByteBuf second = (CompositeByteBuf) out.get(1);
            assertEquals(2, second.numComponents(), "header + payload slice");
            assertEquals(40, second.component(0).readableBytes(), "header component");
            // Writing into the input shows through the segment: the payload was not copied.
            int at = in.readerIndex() + big.payloadOffset + 1000;
            in.setByte(at, ~in.getByte(at));
            assertEquals(in.getByte(at), second.getByte(40));
            assertTrue(in.refCnt() > 1, "segments hold references to the input");
        } finally {
            for (Object o : out) {
                ((ByteBuf) o).release();
            }
            packet.release();
        }
        assertEquals(0, in.refCnt());
    }
}
