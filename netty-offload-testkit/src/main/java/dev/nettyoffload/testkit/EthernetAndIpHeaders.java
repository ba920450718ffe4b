package dev.nettyoffload.testkit;

import dev.nettyoffload.testkit.TestPacket.Field;
import dev.nettyoffload.testkit.TestPacket.Jumbo;

import java.util.ArrayList;
import java.util.List;

import static dev.nettyoffload.testkit.RefChecksum.put16;
import static dev.nettyoffload.testkit.RefChecksum.put32;

/**
 * The link and network headers of a {@link TestPacket}, each prepended to a {@link PacketChunk} with its lengths
 * and checksum filled in and its fields named: Ethernet with VLAN tags, IPv4 with options, and IPv6 with the
 * extension headers the spec asks for (destination options, a type 2 routing header, Hop-by-Hop with a Router
 * Alert and the jumbo payload option or its padding). Used for both the inner and the outer headers.
 */
final class EthernetAndIpHeaders {
    private EthernetAndIpHeaders() {
    }

    static void prependIpv4(PacketChunk c, TestPacket spec, int protocol, byte[] src, byte[] dst, int id,
                            int optionsLength, String which) {
        int hl = 20 + optionsLength;
        byte[] h = new byte[hl];
        h[0] = (byte) (0x40 | (hl / 4));
        h[1] = (byte) spec.tos;
        put16(h, 2, hl + c.length());
        put16(h, 4, id);
        put16(h, 6, spec.df ? 0x4000 : 0);
        h[8] = (byte) spec.ttl;
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

    static void prependIpv6(PacketChunk c, TestPacket spec, int protocol, Jumbo jumboMode, byte[] src,
                            byte[] dst, String which) {
        int next = protocol;
        if (spec.destinationOptions) {
            byte[] d = new byte[8];
            d[0] = (byte) next;
            d[2] = 1; // PadN of 4
            d[3] = 4;
            c.prepend(d, new Field(which + "IPv6 destination options", 0, 8));
            next = 60;
        }
        if (spec.routing) {
            byte[] r = new byte[24];
            r[0] = (byte) next;
            r[1] = 2;
            r[2] = 2; // type 2 (RFC 6275)
            r[3] = 1;
            System.arraycopy(TestPacket.homeAddress(), 0, r, 8, 16);
            c.prepend(r, new Field(which + "IPv6 routing header", 0, 24));
            next = 43;
        }
        if (spec.hopByHop || jumboMode != Jumbo.NONE) {
            List<byte[]> options = new ArrayList<>();
            if (spec.hopByHop) {
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
            int total = hbhLength(spec.hopByHop ? 4 : 0, jumboMode != Jumbo.NONE);
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
                put32(h, 2 + (spec.hopByHop ? 4 : 0) + 2, c.length() + total);
            }
            c.prepend(h, new Field(which + "IPv6 hop-by-hop", 0, total));
            next = 0;
        }
        byte[] h = new byte[40];
        h[0] = (byte) (0x60 | (spec.tos >>> 4));
        h[1] = (byte) ((spec.tos & 0x0F) << 4);
        h[3] = 0x42; // flow label
        int payloadLength = c.length();
        put16(h, 4, jumboMode == Jumbo.OPTION ? 0 : payloadLength);
        h[6] = (byte) next;
        h[7] = (byte) spec.ttl;
        System.arraycopy(src, 0, h, 8, 16);
        System.arraycopy(dst, 0, h, 24, 16);
        c.prepend(h, new Field(which + "IPv6 payload length", 4, 2), new Field(which + "IPv6 next header", 6, 1),
                new Field(which + "IPv6 header", 0, 40));
    }

    private static int hbhLength(int otherOptions, boolean jumboOrPad) {
        int raw = 2 + otherOptions + (jumboOrPad ? 6 : 0);
        return (raw + 7) / 8 * 8;
    }

    static void prependEthernet(PacketChunk c, int etherType, int tags, String which) {
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
}
