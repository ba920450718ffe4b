package dev.nettyoffload.testkit;

import java.util.List;

import static dev.nettyoffload.testkit.RefChecksum.put16;
import static dev.nettyoffload.testkit.RefChecksum.put32;

/**
 * Builds test packets of every shape byte by byte, independently of the production parser and writer: an
 * optional Ethernet header with VLAN tags, an optional tunnel (VXLAN, IPIP/SIT/6in6, GRE with checksum, key
 * or TEB), IPv4 with options or IPv6 with extension headers and jumbogram, and TCP with options or UDP.
 * <p>
 * A spec is a mutable bag of public fields; {@link #build} writes the packet for a payload and a
 * {@link Variant} (the per-segment values), with every length and checksum computed by {@link RefChecksum}.
 * The recorded {@link Field}s name each header field by offset, so that a mismatch can be reported by name.
 * <p>
 * This class holds the spec, the per-segment rules and the transport header; the packet grows from the payload
 * outwards in a {@link PacketChunk}, with the IP and Ethernet headers from {@link EthernetAndIpHeaders} and
 * the tunnel from {@link TunnelHeaders}.
 */
public final class TestPacket {
    /** Tunnel shapes. */
    public enum Tunnel { NONE, VXLAN, IPIP, GRE }

    /** How the IPv6 jumbo payload option appears in a built packet. */
    public enum Jumbo { NONE, OPTION, PADN }

    public static final int FIN = 0x01;
    public static final int SYN = 0x02;
    public static final int PSH = 0x08;
    public static final int ACK = 0x10;
    public static final int URG = 0x20;
    public static final int ECE = 0x40;
    public static final int CWR = 0x80;

    public boolean ethernet;
    public int vlanTags;
    public Tunnel tunnel = Tunnel.NONE;
    public boolean outerV6;
    public boolean outerUdpChecksum = true;
    public boolean greChecksum;
    public boolean greKey;
    public boolean greTeb;
    public int innerVlanTags;
    public boolean v6;
    public int ipv4OptionsLength;
    public boolean hopByHop;
    public boolean routing;
    public boolean destinationOptions;
    public boolean jumbo;
    public boolean tcp = true;
    public int tcpOptionsLength;
    public int tcpFlags = ACK | PSH;
    public long seq = 1_000_000L;
    public long ack = 77_777L;
    public int window = 502;
    public int ipv4Id = 0x1234;
    public int outerIpv4Id = 0x4321;
    public int ttl = 64;
    public int tos;
    /** Don't Fragment on every IPv4 header (inner and outer). */
    public boolean df = true;
    public int srcPort = 40000;
    public int dstPort = 8080;

    /** The per-segment values of one built packet. */
    public static final class Variant {
        public long seq;
        public int flags;
        public int ipv4Id;
        public int outerIpv4Id;
        public Jumbo jumbo = Jumbo.NONE;
        /** Inner L4 checksum holds the folded pseudo-header sum (partial), not the complete checksum. */
        public boolean partial;
    }

    /** A named header field in a built packet. */
    public static final class Field {
        public final String name;
        public final int offset;
        public final int length;

        Field(String name, int offset, int length) {
            this.name = name;
            this.offset = offset;
            this.length = length;
        }

        @Override
        public String toString() {
            return name + "@" + offset;
        }
    }

    /** A built packet with its named fields and where its L4 payload starts. */
    public static final class Built {
        public final byte[] bytes;
        public final List<Field> fields;
        public final int payloadOffset;

        Built(byte[] bytes, List<Field> fields, int payloadOffset) {
            this.bytes = bytes;
            this.fields = fields;
            this.payloadOffset = payloadOffset;
        }

        /** The name of the field covering {@code offset}, or "payload"/"unnamed". */
        public String fieldAt(int offset) {
            String best = offset >= payloadOffset ? "payload" : "unnamed header byte";
            int bestLen = Integer.MAX_VALUE;
            for (Field f : fields) {
                if (offset >= f.offset && offset < f.offset + f.length && f.length < bestLen) {
                    best = f.name;
                    bestLen = f.length;
                }
            }
            return best;
        }

