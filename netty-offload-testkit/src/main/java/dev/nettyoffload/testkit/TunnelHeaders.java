package dev.nettyoffload.testkit;

import dev.nettyoffload.testkit.TestPacket.Field;
import dev.nettyoffload.testkit.TestPacket.Variant;

import java.util.ArrayList;
import java.util.List;

import static dev.nettyoffload.testkit.RefChecksum.put16;
import static dev.nettyoffload.testkit.RefChecksum.put32;

/**
 * The tunnel of a {@link TestPacket}: prepended to the finished inner packet (VXLAN with its inner Ethernet and
 * outer UDP, GRE with checksum, key or TEB, or plain IPIP), then the outer IPv4 or IPv6 header. The outer
 * checksums cover the inner packet as built, so the tunnel must be added after the inner headers are complete.
 */
final class TunnelHeaders {
    private TunnelHeaders() {
    }

    /** Prepends the spec's tunnel headers and outer IP header; nothing without a tunnel. */
    static void prepend(PacketChunk c, TestPacket spec, Variant v) {
        switch (spec.tunnel) {
            case VXLAN: {
                EthernetAndIpHeaders.prependEthernet(c, spec.v6 ? 0x86DD : 0x0800, spec.innerVlanTags, "inner ");
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
                if (spec.outerUdpChecksum) {
                    byte[] os = spec.outerV6 ? TestPacket.v6(2, 1) : TestPacket.outerSrc4();
                    byte[] od = spec.outerV6 ? TestPacket.v6(2, 2) : TestPacket.outerDst4();
                    int ck = RefChecksum.checksum(RefChecksum.sum(c.bytes, 0, c.length(),
                            RefChecksum.pseudo(os, od, 17, c.length())));
                    put16(c.bytes, 6, ck == 0 ? 0xFFFF : ck);
                }
                prependOuter(c, spec, 17, v);
                break;
            }
            case GRE: {
                if (spec.greTeb) {
                    EthernetAndIpHeaders.prependEthernet(c, spec.v6 ? 0x86DD : 0x0800, spec.innerVlanTags, "inner ");
                }
                int len = 4 + (spec.greChecksum ? 4 : 0) + (spec.greKey ? 4 : 0);
                byte[] g = new byte[len];
                put16(g, 0, (spec.greChecksum ? 0x8000 : 0) | (spec.greKey ? 0x2000 : 0));
                put16(g, 2, spec.greTeb ? 0x6558 : spec.v6 ? 0x86DD : 0x0800);
                if (spec.greKey) {
                    put32(g, len - 4, 0xCAFE_F00DL);
                }
                List<Field> fs = new ArrayList<>();
                fs.add(new Field("GRE flags+protocol", 0, 4));
                if (spec.greChecksum) {
                    fs.add(new Field("GRE checksum", 4, 2));
                }
                c.prepend(g, fs.toArray(new Field[0]));
                if (spec.greChecksum) {
                    put16(c.bytes, 4, RefChecksum.checksum(RefChecksum.sum(c.bytes, 0, c.length(), 0)));
                }
                prependOuter(c, spec, 47, v);
                break;
            }
            case IPIP:
                prependOuter(c, spec, spec.v6 ? 41 : 4, v);
                break;
            default:
                break;
        }
    }

    private static void prependOuter(PacketChunk c, TestPacket spec, int protocol, Variant v) {
        if (spec.outerV6) {
            byte[] h = new byte[40];
            h[0] = 0x60;
            put16(h, 4, c.length());
            h[6] = (byte) protocol;
            h[7] = (byte) spec.ttl;
            System.arraycopy(TestPacket.v6(2, 1), 0, h, 8, 16);
            System.arraycopy(TestPacket.v6(2, 2), 0, h, 24, 16);
            c.prepend(h, new Field("outer IPv6 payload length", 4, 2), new Field("outer IPv6 header", 0, 40));
        } else {
            EthernetAndIpHeaders.prependIpv4(c, spec, protocol, TestPacket.outerSrc4(), TestPacket.outerDst4(),
                    v.outerIpv4Id, 0, "outer ");
        }
    }
}
