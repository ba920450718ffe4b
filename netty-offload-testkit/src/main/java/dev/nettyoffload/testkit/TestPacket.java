package dev.nettyoffload.testkit;

import java.util.ArrayList;
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
        Chunk c = new Chunk(payload);
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
            prependIpv6Extensions(c, protocol, v.jumbo, src, dst, "inner ");
        } else {
            prependIpv4(c, protocol, src, dst, v.ipv4Id, ipv4OptionsLength, "inner ");
        }
        switch (tunnel) {
            case VXLAN: {
                prependEthernet(c, v6 ? 0x86DD : 0x0800, innerVlanTags, "inner ");
                byte[] vx = new byte[8];
                vx[0] = 0x08;
                vx[4] = 0x00;
                vx[5] = 0x12;
                vx[6] = 0x34;
                c.prepend(vx, new Field("VXLAN header", 0, 8));
                byte[] u = new byte[8];
                put16(u, 0, 51000);
                put16(u, 2, 4789);
                c.prepend(u, new Field("outer UDP ports", 0, 4), new Field("outer UDP length", 4, 2),
                        new Field("outer UDP checksum", 6, 2));
                put16(c.bytes, 4, c.length());
                if (outerUdpChecksum) {
                    byte[] os = outerV6 ? v6(2, 1) : outerSrc4();
                    byte[] od = outerV6 ? v6(2, 2) : outerDst4();
                    int ck = RefChecksum.checksum(RefChecksum.sum(c.bytes, 0, c.length(),
                            RefChecksum.pseudo(os, od, 17, c.length())));
                    put16(c.bytes, 6, ck == 0 ? 0xFFFF : ck);
                }
                prependOuter(c, 17, v);
                break;
            }
            case GRE: {
                if (greTeb) {
                    prependEthernet(c, v6 ? 0x86DD : 0x0800, innerVlanTags, "inner ");
                }
                int len = 4 + (greChecksum ? 4 : 0) + (greKey ? 4 : 0);
                byte[] g = new byte[len];
                put16(g, 0, (greChecksum ? 0x8000 : 0) | (greKey ? 0x2000 : 0));
                put16(g, 2, greTeb ? 0x6558 : v6 ? 0x86DD : 0x0800);
                if (greKey) {
                    put32(g, len - 4, 0xCAFE_F00DL);
                }
                List<Field> fs = new ArrayList<>();
                fs.add(new Field("GRE flags+protocol", 0, 4));
                if (greChecksum) {
                    fs.add(new Field("GRE checksum", 4, 2));
                }
                c.prepend(g, fs.toArray(new Field[0]));
                if (greChecksum) {
                    put16(c.bytes, 4, RefChecksum.checksum(RefChecksum.sum(c.bytes, 0, c.length(), 0)));
                }
                prependOuter(c, 47, v);
                break;
            }
            case IPIP:
                prependOuter(c, v6 ? 41 : 4, v);
                break;
            default:
                break;
        }
        if (ethernet) {
            int first = tunnel == Tunnel.NONE ? (v6 ? 0x86DD : 0x0800) : (outerV6 ? 0x86DD : 0x0800);
            prependEthernet(c, first, vlanTags, "");
        }
        Built b = new Built(c.bytes, c.fields, c.payloadOffset);
        if (v.partial) {
            // Outer checksums above were computed over the complete inner checksum, as local checksum offload
            // requires; only now does the inner field become the bare pseudo-header sum.
            put16(b.bytes, b.offsetOf(tcp ? "TCP checksum" : "UDP checksum"), partialValue);
        }
        return b;
    }

    private void prependOuter(Chunk c, int protocol, Variant v) {
        if (outerV6) {
            byte[] h = new byte[40];
            h[0] = 0x60;
            put16(h, 4, c.length());
            h[6] = (byte) protocol;
            h[7] = (byte) ttl;
            System.arraycopy(v6(2, 1), 0, h, 8, 16);
            System.arraycopy(v6(2, 2), 0, h, 24, 16);
            c.prepend(h, new Field("outer IPv6 payload length", 4, 2), new Field("outer IPv6 header", 0, 40));
        } else {
            prependIpv4(c, protocol, outerSrc4(), outerDst4(), v.outerIpv4Id, 0, "outer ");
        }
    }

    private void prependIpv4(Chunk c, int protocol, byte[] src, byte[] dst, int id, int optionsLength, String which) {
        int hl = 20 + optionsLength;
        byte[] h = new byte[hl];
        h[0] = (byte) (0x40 | (hl / 4));
        h[1] = (byte) tos;
        put16(h, 2, hl + c.length());
        put16(h, 4, id);
        put16(h, 6, df ? 0x4000 : 0);
        h[8] = (byte) ttl;
        h[9] = (byte) protocol;
        System.arraycopy(src, 0, h, 12, 4);
        System.arraycopy(dst, 0, h, 16, 4);
        if (optionsLength > 0) {
            // Router Alert (RFC 2113) then NOPs.
            h[20] = (byte) 148;
            h[21] = 4;
            for (int i = 24; i < hl; i++) {
                h[i] = 1;
            }
        }
        put16(h, 10, RefChecksum.checksum(RefChecksum.sum(h, 0, hl, 0)));
        c.prepend(h, new Field(which + "IPv4 total length", 2, 2), new Field(which + "IPv4 ID", 4, 2),
                new Field(which + "IPv4 checksum", 10, 2), new Field(which + "IPv4 header", 0, hl));
    }

    private void prependIpv6Extensions(Chunk c, int protocol, Jumbo jumboMode, byte[] src, byte[] dst,
                                       String which) {
        int next = protocol;
        if (destinationOptions) {
            byte[] d = new byte[8];
            d[0] = (byte) next;
            d[2] = 1; // PadN of 4
            d[3] = 4;
            c.prepend(d, new Field(which + "IPv6 destination options", 0, 8));
            next = 60;
        }
        if (routing) {
            byte[] r = new byte[24];
            r[0] = (byte) next;
            r[1] = 2;
            r[2] = 2; // type 2 (RFC 6275)
            r[3] = 1;
            System.arraycopy(homeAddress(), 0, r, 8, 16);
            c.prepend(r, new Field(which + "IPv6 routing header", 0, 24));
            next = 43;
        }
        if (hopByHop || jumboMode != Jumbo.NONE) {
            List<byte[]> options = new ArrayList<>();
            if (hopByHop) {
                options.add(new byte[] {5, 2, 0, 0}); // Router Alert (RFC 2711)
            }
            if (jumboMode == Jumbo.OPTION) {
                options.add(new byte[] {(byte) 0xC2, 4, 0, 0, 0, 0}); // value written below
            } else if (jumboMode == Jumbo.PADN) {
                options.add(new byte[] {1, 4, 0, 0, 0, 0});
            }
            int optLen = 0;
            for (byte[] o : options) {
                optLen += o.length;
            }
            int total = hbhLength(hopByHop ? 4 : 0, jumboMode != Jumbo.NONE);
            byte[] h = new byte[total];
            h[0] = (byte) next;
            h[1] = (byte) (total / 8 - 1);
            int at = 2;
            for (byte[] o : options) {
                System.arraycopy(o, 0, h, at, o.length);
                at += o.length;
            }
            if (total - at >= 2) {
                h[at] = 1;
                h[at + 1] = (byte) (total - at - 2);
            } else if (total - at == 1) {
                h[at] = 0;
            }
            if (jumboMode == Jumbo.OPTION) {
                // The jumbo length counts everything after the IPv6 header, this header included.
                put32(h, 2 + (hopByHop ? 4 : 0) + 2, c.length() + total);
            }
            c.prepend(h, new Field(which + "IPv6 hop-by-hop", 0, total));
            next = 0;
        }
        byte[] h = new byte[40];
        h[0] = (byte) (0x60 | (tos >>> 4));
        h[1] = (byte) ((tos & 0x0F) << 4);
        h[3] = 0x42; // flow label
        int payloadLength = c.length();
        put16(h, 4, jumboMode == Jumbo.OPTION ? 0 : payloadLength);
        h[6] = (byte) next;
        h[7] = (byte) ttl;
        System.arraycopy(src, 0, h, 8, 16);
        System.arraycopy(dst, 0, h, 24, 16);
        c.prepend(h, new Field(which + "IPv6 payload length", 4, 2), new Field(which + "IPv6 next header", 6, 1),
                new Field(which + "IPv6 header", 0, 40));
    }

    private static int hbhLength(int otherOptions, boolean jumboOrPad) {
        int raw = 2 + otherOptions + (jumboOrPad ? 6 : 0);
        return (raw + 7) / 8 * 8;
    }

    private static void prependEthernet(Chunk c, int etherType, int tags, String which) {
        byte[] h = new byte[14 + 4 * tags];
        for (int i = 0; i < 6; i++) {
            h[i] = (byte) (0x02 + i);
            h[6 + i] = (byte) (0x12 + i);
        }
        int at = 12;
        for (int t = 0; t < tags; t++) {
            put16(h, at, t == 0 && tags == 2 ? 0x88A8 : 0x8100);
            put16(h, at + 2, 100 + t);
            at += 4;
        }
        put16(h, at, etherType);
        c.prepend(h, new Field(which + "Ethernet header", 0, h.length));
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

    /** A packet under construction from the inside out; prepending shifts the recorded fields. */
    private static final class Chunk {
        byte[] bytes;
        final List<Field> fields = new ArrayList<>();
        int payloadOffset;

        Chunk(byte[] payload) {
            bytes = payload.clone();
        }

        int length() {
            return bytes.length;
        }

        void prepend(byte[] header, Field... headerFields) {
            byte[] n = new byte[header.length + bytes.length];
            System.arraycopy(header, 0, n, 0, header.length);
            System.arraycopy(bytes, 0, n, header.length, bytes.length);
            bytes = n;
            List<Field> shifted = new ArrayList<>();
            for (Field f : headerFields) {
                shifted.add(f);
            }
            for (Field f : fields) {
                shifted.add(new Field(f.name, f.offset + header.length, f.length));
            }
            fields.clear();
            fields.addAll(shifted);
            payloadOffset += header.length;
        }
    }
}