        /** The offset of the named field; throws if absent. */
        public int offsetOf(String name) {
            for (Field f : fields) {
                if (f.name.equals(name)) {
                    return f.offset;
                }
            }
            throw new IllegalArgumentException("no field " + name + " in " + fields);
        }
    }

    /** A copy of this spec. */
    public TestPacket copy() {
        TestPacket c = new TestPacket();
        c.ethernet = ethernet;
        c.vlanTags = vlanTags;
        c.tunnel = tunnel;
        c.outerV6 = outerV6;
        c.outerUdpChecksum = outerUdpChecksum;
        c.greChecksum = greChecksum;
        c.greKey = greKey;
        c.greTeb = greTeb;
        c.innerVlanTags = innerVlanTags;
        c.v6 = v6;
        c.ipv4OptionsLength = ipv4OptionsLength;
        c.hopByHop = hopByHop;
        c.routing = routing;
        c.destinationOptions = destinationOptions;
        c.jumbo = jumbo;
        c.tcp = tcp;
        c.tcpOptionsLength = tcpOptionsLength;
        c.tcpFlags = tcpFlags;
        c.seq = seq;
        c.ack = ack;
        c.window = window;
        c.ipv4Id = ipv4Id;
        c.outerIpv4Id = outerIpv4Id;
        c.ttl = ttl;
        c.tos = tos;
        c.df = df;
        c.srcPort = srcPort;
        c.dstPort = dstPort;
        return c;
    }

    /** The variant of the large packet itself. */
    public Variant original() {
        Variant v = new Variant();
        v.seq = seq;
        v.flags = tcpFlags;
        v.ipv4Id = ipv4Id;
        v.outerIpv4Id = outerIpv4Id;
        v.jumbo = jumbo ? Jumbo.OPTION : Jumbo.NONE;
        return v;
    }

    /**
     * The variant of segment {@code index} of {@code count} with {@code segmentSize}, by the rules of DESIGN
     * section 5, written out independently of the segmenter.
     */
    public Variant segment(int index, int count, int segmentSize, boolean fixedId, boolean partial) {
        return segment(index, count, segmentSize, fixedId, fixedId, false, partial);
    }

    /**
     * The variant of segment {@code index}, with the inner (or only) and the outer IPv4 ID modes apart and CWR
     * either on the first segment only or on every segment (AccECN).
     */
    public Variant segment(int index, int count, int segmentSize, boolean fixedId, boolean outerFixedId,
                           boolean cwrOnEverySegment, boolean partial) {
        Variant v = new Variant();
        v.seq = (seq + (long) index * segmentSize) & 0xFFFFFFFFL;
        int f = tcpFlags;
        if (count > 1) {
            if (index != count - 1) {
                f &= ~(FIN | PSH);
            }
            if (index != 0 && !cwrOnEverySegment) {
                f &= ~CWR;
            }
        }
        v.flags = f;
        v.ipv4Id = fixedId ? ipv4Id : (ipv4Id + index) & 0xFFFF;
        v.outerIpv4Id = outerFixedId ? outerIpv4Id : (outerIpv4Id + index) & 0xFFFF;
        v.jumbo = jumbo && hopByHop ? Jumbo.PADN : Jumbo.NONE;
        v.partial = partial;
        return v;
    }

    public static byte[] innerSrc4() {
        return new byte[] {10, 81, 1, 1};
    }

    public static byte[] innerDst4() {
        return new byte[] {10, 81, 1, 2};
    }

    public static byte[] outerSrc4() {
        return new byte[] {10, 81, 2, 1};
    }

    public static byte[] outerDst4() {
        return new byte[] {10, 81, 2, 2};
    }

    static byte[] v6(int group, int last) {
        byte[] a = new byte[16];
        a[0] = (byte) 0xfd;
        a[1] = (byte) 0x81;
        a[2] = (byte) (group >>> 8);
        a[3] = (byte) group;
        a[15] = (byte) last;
        return a;
    }

    /** The home address of the type 2 routing header: the final destination in the pseudo-header. */
    public static byte[] homeAddress() {
        return v6(9, 9);
    }

