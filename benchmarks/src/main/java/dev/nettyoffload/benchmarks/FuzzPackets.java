package dev.nettyoffload.benchmarks;

import dev.nettyoffload.testkit.RefChecksum;
import dev.nettyoffload.testkit.TestPacket;

import java.util.Arrays;
import java.util.Random;

/**
 * What {@link PacketFuzz} feeds the aggregator: random packet shapes, one stream of valid packets per flow whose
 * every field a merge rule looks at is random, and the hostile mutations of valid packets. All randomness comes
 * from the {@link Random} passed in, so that a seed replays a run.
 */
final class FuzzPackets {
    private FuzzPackets() {
    }

    /** Packet shapes; each iteration draws one per flow. */
    enum Shape { IPV4, IPV6, IPV4_OPTIONS, IPV6_EXTENSIONS, IPIP, IP6IP6, SIT, VXLAN4, VXLAN6, GRE, ETHERNET_VLAN }

    /** A random spec of {@code shape}: every field a merge rule looks at gets a random value. */
    static TestPacket spec(Shape shape, boolean ethernet, int srcPort, Random r) {
        TestPacket s = new TestPacket();
        s.tcp = r.nextInt(4) != 0;
        s.ethernet = ethernet;
        switch (shape) {
            case IPV6: s.v6 = true; break;
            case IPV4_OPTIONS: s.ipv4OptionsLength = 4 * (1 + r.nextInt(3)); break;
            case IPV6_EXTENSIONS:
                s.v6 = true;
                s.hopByHop = r.nextBoolean();
                s.destinationOptions = true;
                s.routing = r.nextBoolean();
                break;
            case IPIP: s.tunnel = TestPacket.Tunnel.IPIP; break;
            case IP6IP6: s.tunnel = TestPacket.Tunnel.IPIP; s.v6 = true; s.outerV6 = true; break;
            case SIT: s.tunnel = TestPacket.Tunnel.IPIP; s.v6 = true; break;
            case VXLAN4: s.tunnel = TestPacket.Tunnel.VXLAN; s.outerUdpChecksum = r.nextBoolean(); break;
            case VXLAN6:
                s.tunnel = TestPacket.Tunnel.VXLAN;
                s.v6 = r.nextBoolean();
                s.outerV6 = true;
                break;
            case GRE: s.tunnel = TestPacket.Tunnel.GRE; s.greChecksum = r.nextBoolean(); s.greKey = r.nextBoolean(); break;
            case ETHERNET_VLAN: s.vlanTags = ethernet ? 1 + r.nextInt(2) : 0; break;
            default: break;
        }
        if (s.tcp && r.nextBoolean()) {
            s.tcpOptionsLength = 4 * r.nextInt(6);
        }
        s.tcpFlags = TestPacket.ACK | (r.nextInt(6) == 0 ? TestPacket.CWR : 0) | (r.nextInt(8) == 0 ? TestPacket.ECE : 0);
        s.seq = r.nextLong() & 0xFFFFFFFFL;
        s.ack = r.nextLong() & 0xFFFFFFFFL;
        s.ipv4Id = r.nextInt(65536);
        s.outerIpv4Id = r.nextInt(65536);
        s.ttl = 1 + r.nextInt(255);
        s.tos = r.nextInt(256);
        s.window = r.nextInt(65536);
        s.df = r.nextInt(4) != 0;
        s.srcPort = srcPort;
        return s;
    }

    /** One sender's stream: sizes mostly full, IDs fixed or incrementing per header, an occasional PSH. */
    static final class Run {
        final TestPacket spec;
        final boolean fixedInner;
        final boolean fixedOuter;
        final int size;
        long seq;
        int id;
        int outerId;
        int fill;

        Run(TestPacket spec, Random r) {
            this.spec = spec;
            this.fixedInner = r.nextInt(4) == 0;
            this.fixedOuter = r.nextInt(4) == 0;
            this.size = r.nextInt(4) == 0 ? 1 + r.nextInt(3000) : 1200 + r.nextInt(300);
            this.seq = spec.seq;
            this.id = spec.ipv4Id;
            this.outerId = spec.outerIpv4Id;
        }

