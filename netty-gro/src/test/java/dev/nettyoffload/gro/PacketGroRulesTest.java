package dev.nettyoffload.gro;

import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.Ipv4IdMode;
import dev.nettyoffload.core.packet.LinkType;
import dev.nettyoffload.testkit.TestPacket;
import dev.nettyoffload.testkit.TestPacket.Built;
import dev.nettyoffload.testkit.TestPacket.Tunnel;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Table-driven merge rules: each case states the packets in and the exact payload sizes out ("1448+1448+500"
 * is one merged packet of three segments, "1448" a packet left as it came), run for every packet shape it
 * applies to (IPv4, IPv6, IPIP, IPv6-in-IPv6, VXLAN over IPv4 and IPv6, Ethernet with a VLAN tag) with unshared
 * and shared input buffers. Every merged packet must be valid on its own, and segmenting the outputs must give
 * back exactly the packets that went in.
 */
class PacketGroRulesTest {
    enum Shape {
        IPV4, IPV6, IPIP4, IP6IP6, VXLAN4, VXLAN6, ETH_VLAN4;

        TestPacket spec(boolean tcp) {
            TestPacket s = new TestPacket();
            s.tcp = tcp;
            s.tcpFlags = TestPacket.ACK;
            switch (this) {
                case IPV6: s.v6 = true; break;
                case IPIP4: s.tunnel = Tunnel.IPIP; break;
                case IP6IP6: s.tunnel = Tunnel.IPIP; s.v6 = true; s.outerV6 = true; break;
                case VXLAN4: s.tunnel = Tunnel.VXLAN; break;
                case VXLAN6: s.tunnel = Tunnel.VXLAN; s.v6 = true; s.outerV6 = true; break;
                case ETH_VLAN4: s.ethernet = true; s.vlanTags = 1; break;
                default: break;
            }
            return s;
        }

        LinkType linkType() {
            return this == ETH_VLAN4 ? LinkType.ETHERNET : LinkType.RAW_IP;
        }

        boolean innerV4() {
            return this != IPV6 && this != IP6IP6 && this != VXLAN6;
        }
    }

    static final Set<Shape> ALL = EnumSet.allOf(Shape.class);
    static final Set<Shape> INNER_V4 = EnumSet.of(Shape.IPV4, Shape.IPIP4, Shape.VXLAN4, Shape.ETH_VLAN4);
    static final Set<Shape> INNER_V6 = EnumSet.of(Shape.IPV6, Shape.IP6IP6, Shape.VXLAN6);
    /** Inner IPv6 shapes whose inner header is not covered by an outer checksum (for byte mutations). */
    static final Set<Shape> INNER_V6_UNCOVERED = EnumSet.of(Shape.IPV6, Shape.IP6IP6);

    /** One rule: packets from a run of {@code spec}, the expected outputs, optional config and counter checks. */
    static final class Case {
        final String name;
        final Set<Shape> shapes;
        final boolean tcp;
        final Function<RawRun, List<Built>> packets;
        final String[] expected;
        Consumer<TestPacket> specChange;
        Consumer<PacketGroConfig.Builder> config;
        Consumer<PacketGroCounters> counters;
        Boolean ownedOnly;
        boolean ordered = true;
        int fragmentHeaderAt = -1;

        Case(String name, Set<Shape> shapes, boolean tcp, Function<RawRun, List<Built>> packets, String... expected) {
            this.name = name;
            this.shapes = shapes;
            this.tcp = tcp;
            this.packets = packets;
            this.expected = expected;
        }

        Case spec(Consumer<TestPacket> c) {
            specChange = c;
            return this;
        }

        Case config(Consumer<PacketGroConfig.Builder> c) {
            config = c;
            return this;
        }

        Case counters(Consumer<PacketGroCounters> c) {
            counters = c;
            return this;
        }

        Case owned(boolean owned) {
            ownedOnly = owned;
            return this;
        }

        Case fragmentHeaderAt(int index) {
            fragmentHeaderAt = index;
            return this;
        }

        Case unordered() {
            ordered = false;
            return this;
        }
    }