    /** Builds the packet for {@code payload} with the values of {@code v}. */
    public Built build(byte[] payload, Variant v) {
        PacketChunk c = new PacketChunk(payload);
        // Transport header.
        byte[] src = v6 ? v6(1, 1) : innerSrc4();
        byte[] dst = v6 ? v6(1, 2) : innerDst4();
        byte[] pseudoDst = v6 && routing ? homeAddress() : dst;
        int l4Length;
        int partialValue;
        if (tcp) {
            int hl = 20 + tcpOptionsLength;
            byte[] h = new byte[hl];
            put16(h, 0, srcPort);
            put16(h, 2, dstPort);
            put32(h, 4, v.seq);
            put32(h, 8, ack);
            h[12] = (byte) ((hl / 4) << 4);
            h[13] = (byte) v.flags;
            put16(h, 14, window);
            put16(h, 18, (v.flags & URG) != 0 ? 7 : 0);
            fillTcpOptions(h, 20, tcpOptionsLength);
            c.prepend(h, new Field("TCP ports", 0, 4), new Field("TCP seq", 4, 4), new Field("TCP ack", 8, 4),
                    new Field("TCP flags", 13, 1), new Field("TCP window", 14, 2), new Field("TCP checksum", 16, 2),
                    new Field("TCP options", 20, tcpOptionsLength));
            l4Length = c.length();
            long s = RefChecksum.sum(c.bytes, 0, c.length(), RefChecksum.pseudo(src, pseudoDst, 6, l4Length));
            put16(c.bytes, 16, RefChecksum.checksum(s));
            partialValue = RefChecksum.fold(RefChecksum.pseudo(src, pseudoDst, 6, l4Length));
        } else {
            byte[] h = new byte[8];
            put16(h, 0, srcPort);
            put16(h, 2, dstPort);
            c.prepend(h, new Field("UDP ports", 0, 4), new Field("UDP length", 4, 2), new Field("UDP checksum", 6, 2));
            l4Length = c.length();
            put16(c.bytes, 4, l4Length > 65535 ? 0 : l4Length);
            long s = RefChecksum.sum(c.bytes, 0, c.length(), RefChecksum.pseudo(src, pseudoDst, 17, l4Length));
            int ck = RefChecksum.checksum(s);
            put16(c.bytes, 6, ck == 0 ? 0xFFFF : ck);
            partialValue = RefChecksum.fold(RefChecksum.pseudo(src, pseudoDst, 17, l4Length));
        }
        int protocol = tcp ? 6 : 17;
        c.payloadOffset = c.length() - payload.length;
        if (v6) {
            EthernetAndIpHeaders.prependIpv6(c, this, protocol, v.jumbo, src, dst, "inner ");
        } else {
            EthernetAndIpHeaders.prependIpv4(c, this, protocol, src, dst, v.ipv4Id, ipv4OptionsLength, "inner ");
        }
        TunnelHeaders.prepend(c, this, v);
        if (ethernet) {
            int first = tunnel == Tunnel.NONE ? (v6 ? 0x86DD : 0x0800) : (outerV6 ? 0x86DD : 0x0800);
            EthernetAndIpHeaders.prependEthernet(c, first, vlanTags, "");
        }
        Built b = new Built(c.bytes, c.fields, c.payloadOffset);
        if (v.partial) {
            // Outer checksums above were computed over the complete inner checksum, as local checksum offload
            // requires; only now does the inner field become the bare pseudo-header sum.
            put16(b.bytes, b.offsetOf(tcp ? "TCP checksum" : "UDP checksum"), partialValue);
        }
        return b;
    }

    private static void fillTcpOptions(byte[] h, int at, int length) {
        int end = at + length;
        if (length >= 12) {
            h[at] = 1;
            h[at + 1] = 1;
            h[at + 2] = 8;
            h[at + 3] = 10;
            put32(h, at + 4, 0x01020304L);
            put32(h, at + 8, 0x0A0B0C0DL);
            at += 12;
        }
        while (at < end) {
            h[at++] = 1;
        }
    }
}
