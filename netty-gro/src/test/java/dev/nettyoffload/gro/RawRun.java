package dev.nettyoffload.gro;

import dev.nettyoffload.testkit.RefChecksum;
import dev.nettyoffload.testkit.TestPacket;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;

/**
 * Builds the packets of one sender's stream with {@link TestPacket}: consecutive TCP segments (sequence numbers
 * and IPv4 IDs advance) or UDP datagrams, each optionally with one spec field, one variant field or raw bytes
 * changed, every length and checksum computed by the builder unless a byte mutation breaks it on purpose.
 */
final class RawRun {
    final TestPacket spec;
    long seq;
    int id;
    int outerId;
    /** A number a case computes while building its packets and states in its expected outputs. */
    int note;
    private int fill;

    RawRun(TestPacket spec) {
        this.spec = spec;
        this.seq = spec.seq;
        this.id = spec.ipv4Id;
        this.outerId = spec.outerIpv4Id;
    }

    /** A payload of {@code length} bytes of a running pattern. */
    byte[] payload(int length) {
        byte[] p = new byte[length];
        for (int i = 0; i < length; i++) {
            p[i] = (byte) (fill * 7 + (fill >>> 8));
            fill++;
        }
        return p;
    }

    /** The next segment with {@code length} payload bytes and the spec's flags. */
    TestPacket.Built next(int length) {
        return next(length, null, null);
    }

    /**
     * The next segment; {@code specChange} edits a copy of the spec (TTL, TOS, window...), {@code variantChange}
     * the per-packet values (flags, seq, ID). Sequence number and IDs advance as a sender's would.
     */
    TestPacket.Built next(int length, Consumer<TestPacket> specChange, Consumer<TestPacket.Variant> variantChange) {
        TestPacket s = spec;
        if (specChange != null) {
            s = spec.copy();
            specChange.accept(s);
        }
        TestPacket.Variant v = s.original();
        v.seq = seq;
        v.ipv4Id = id;
        v.outerIpv4Id = outerId;
        v.flags = s.tcpFlags;
        if (variantChange != null) {
            variantChange.accept(v);
        }
        TestPacket.Built b = s.build(payload(length), v);
        seq = (v.seq + length) & 0xFFFFFFFFL;
        id = (v.ipv4Id + 1) & 0xFFFF;
        outerId = (v.outerIpv4Id + 1) & 0xFFFF;
        return b;
    }

    /** Gives a packet the first packet's IPv4 IDs (inner and outer): the fixed-ID mode of RFC 6864. */
    void fixedIds(TestPacket.Variant v) {
        v.ipv4Id = spec.ipv4Id;
        v.outerIpv4Id = spec.outerIpv4Id;
    }

    /** Gives a packet the first packet's outer IPv4 ID only; the inner one keeps incrementing. */
    void fixedOuterId(TestPacket.Variant v) {
        v.outerIpv4Id = spec.outerIpv4Id;
    }

    /** Gives a packet the first packet's inner (or only) IPv4 ID only; the outer one keeps incrementing. */
    void fixedInnerId(TestPacket.Variant v) {
        v.ipv4Id = spec.ipv4Id;
    }

    /**
     * {@code flows} senders of random shapes ({@link PacketGroRoundTripTest#randomSpec}), all Ethernet or all raw
     * IP, plain ACK segments, source ports from 3000 up.
     */
    static List<RawRun> randomFlows(Random r, int flows, boolean ethernet) {
        List<RawRun> runs = new ArrayList<>();
        for (int i = 0; i < flows; i++) {
            TestPacket s = PacketGroRoundTripTest.randomSpec(r, false);
            s.ethernet = ethernet;
            s.srcPort = 3000 + i;
            s.tcpFlags = TestPacket.ACK;
            runs.add(new RawRun(s));
        }
        return runs;
    }

    /** Recomputes the IPv4 header checksum of the header at {@code offset} after a byte mutation. */
    static void fixIpv4Checksum(byte[] b, int offset) {
        int hl = (b[offset] & 0x0F) * 4;
        RefChecksum.put16(b, offset + 10, 0);
        RefChecksum.put16(b, offset + 10, RefChecksum.checksum(RefChecksum.sum(b, offset, hl, 0)));
    }
}