    private static List<Built> list(Built... b) {
        return List.of(b);
    }

    private static List<Built> repeat(RawRun r, int n, int size) {
        List<Built> l = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            l.add(r.next(size));
        }
        return l;
    }

    private static Consumer<TestPacket.Variant> flags(int add) {
        return v -> v.flags |= add;
    }

    private static Built mutate(Built b, Consumer<Built> m) {
        m.accept(b);
        return b;
    }

    /**
     * 45 segments of {@code size} bytes, a last one that brings the outermost IP datagram to 65535 bytes plus
     * {@code over} (its size is kept in {@link RawRun#note}), and one more full segment unless {@code over > 0}.
     */
    private static List<Built> fillTo65535(RawRun r, int size, int over) {
        List<Built> l = repeat(r, 45, size);
        Built first = l.get(0);
        int linkHeader = r.spec.ethernet ? 14 + 4 * r.spec.vlanTags : 0;
        int ipHeaders = first.payloadOffset - linkHeader;
        r.note = 65535 - ipHeaders - 45 * size + over;
        l.add(r.next(r.note));
        if (over == 0) {
            l.add(r.next(size));
        }
        return l;
    }

    /** Inserts an atomic IPv6 Fragment header (offset 0, M clear) after the IPv6 header at offset 0. */
    private static byte[] withFragmentHeader(byte[] old) {
        byte[] n = new byte[old.length + 8];
        System.arraycopy(old, 0, n, 0, 40);
        n[40] = old[6];
        n[44] = 0x12; // identification
        System.arraycopy(old, 40, n, 48, old.length - 40);
        n[6] = 44;
        int payloadLength = ((old[4] & 0xFF) << 8 | (old[5] & 0xFF)) + 8;
        n[4] = (byte) (payloadLength >>> 8);
        n[5] = (byte) payloadLength;
        return n;
    }

    static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        // TCP: what merges.
        c.add(new Case("MSS run merges", ALL, true, r -> repeat(r, 3, 1448), "1448x3"));
        c.add(new Case("short segment merges and ends the run", ALL, true,
                r -> list(r.next(1448), r.next(1448), r.next(500), r.next(1448)), "1448+1448+500", "1448")
                .counters(g -> assertEquals(1, g.flowsFlushed(PacketFlushReason.SHORT_SEGMENT))));
        c.add(new Case("larger segment after the first is not merged", ALL, true,
                r -> list(r.next(1000), r.next(1448), r.next(1448)), "1000", "1448+1448"));
        c.add(new Case("PSH merges and flushes", ALL, true,
                r -> list(r.next(1448), r.next(1448, null, flags(TestPacket.PSH)), r.next(1448), r.next(1448)),
                "1448+1448", "1448+1448").counters(g -> assertEquals(1, g.flowsFlushed(PacketFlushReason.PSH_FIN))));
        c.add(new Case("PSH on a first segment is not held", ALL, true,
                r -> list(r.next(1448, null, flags(TestPacket.PSH)), r.next(1448), r.next(1448)), "1448", "1448+1448")
                .counters(g -> assertEquals(1, g.packetsPassedThrough(PacketPassReason.PSH_FIN))));
        c.add(new Case("FIN merges and ends the run", ALL, true,
                r -> list(r.next(1448), r.next(1448, null, flags(TestPacket.FIN))), "1448+1448"));
        c.add(new Case("SYN is never merged", ALL, true,
                r -> list(r.next(1448), r.next(1448, null, flags(TestPacket.SYN)), r.next(1448)),
                "1448", "1448", "1448").counters(g -> assertEquals(1, g.packetsPassedThrough(PacketPassReason.TCP_FLAGS))));
        c.add(new Case("RST is never merged", ALL, true,
                r -> list(r.next(1448), r.next(1448, null, flags(0x04)), r.next(1448)), "1448", "1448", "1448"));
        c.add(new Case("URG is never merged", ALL, true,
                r -> list(r.next(1448), r.next(1448, null, flags(TestPacket.URG)), r.next(1448)), "1448", "1448", "1448"));
        // AccECN kernels: CWR must be equal along a run (tcp_gro_receive, "gro: flushing when CWR is set negatively
        // affects AccECN"), and a CWR run segments back with CWR on every segment (SKB_GSO_TCP_ACCECN).
        c.add(new Case("CWR segment ends the run before it, a segment without CWR ends its run", ALL, true,
                r -> list(r.next(1448), r.next(1448, null, flags(TestPacket.CWR)), r.next(1448)), "1448", "1448",
                "1448").counters(g -> assertEquals(2, g.flowsFlushed(PacketFlushReason.MISMATCH))));
        c.add(new Case("CWR on the first segment only is not merged", ALL, true,
                r -> list(r.next(1448, null, flags(TestPacket.CWR)), r.next(1448)), "1448", "1448"));
        c.add(new Case("CWR run merges and keeps CWR on every segment", ALL, true,
                r -> list(r.next(1448), r.next(1448, null, flags(TestPacket.CWR)),
                        r.next(1448, null, flags(TestPacket.CWR)), r.next(1448, null, flags(TestPacket.CWR)),
                        r.next(1448)), "1448", "1448x3", "1448"));
        c.add(new Case("ECE differs", ALL, true,
                r -> list(r.next(1448), r.next(1448, null, flags(TestPacket.ECE))), "1448", "1448"));
        c.add(new Case("ACK number differs", ALL, true,
                r -> list(r.next(1448), r.next(1448, s -> s.ack++, null)), "1448", "1448"));
        c.add(new Case("window differs", ALL, true,
                r -> list(r.next(1448), r.next(1448, s -> s.window++, null), r.next(1448)), "1448", "1448", "1448"));
        c.add(new Case("TCP option bytes differ", ALL, true,
                r -> list(r.next(1448), mutate(r.next(1448), b -> {
                    // Timestamp value +1 and echo reply -1: the checksum stays valid, the options differ.
                    int o = b.offsetOf("TCP options");
                    b.bytes[o + 7]++;
                    b.bytes[o + 11]--;
                })), "1448", "1448").spec(s -> s.tcpOptionsLength = 12));
        c.add(new Case("TCP options equal merge", ALL, true, r -> repeat(r, 3, 1436), "1436x3")
                .spec(s -> s.tcpOptionsLength = 12));
        c.add(new Case("TCP option length differs", ALL, true,
                r -> list(r.next(1448), r.next(1448, s -> s.tcpOptionsLength = 12, null)), "1448", "1448"));
        c.add(new Case("TTL differs", ALL, true,
                r -> list(r.next(1448), r.next(1448, s -> s.ttl = 63, null)), "1448", "1448"));
        c.add(new Case("TOS differs", ALL, true,
                r -> list(r.next(1448), r.next(1448, s -> s.tos = 0x20, null)), "1448", "1448"));
        c.add(new Case("ECN bits differ (CE mark)", ALL, true,
                r -> list(r.next(1448), r.next(1448, s -> s.tos = 0x03, null), r.next(1448, s -> s.tos = 0x03, null)),
                "1448", "1448+1448").spec(s -> s.tos = 0x02));
        c.add(new Case("sequence gap", ALL, true,
                r -> list(r.next(1448), r.next(1448, null, v -> v.seq += 1), r.next(1448)), "1448", "1448+1448"));
        c.add(new Case("retransmission", ALL, true,
                r -> list(r.next(1448), r.next(1448, null, v -> v.seq -= 1448)), "1448", "1448"));
        c.add(new Case("pure ACK passes through after its flow", ALL, true,
                r -> list(r.next(1448), r.next(1448), r.next(0), r.next(1448)), "1448+1448", "0", "1448")
                .counters(g -> assertEquals(1, g.packetsPassedThrough(PacketPassReason.NO_PAYLOAD))));
        c.add(new Case("bad TCP checksum passes through", ALL, true,
                r -> list(r.next(1448), mutate(r.next(1448), b -> b.bytes[b.payloadOffset + 5] ^= 1), r.next(1448)),
                "1448", "1448", "1448").counters(g -> assertEquals(1, g.checksumFailures())));
        c.add(new Case("bad IPv4 header checksum passes through", INNER_V4, true,
                r -> list(r.next(1448), mutate(r.next(1448), b -> b.bytes[b.offsetOf("inner IPv4 checksum")] ^= 1),
                        r.next(1448)), "1448", "1448", "1448")
                .counters(g -> assertEquals(1, g.packetsPassedThrough(PacketPassReason.BAD_CHECKSUM))));
        c.add(new Case("IPv4 options are never merged", INNER_V4, true, r -> repeat(r, 3, 1448), "1448", "1448", "1448")
                .spec(s -> s.ipv4OptionsLength = 4)
                .counters(g -> assertEquals(3, g.packetsPassedThrough(PacketPassReason.IP_OPTIONS))));
        c.add(new Case("IPv4 fragment passes through", EnumSet.of(Shape.IPV4, Shape.IPIP4, Shape.ETH_VLAN4), true,
                r -> list(r.next(1448), mutate(r.next(1448), b -> {
                    int ip = b.offsetOf("inner IPv4 header");
                    b.bytes[ip + 6] |= 0x20; // MF
                    RawRun.fixIpv4Checksum(b.bytes, ip);
                }), r.next(1448)), "raw", "1448", "1448").owned(true).unordered()
                .counters(g -> assertEquals(1, g.packetsPassedThrough(PacketPassReason.UNPARSEABLE))));
        c.add(new Case("fixed IPv4 ID with DF merges", INNER_V4, true,
                r -> list(r.next(1448), r.next(1448, null, r::fixedIds), r.next(1448, null, r::fixedIds)),
                "1448x3"));
        c.add(new Case("fixed IPv4 ID without DF merges", INNER_V4, true,
                r -> list(r.next(1448), r.next(1448, null, r::fixedIds), r.next(1448, null, r::fixedIds)),
                "1448x3").spec(s -> s.df = false));
        c.add(new Case("incrementing IPv4 ID without DF merges", INNER_V4, true, r -> repeat(r, 3, 1448), "1448x3")
                .spec(s -> s.df = false));
        c.add(new Case("UDP fixed IPv4 ID without DF merges", INNER_V4, false,
                r -> list(r.next(1000), r.next(1000, null, r::fixedIds), r.next(1000, null, r::fixedIds)),
                "1000x3").spec(s -> s.df = false));
        // One ip_fixedid bit per header: GSO restores each (SKB_GSO_TCP_FIXEDID, SKB_GSO_TCP_FIXEDID_INNER).
        c.add(new Case("outer ID fixed, inner ID incrementing merges", EnumSet.of(Shape.IPIP4, Shape.VXLAN4), true,
                r -> list(r.next(1448), r.next(1448, null, r::fixedOuterId), r.next(1448, null, r::fixedOuterId)),
                "1448x3"));
        c.add(new Case("outer ID fixed without DF, inner ID incrementing merges",
                EnumSet.of(Shape.IPIP4, Shape.VXLAN4), true,
                r -> list(r.next(1448), r.next(1448, null, r::fixedOuterId), r.next(1448, null, r::fixedOuterId)),
                "1448x3").spec(s -> s.df = false));
        c.add(new Case("outer ID incrementing, inner ID fixed merges", EnumSet.of(Shape.IPIP4, Shape.VXLAN4), true,
                r -> list(r.next(1448), r.next(1448, null, r::fixedInnerId), r.next(1448, null, r::fixedInnerId)),
                "1448x3"));
        c.add(new Case("outer ID fixed then incrementing", EnumSet.of(Shape.IPIP4, Shape.VXLAN4), true,
                r -> list(r.next(1448), r.next(1448, null, r::fixedOuterId), r.next(1448)), "1448+1448", "1448"));
        c.add(new Case("IPv4 ID jumps", INNER_V4, true,
                r -> list(r.next(1448), r.next(1448, null, v -> { v.ipv4Id++; v.outerIpv4Id++; }), r.next(1448)),
                "1448", "1448+1448"));
        c.add(new Case("IPv4 ID increments then repeats", INNER_V4, true,
                r -> list(r.next(1448), r.next(1448), r.next(1448, null, v -> { v.ipv4Id--; v.outerIpv4Id--; })),
                "1448+1448", "1448"));
        c.add(new Case("65535-byte cap", ALL, true, r -> repeat(r, 46, 1448), "1448x45", "1448")
                .counters(g -> assertEquals(1, g.flowsFlushed(PacketFlushReason.FULL))));
        // The kernel keeps the run open while a smaller segment fits and merges one that brings the datagram to
        // exactly 65535 bytes ($ is that segment's size, which depends on the shape's headers).
        c.add(new Case("smaller last segment fills to exactly 65535 bytes", ALL, true,
                r -> fillTo65535(r, 1448, 0), "1448x45+$", "1448")
                .counters(g -> assertEquals(1, g.flowsFlushed(PacketFlushReason.SHORT_SEGMENT))));
        c.add(new Case("segment one byte too large for 65535 bytes starts a new run", ALL, true,
                r -> fillTo65535(r, 1448, 1), "1448x45", "$")
                .counters(g -> assertEquals(1, g.flowsFlushed(PacketFlushReason.FULL))));
        c.add(new Case("UDP smaller last datagram fills to exactly 65535 bytes", ALL, false,
                r -> fillTo65535(r, 1448, 0), "1448x45+$", "1448"));
        // Held bytes are bounded even for a flow held alone: a frame larger than the bound is never held.
        c.add(new Case("frame larger than maxHeldBytes passes through", EnumSet.of(Shape.ETH_VLAN4), true,
                r -> list(r.next(1448), r.next(1448), r.next(65_495), r.next(1448)), "1448+1448", "65495", "1448")
                .config(cb -> cb.maxHeldBytes(PacketGroConfig.MIN_MAX_HELD_BYTES))
                .counters(g -> assertEquals(1, g.packetsPassedThrough(PacketPassReason.LARGER_THAN_HELD_BYTES))));
        c.add(new Case("64-segment limit (unshared first packet)", ALL, true, r -> repeat(r, 70, 100), "100x64", "100x6")
                .owned(true));
        c.add(new Case("64-segment limit (shared first packet)", ALL, true, r -> repeat(r, 70, 100), "100x64", "100x6")
                .owned(false));
        c.add(new Case("interleaved flows merge separately", ALL, true, r -> {
            RawRun b = new RawRun(r.spec.copy());
            b.spec.srcPort++;
            return list(r.next(1448), b.next(1448), r.next(1448), b.next(1448), r.next(1448));
        }, "1448x3", "1448x2").unordered());
        c.add(new Case("flow table full flushes the oldest", ALL, true, r -> {
            RawRun b = new RawRun(r.spec.copy());
            b.spec.srcPort++;
            RawRun d = new RawRun(r.spec.copy());
            d.spec.srcPort += 2;
            return list(r.next(1448), r.next(1448), b.next(1448), b.next(1448), d.next(1448), d.next(1448));
        }, "1448x2", "1448x2", "1448x2").config(cb -> cb.maxFlows(2)).unordered()
                .counters(g -> assertEquals(1, g.flowsFlushed(PacketFlushReason.TABLE_FULL))));
        c.add(new Case("IPv6 flow label differs: another flow", INNER_V6_UNCOVERED, true,
                r -> list(r.next(1448), mutate(r.next(1448), b -> b.bytes[b.offsetOf("inner IPv6 header") + 3]++),
                        r.next(1448, null, v -> v.seq -= 1448)), "1448+1448", "1448").unordered());
        c.add(new Case("IPv6 Hop-by-Hop and Destination options equal merge", INNER_V6, true, r -> repeat(r, 3, 1400),
                "1400x3").spec(s -> { s.hopByHop = true; s.destinationOptions = true; }));
        c.add(new Case("IPv6 Destination options differ: another flow", INNER_V6_UNCOVERED, true,
                r -> list(r.next(1448), mutate(r.next(1448),
                        b -> b.bytes[b.offsetOf("inner IPv6 destination options") + 4] = 7),
                        r.next(1448, null, v -> v.seq -= 1448)), "1448+1448", "1448")
                .spec(s -> s.destinationOptions = true).unordered());
        c.add(new Case("IPv6 Hop-by-Hop options differ: another flow", INNER_V6_UNCOVERED, true,
                r -> list(r.next(1448), mutate(r.next(1448), b -> b.bytes[b.offsetOf("inner IPv6 hop-by-hop") + 5] = 9),
                        r.next(1448, null, v -> v.seq -= 1448)), "1448+1448", "1448")
                .spec(s -> s.hopByHop = true).unordered());
        c.add(new Case("IPv6 fragment header passes through", EnumSet.of(Shape.IPV6), true,
                r -> list(r.next(1448), r.next(1448), r.next(1448)), "raw", "1448", "1448")
                .fragmentHeaderAt(1).unordered().counters(g -> assertEquals(1, g.packetsPassedThrough(PacketPassReason.UNPARSEABLE))));
        // UDP.
        c.add(new Case("UDP equal datagrams merge", ALL, false, r -> repeat(r, 3, 1000), "1000x3"));
        c.add(new Case("UDP shorter datagram ends the run", ALL, false,
                r -> list(r.next(1000), r.next(1000), r.next(400), r.next(1000)), "1000+1000+400", "1000"));
        c.add(new Case("UDP larger datagram starts a new run", ALL, false,
                r -> list(r.next(400), r.next(1000), r.next(1000)), "400", "1000+1000"));
        c.add(new Case("UDP zero checksum never merged", INNER_V4, false,
                r -> {
                    List<Built> l = repeat(r, 3, 1000);
                    for (Built b : l) {
                        b.bytes[b.offsetOf("UDP checksum")] = 0;
                        b.bytes[b.offsetOf("UDP checksum") + 1] = 0;
                    }
                    return l;
                }, "1000", "1000", "1000").spec(s -> s.outerUdpChecksum = false)
                .counters(g -> assertEquals(3, g.packetsPassedThrough(PacketPassReason.UDP_ZERO_CHECKSUM))));
        c.add(new Case("UDP bad checksum passes through", ALL, false,
                r -> list(r.next(1000), mutate(r.next(1000), b -> b.bytes[b.payloadOffset] ^= 1), r.next(1000)),
                "1000", "1000", "1000"));
        c.add(new Case("UDP 64-datagram limit", ALL, false, r -> repeat(r, 70, 100), "100x64", "100x6").owned(true));
        c.add(new Case("UDP TTL differs", ALL, false,
                r -> list(r.next(1000), r.next(1000, s -> s.ttl = 1, null)), "1000", "1000"));
        c.add(new Case("UDP odd sizes merge", ALL, false, r -> repeat(r, 4, 999), "999x4"));
        c.add(new Case("VXLAN without outer checksum merges", EnumSet.of(Shape.VXLAN4, Shape.VXLAN6), true,
                r -> repeat(r, 3, 1448), "1448x3").spec(s -> s.outerUdpChecksum = false));
        return c;
    }

    static Stream<Arguments> table() {
        List<Arguments> args = new ArrayList<>();
        for (Case c : cases()) {
            for (Shape s : c.shapes) {
                for (boolean owned : new boolean[] {true, false}) {
                    // Unshared and shared inputs alternate over the shapes, to keep the table fast.
                    boolean wanted = c.ownedOnly == null ? owned == (s.ordinal() % 2 == 0) : c.ownedOnly == owned;
                    if (wanted) {
                        args.add(Arguments.of(c.name + " [" + s + (owned ? "" : ", shared") + "]", c, s, owned));
                    }
                }
            }
        }
        return args.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("table")
    void rule(String name, Case c, Shape shape, boolean owned) {
        run(name + " COMPLETE", c, shape, owned, MergedChecksum.COMPLETE);
        if (shape == c.shapes.iterator().next()) {
            // Partial checksums for the first shape of each case only, to keep the table fast.
            run(name + " PARTIAL", c, shape, owned, MergedChecksum.PARTIAL);
        }
    }

    static String counters(PacketGroCounters g) {
        StringBuilder sb = new StringBuilder("in=" + g.packetsIn() + " merged=" + g.mergedPacketsOut()
                + " lone=" + g.lonePacketsOut());
        for (PacketPassReason r : PacketPassReason.values()) {
            if (g.packetsPassedThrough(r) > 0) {
                sb.append(' ').append(r).append('=').append(g.packetsPassedThrough(r));
            }
        }
        for (PacketFlushReason r : PacketFlushReason.values()) {
            if (g.flowsFlushed(r) > 0) {
                sb.append(" flush ").append(r).append('=').append(g.flowsFlushed(r));
            }
        }
        return sb.toString();
    }

    private static void run(String name, Case c, Shape shape, boolean owned, MergedChecksum mode) {
        TestPacket spec = shape.spec(c.tcp);
        if (c.specChange != null) {
            c.specChange.accept(spec);
        }
        RawRun rawRun = new RawRun(spec);
        List<Built> built = c.packets.apply(rawRun);
        PacketGroConfig.Builder cb = PacketGroConfig.newBuilder().linkType(shape.linkType()).mergedChecksum(mode);
        if (c.config != null) {
            c.config.accept(cb);
        }
        PacketGroAggregator gro = new PacketGroAggregator(cb.build());
        EmbeddedChannel ch = new EmbeddedChannel(gro);
        List<ByteBuf> inputs = new ArrayList<>();
        List<byte[]> inBytes = new ArrayList<>();
        for (int i = 0; i < built.size(); i++) {
            byte[] bytes = i == c.fragmentHeaderAt ? withFragmentHeader(built.get(i).bytes) : built.get(i).bytes;
            inputs.add(PacketChecks.input(bytes, owned));
            inBytes.add(bytes);
        }
        List<Object> out = new ArrayList<>();
        try {
            ch.writeInbound(inputs.toArray());
            out.addAll(PacketChecks.drain(ch));
            List<String> actual = new ArrayList<>();
            for (Object o : out) {
                actual.add(PacketChecks.describe(o, shape.linkType()));
                PacketChecks.assertContiguous(o);
                if (o instanceof GsoPacket) {
                    PacketChecks.assertValidMerged((GsoPacket) o, shape.linkType(), mode == MergedChecksum.PARTIAL, name);
                }
            }
            List<String> expected = new ArrayList<>();
            for (String e : c.expected) {
                expected.add(e.equals("raw") ? "raw" + inBytes.get(1).length
                        : PacketChecks.expand(e.replace("$", Integer.toString(rawRun.note))));
            }
            assertEquals(expected, actual, name + ": outputs; " + counters(gro.counters()));
            if (mode == MergedChecksum.COMPLETE) {
                List<byte[]> back = PacketChecks.expandOutputs(out, shape.linkType(), PooledByteBufAllocator.DEFAULT);
                if (c.ordered) {
                    assertEquals(inBytes.size(), back.size(), name + ": packets after segmentation");
                    for (int i = 0; i < back.size(); i++) {
                        assertEquals(java.util.HexFormat.of().formatHex(inBytes.get(i)),
                                java.util.HexFormat.of().formatHex(back.get(i)), name + ": packet " + i);
                    }
                } else {
                    PacketChecks.assertSameMultiset(inBytes, back, name);
                }
            }
            if (c.counters != null) {
                c.counters.accept(gro.counters());
            }
            assertEquals(built.size(), gro.counters().packetsIn(), name + ": packetsIn");
            assertEquals(0, gro.heldPackets(), name + ": held after readComplete");
            assertFalse(ch.finish(), name + ": nothing left");
        } finally {
            PacketChecks.releaseAll(out);
            ch.finishAndReleaseAll();
        }
        for (ByteBuf b : inputs) {
            assertEquals(0, b.refCnt(), name + ": input released");
        }
    }
}