        byte[] next(Random r) {
            int length = r.nextInt(6) == 0 ? r.nextInt(size + 1) : size;
            if (!spec.tcp && length == 0) {
                length = 1;
            }
            byte[] payload = new byte[length];
            for (int i = 0; i < length; i++) {
                payload[i] = (byte) (fill * 7 + (fill >>> 8));
                fill++;
            }
            TestPacket.Variant v = spec.original();
            v.seq = seq;
            v.ipv4Id = id;
            v.outerIpv4Id = outerId;
            if (r.nextInt(25) == 0) {
                v.flags |= TestPacket.PSH;
            }
            byte[] b = spec.build(payload, v).bytes;
            seq = (seq + length) & 0xFFFFFFFFL;
            id = fixedInner ? id : (id + 1) & 0xFFFF;
            outerId = fixedOuter ? outerId : (outerId + 1) & 0xFFFF;
            return b;
        }
    }

    /** One of the hostile shapes, applied to a valid packet whose IP header starts at {@code ip}. */
    static byte[] mutate(byte[] b, Random r, int ip) {
        byte[] m = b.clone();
        switch (r.nextInt(12)) {
            case 0: // truncation
                return Arrays.copyOf(m, r.nextInt(m.length));
            case 1: // trailing junk: lengths disagree with the buffer
                return Arrays.copyOf(m, m.length + 1 + r.nextInt(40));
            case 2: // a bit flipped in the headers
                m[r.nextInt(Math.min(m.length, ip + 140))] ^= (byte) (1 << r.nextInt(8));
                return m;
            case 3: // a payload bit flipped: wrong checksum
                m[m.length - 1 - r.nextInt(Math.min(m.length, 100))] ^= 0x40;
                return m;
            case 4: // absurd IP version / header length
                if (m.length > ip) {
                    m[ip] = (byte) r.nextInt(256);
                }
                return m;
            case 5: // wrong IP length field
                if (m.length > ip + 6) {
                    m[ip + 2 + r.nextInt(4)] = (byte) r.nextInt(256);
                }
                return m;
            case 6: { // absurd TCP data offset or UDP length, somewhere after the IP headers
                int at = ip + 20 + r.nextInt(Math.max(1, Math.min(m.length - ip - 20, 160)));
                if (at < m.length) {
                    m[at] = (byte) (r.nextInt(16) << 4);
                }
                return m;
            }
            case 7: { // random garbage that may look like IP
                byte[] g = new byte[r.nextInt(300)];
                r.nextBytes(g);
                if (g.length > ip && r.nextBoolean()) {
                    g[ip] = (byte) (r.nextBoolean() ? 0x45 : 0x60);
                }
                return g;
            }
            case 8: // two bytes swapped: checksums still hold, the fields do not
                if (m.length > ip + 40) {
                    int i = ip + r.nextInt(Math.min(m.length - ip, 120) / 2) * 2;
                    int j = ip + r.nextInt(Math.min(m.length - ip, 120) / 2) * 2;
                    byte t = m[i];
                    m[i] = m[j];
                    m[j] = t;
                }
                return m;
            case 9: // a valid IPv4 header with another ID: checksums hold, the ID sequence breaks
                if (m.length >= ip + 20 && (m[ip] & 0xF0) == 0x40) {
                    int hl = (m[ip] & 0x0F) * 4;
                    if (hl >= 20 && m.length >= ip + hl) {
                        RefChecksum.put16(m, ip + 4, r.nextInt(65536));
                        RefChecksum.put16(m, ip + 10, 0);
                        RefChecksum.put16(m, ip + 10, RefChecksum.checksum(RefChecksum.sum(m, ip, hl, 0)));
                    }
                }
                return m;
            case 10: // every byte random except the first 20
                for (int i = Math.min(m.length, ip + 20); i < m.length; i++) {
                    m[i] = (byte) r.nextInt(256);
                }
                return m;
            default: // empty
                return new byte[0];
        }
    }
}
