package dev.nettyoffload.gro;

import dev.nettyoffload.core.packet.LinkType;
import dev.nettyoffload.core.packet.PacketOffloadException;
import dev.nettyoffload.core.packet.TunnelType;
import dev.nettyoffload.testkit.TestPacket;
import dev.nettyoffload.testkit.TestPacket.Built;
import dev.nettyoffload.testkit.TestPacket.Tunnel;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * {@link PacketRules} on their own, without a pipeline or a merger: each case builds a run of packets, holds all
 * but the last in one {@link PacketFlow} (each must join), and states what the rules decide for the last one:
 * {@code pass REASON} when it may never be held, else its {@link IdSequence} (followed by {@code outer} and the
 * outer header's own sequence when a tunnel has an IPv4 outer header), the {@link CoalesceResult} and, when it
 * joins, the {@link PacketFlushReason} that ends the run or {@code open}.
 */
class PacketRulesTest {
    private static final int MAX_SEGMENTS = PacketGroConfig.MAX_SEGMENTS_PER_PACKET;
    /** The UDP checksum of an IPv4 packet without options. */
    private static final int UDP4_CHECKSUM_OFFSET = 20 + 6;

    private static TestPacket tcp4() {
        TestPacket s = new TestPacket();
        s.tcpFlags = TestPacket.ACK;
        return s;
    }

    private static TestPacket udp4() {
        TestPacket s = tcp4();
        s.tcp = false;
        return s;
    }

    private static TestPacket with(TestPacket s, Consumer<TestPacket> change) {
        change.accept(s);
        return s;
    }

    private static Arguments of(String name, TestPacket spec, Function<RawRun, List<Built>> packets, String expected) {
        return Arguments.of(name, spec, packets, MAX_SEGMENTS, expected);
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

    static Stream<Arguments> cases() {
        return Stream.of(
                // What joins, and what then ends the run.
                of("equal TCP segments", tcp4(), r -> repeat(r, 2, 1448), "INCREMENTING COALESCE open"),
                of("short segment joins and ends the run", tcp4(), r -> List.of(r.next(1448), r.next(500)),
                        "INCREMENTING COALESCE SHORT_SEGMENT"),
                of("PSH joins and ends the run", tcp4(),
                        r -> List.of(r.next(1448), r.next(1448, null, flags(TestPacket.PSH))),
                        "INCREMENTING COALESCE PSH_FIN"),
                of("FIN joins and ends the run", tcp4(),
                        r -> List.of(r.next(1448), r.next(1448, null, flags(TestPacket.FIN))),
                        "INCREMENTING COALESCE PSH_FIN"),
                // The kernel keeps a run open while a smaller segment could still fit (it flushes only when the
                // next one does not, skb_gro_receive's -E2BIG): 40 + 45 x 1448 = 65200 leaves room for 335 bytes.
                of("run of 45 x 1448 stays open while a smaller segment fits", tcp4(), r -> repeat(r, 45, 1448),
                        "INCREMENTING COALESCE open"),
                of("run one below 65535 bytes stays open", tcp4(), r -> repeat(r, 44, 1448),
                        "INCREMENTING COALESCE open"),
                of("smaller last segment brings the run to exactly 65535 bytes", tcp4(),
                        r -> fill(r, 45, 1448, 65535 - 40 - 45 * 1448), "INCREMENTING COALESCE SHORT_SEGMENT"),
                of("segment one byte too large for 65535 bytes", tcp4(),
                        r -> fill(r, 45, 1448, 65535 - 40 - 45 * 1448 + 1), "INCREMENTING FULL"),
                // 65535 - 40 = 5 x 13099: a full-size segment ends the run at exactly 65535 bytes.
                of("full-size segments fill exactly 65535 bytes", tcp4(), r -> repeat(r, 5, 13_099),
                        "INCREMENTING COALESCE FULL"),
                // IPv6 40 + UDP 8: 65535 - 48 = 3 x 21829.
                of("UDP datagrams fill exactly 65535 bytes", with(udp4(), s -> s.v6 = true),
                        r -> repeat(r, 3, 21_829), "UNDECIDED COALESCE FULL"),
                of("UDP smaller last datagram brings the run to exactly 65535 bytes", udp4(),
                        r -> fill(r, 16, 4000, 65535 - 28 - 16 * 4000), "INCREMENTING COALESCE SHORT_SEGMENT"),
                of("UDP run of 16 x 4000 stays open while a smaller datagram fits", udp4(), r -> repeat(r, 16, 4000),
                        "INCREMENTING COALESCE open"),
                // Outer IPv4 20 + UDP 8 + VXLAN 8 + Ethernet 14 + IPv4 20 + TCP 20 = 90 header bytes.
                of("VXLAN smaller last segment brings the outer datagram to exactly 65535 bytes",
                        with(tcp4(), s -> s.tunnel = Tunnel.VXLAN), r -> fill(r, 46, 1400, 65535 - 90 - 46 * 1400),
                        "INCREMENTING outer INCREMENTING COALESCE SHORT_SEGMENT"),
                of("VXLAN segment one byte too large for 65535 outer bytes",
                        with(tcp4(), s -> s.tunnel = Tunnel.VXLAN), r -> fill(r, 46, 1400, 65535 - 90 - 46 * 1400 + 1),
                        "INCREMENTING outer INCREMENTING FULL"),
                of("fixed IPv4 ID with DF", tcp4(), r -> List.of(r.next(1448), r.next(1448, null, r::fixedIds)),
                        "FIXED COALESCE open"),
                // inet_gro_flush no longer asks for DF ("net: gro: remove unnecessary df checks").
                of("fixed IPv4 ID without DF", with(tcp4(), s -> s.df = false),
                        r -> List.of(r.next(1448), r.next(1448, null, r::fixedIds), r.next(1448, null, r::fixedIds)),
                        "FIXED COALESCE open"),
                of("incrementing IPv4 ID without DF", with(tcp4(), s -> s.df = false), r -> repeat(r, 3, 1448),
                        "INCREMENTING COALESCE open"),
                of("fixed UDP IPv4 ID without DF", with(udp4(), s -> s.df = false),
                        r -> List.of(r.next(1200), r.next(1200, null, r::fixedIds)), "FIXED COALESCE open"),
                of("DF differs", tcp4(), r -> List.of(r.next(1448), r.next(1448, s -> s.df = false, null)),
                        "INCREMENTING MISMATCH"),
                of("fixed ID then an increment", tcp4(),
                        r -> List.of(r.next(1448), r.next(1448, null, r::fixedIds), r.next(1448)), "BROKEN MISMATCH"),
                // Each header has its own ip_fixedid bit (FIXEDID outer, FIXEDID_INNER inner).
                of("IPIP outer fixed, inner incrementing", with(tcp4(), s -> s.tunnel = Tunnel.IPIP),
                        r -> List.of(r.next(1448), r.next(1448, null, r::fixedOuterId),
                                r.next(1448, null, r::fixedOuterId)), "INCREMENTING outer FIXED COALESCE open"),
                of("IPIP outer incrementing, inner fixed", with(tcp4(), s -> s.tunnel = Tunnel.IPIP),
                        r -> List.of(r.next(1448), r.next(1448, null, r::fixedInnerId),
                                r.next(1448, null, r::fixedInnerId)), "FIXED outer INCREMENTING COALESCE open"),
                of("VXLAN outer fixed without DF, inner incrementing",
                        with(tcp4(), s -> { s.tunnel = Tunnel.VXLAN; s.df = false; }),
                        r -> List.of(r.next(1448), r.next(1448, null, r::fixedOuterId)),
                        "INCREMENTING outer FIXED COALESCE open"),
                of("IPIP outer fixed then incrementing", with(tcp4(), s -> s.tunnel = Tunnel.IPIP),
                        r -> List.of(r.next(1448), r.next(1448, null, r::fixedOuterId), r.next(1448)),
                        "INCREMENTING outer BROKEN MISMATCH"),
                of("IPv4 in IPv6: inner ID only", with(tcp4(), s -> { s.tunnel = Tunnel.IPIP; s.outerV6 = true; }),
                        r -> List.of(r.next(1448), r.next(1448, null, r::fixedIds)), "FIXED COALESCE open"),
                of("equal UDP datagrams", udp4(), r -> repeat(r, 2, 1200), "INCREMENTING COALESCE open"),
                of("shorter UDP datagram ends the run", udp4(), r -> List.of(r.next(1200), r.next(100)),
                        "INCREMENTING COALESCE SHORT_SEGMENT"),
                of("IPv6 has no ID", with(tcp4(), s -> s.v6 = true), r -> repeat(r, 2, 1448),
                        "UNDECIDED COALESCE open"),
                of("IPIP outer and inner IDs increment", with(tcp4(), s -> s.tunnel = Tunnel.IPIP),
                        r -> repeat(r, 2, 1448), "INCREMENTING outer INCREMENTING COALESCE open"),
                of("VXLAN run", with(tcp4(), s -> s.tunnel = Tunnel.VXLAN), r -> repeat(r, 3, 1448),
                        "INCREMENTING outer INCREMENTING COALESCE open"),
                // What does not continue the run.
                of("larger segment after the first", tcp4(), r -> List.of(r.next(1000), r.next(1448)),
                        "INCREMENTING MISMATCH"),
                of("sequence gap", tcp4(), r -> List.of(r.next(1448), r.next(1448, null, v -> v.seq += 1)),
                        "INCREMENTING MISMATCH"),
                of("IPv4 ID jumps", tcp4(), r -> List.of(r.next(1448), r.next(1448, null, v -> v.ipv4Id += 5)),
                        "BROKEN MISMATCH"),
                of("outer IPv4 ID jumps", with(tcp4(), s -> s.tunnel = Tunnel.IPIP),
                        r -> List.of(r.next(1448), r.next(1448), r.next(1448, null, v -> v.outerIpv4Id += 5)),
                        "INCREMENTING outer BROKEN MISMATCH"),
                of("unequal TTL", tcp4(), r -> List.of(r.next(1448), r.next(1448, s -> s.ttl = 63, null)),
                        "INCREMENTING MISMATCH"),
                of("unequal TOS", tcp4(), r -> List.of(r.next(1448), r.next(1448, s -> s.tos = 0x10, null)),
                        "INCREMENTING MISMATCH"),
                of("unequal traffic class", with(tcp4(), s -> s.v6 = true),
                        r -> List.of(r.next(1448), r.next(1448, s -> s.tos = 0x10, null)), "UNDECIDED MISMATCH"),
                of("unequal ACK", tcp4(), r -> List.of(r.next(1448), r.next(1448, s -> s.ack += 1, null)),
                        "INCREMENTING MISMATCH"),
                of("unequal window", tcp4(), r -> List.of(r.next(1448), r.next(1448, s -> s.window += 1, null)),
                        "INCREMENTING MISMATCH"),
                // AccECN kernels: CWR must be equal along a run, like the other flags (tcp_gro_receive without
                // the CWR flush, "gro: flushing when CWR is set negatively affects AccECN").
                of("CWR after the first", tcp4(), r -> List.of(r.next(1448), r.next(1448, null, flags(TestPacket.CWR))),
                        "INCREMENTING MISMATCH"),
                of("CWR segments join a CWR run", with(tcp4(), s -> s.tcpFlags |= TestPacket.CWR),
                        r -> repeat(r, 3, 1448), "INCREMENTING COALESCE open"),
                of("segment without CWR after a CWR run", with(tcp4(), s -> s.tcpFlags |= TestPacket.CWR),
                        r -> List.of(r.next(1448), r.next(1448), r.next(1448, s -> s.tcpFlags = TestPacket.ACK, null)),
                        "INCREMENTING MISMATCH"),
                of("unequal TCP options", with(tcp4(), s -> s.tcpOptionsLength = 12),
                        r -> List.of(r.next(1448), swap(r.next(1448), 20 + 20, 20 + 20 + 2)), "INCREMENTING MISMATCH"),
                // What is never held.
                of("SYN", tcp4(), r -> List.of(r.next(1448), r.next(1448, null, flags(TestPacket.SYN))),
                        "pass TCP_FLAGS"),
                of("URG", tcp4(), r -> List.of(r.next(1448), r.next(1448, null, flags(TestPacket.URG))),
                        "pass TCP_FLAGS"),
                of("pure ACK", tcp4(), r -> List.of(r.next(1448), r.next(0)), "pass NO_PAYLOAD"),
                of("IPv4 options", with(tcp4(), s -> s.ipv4OptionsLength = 4), r -> List.of(r.next(1448)),
                        "pass IP_OPTIONS"),
                of("bad TCP checksum", tcp4(), r -> List.of(r.next(1448), mutate(r.next(1448), 20 + 20 + 7)),
                        "pass BAD_CHECKSUM"),
                of("bad IPv4 header checksum", tcp4(), r -> List.of(r.next(1448), mutate(r.next(1448), 10)),
                        "pass BAD_CHECKSUM"),
                of("UDP without checksum", udp4(), r -> List.of(r.next(1200), zeroUdpChecksum(r.next(1200))),
                        "pass UDP_ZERO_CHECKSUM"));
    }

    /** {@code n} segments of {@code size} bytes, then one of {@code last} bytes. */
    private static List<Built> fill(RawRun r, int n, int size, int last) {
        List<Built> l = repeat(r, n, size);
        l.add(r.next(last));
        return l;
    }

    /** Flips one byte without fixing any checksum. */
    private static Built mutate(Built b, int offset) {
        b.bytes[offset] ^= 0x01;
        return b;
    }

    /**
     * Swaps two bytes at the same place of two 16-bit words: the bytes change but their ones-complement sum, and
     * so every checksum, does not.
     */
    private static Built swap(Built b, int i, int j) {
        byte t = b.bytes[i];
        if (t == b.bytes[j]) {
            throw new IllegalArgumentException("equal bytes at " + i + " and " + j);
        }
        b.bytes[i] = b.bytes[j];
        b.bytes[j] = t;
        return b;
    }

    private static Built zeroUdpChecksum(Built b) {
        b.bytes[UDP4_CHECKSUM_OFFSET] = 0;
        b.bytes[UDP4_CHECKSUM_OFFSET + 1] = 0;
        return b;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void rules(String name, TestPacket spec, Function<RawRun, List<Built>> packets, int maxSegments,
               String expected) throws PacketOffloadException {
        List<Built> built = packets.apply(new RawRun(spec));
        List<ByteBuf> bufs = new ArrayList<>();
        for (Built b : built) {
            bufs.add(Unpooled.wrappedBuffer(b.bytes));
        }
        PacketFlow f = new PacketFlow(maxSegments);
        PacketKey k = new PacketKey();
        String outcome = null;
        try {
            for (int i = 0; i < bufs.size(); i++) {
                boolean last = i == bufs.size() - 1;
                k.parse(bufs.get(i), LinkType.RAW_IP, PacketGroConfig.DEFAULT_VXLAN_PORT);
                PacketPassReason reason = PacketRules.holdReason(k);
                if (reason == null) {
                    k.sumL4(bufs.get(i));
                    reason = PacketRules.checksumReason(k);
                }
                if (reason != null) {
                    assertSame(true, last, name + ": packet " + i + " not held: " + reason);
                    outcome = "pass " + reason;
                    break;
                }
                if (i == 0) {
                    assertNull(PacketRules.startReason(k), name);
                    f.start(k, PacketRules.maxIpLength(k, 0));
                    f.append(k, IdSequence.UNDECIDED, IdSequence.UNDECIDED);
                    continue;
                }
                int limit = maxSegments;
                IdSequence ids = PacketRules.idSequence(f, k);
                IdSequence outerIds = PacketRules.outerIdSequence(f, k);
                String idText = ids + (f.tunnel != TunnelType.NONE && f.outerVersion == 4 ? " outer " + outerIds : "");
                CoalesceResult r = PacketRules.canCoalesce(f, k, ids, outerIds, limit);
                if (r != CoalesceResult.COALESCE) {
                    assertSame(true, last, name + ": packet " + i + " did not join: " + idText + ' ' + r);
                    outcome = idText + " " + r;
                    break;
                }
                f.append(k, ids, outerIds);
                PacketFlushReason end = PacketRules.flushAfterJoin(f, k, limit);
                if (!last) {
                    assertNull(end, name + ": run ended at packet " + i);
                }
                outcome = idText + " " + r + ' ' + (end == null ? "open" : end.toString());
            }
            assertEquals(expected, outcome, name);
        } finally {
            f.clear();
            for (ByteBuf b : bufs) {
                b.release();
            }
        }
    }
}
