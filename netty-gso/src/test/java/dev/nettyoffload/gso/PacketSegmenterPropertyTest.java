package dev.nettyoffload.gso;

import dev.nettyoffload.core.packet.Ipv4IdMode;
import dev.nettyoffload.testkit.TestPacket;
import dev.nettyoffload.testkit.TestPacket.Tunnel;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * Random valid packets (sizes, options, flags, tunnels, link types, checksum modes) segment without error, every
 * segment matches the independently built one, and the concatenated segment payloads equal the original payload.
 */
class PacketSegmenterPropertyTest {
    private static final int ITERATIONS = 200;
    private static final long SEED = Long.getLong("segmenter.seed", 0x5EED_0FF1_0ADL);

    @Test
    void randomPacketsRoundTripTheirPayload() {
        Random r = new Random(SEED);
        for (int it = 0; it < ITERATIONS; it++) {
            TestPacket s = randomSpec(r);
            // Keep the large packet within 16-bit length fields (headers here are at most ~250 bytes).
            int maxPayload = s.v6 && s.jumbo && s.tunnel == Tunnel.NONE ? 90_000 : 65_000;
            int payloadLength = s.v6 && s.jumbo && s.tunnel == Tunnel.NONE
                    ? 65_600 + r.nextInt(maxPayload - 65_600) : 1 + r.nextInt(r.nextBoolean() ? 3000 : maxPayload);
            int gso = 1 + r.nextInt(r.nextBoolean() ? 1500 : 9000);
            if (payloadLength / gso > 2000) {
                gso = payloadLength / 2000 + 1;
            }
            Ipv4IdMode id = r.nextBoolean() ? Ipv4IdMode.INCREMENTING : Ipv4IdMode.FIXED;
            ChecksumMode mode = r.nextBoolean() ? ChecksumMode.FULL : ChecksumMode.PARTIAL;
            String name = "iteration " + it + " (seed " + SEED + "): " + describe(s) + " payload " + payloadLength
                    + " gso " + gso + " " + id + " " + mode;
            byte[] payload = SegmentChecks.payload(payloadLength, it);
            byte[] joined = SegmentChecks.segmentAndCheck(name, s, payload, gso, id, mode,
                    PooledByteBufAllocator.DEFAULT);
            assertArrayEquals(payload, joined, name);
        }
    }

    private static TestPacket randomSpec(Random r) {
        TestPacket s = new TestPacket();
        s.tunnel = Tunnel.values()[r.nextInt(Tunnel.values().length)];
        s.ethernet = r.nextBoolean();
        s.vlanTags = s.ethernet ? r.nextInt(3) : 0;
        s.outerV6 = r.nextBoolean();
        s.outerUdpChecksum = r.nextBoolean();
        s.greChecksum = r.nextBoolean();
        s.greKey = r.nextBoolean();
        s.greTeb = r.nextBoolean();
        s.innerVlanTags = r.nextInt(3);
        s.v6 = r.nextBoolean();
        s.ipv4OptionsLength = 4 * r.nextInt(11);
        s.hopByHop = r.nextBoolean();
        s.routing = r.nextBoolean();
        s.destinationOptions = r.nextBoolean();
        s.jumbo = s.v6 && s.tunnel == Tunnel.NONE && r.nextInt(8) == 0;
        s.tcp = r.nextBoolean();
        s.tcpOptionsLength = 4 * r.nextInt(11);
        s.tcpFlags = r.nextInt(256) & ~(TestPacket.SYN | 0x04) | TestPacket.ACK;
        s.seq = r.nextInt() & 0xFFFFFFFFL;
        s.ack = r.nextInt() & 0xFFFFFFFFL;
        s.window = r.nextInt(65536);
        s.ipv4Id = r.nextInt(65536);
        s.outerIpv4Id = r.nextInt(65536);
        s.ttl = 1 + r.nextInt(255);
        s.tos = r.nextInt(256);
        s.srcPort = r.nextInt(65536);
        s.dstPort = r.nextInt(65536);
        return s;
    }

    private static String describe(TestPacket s) {
        return (s.ethernet ? "eth" + s.vlanTags + "vlan " : "raw ") + s.tunnel
                + (s.tunnel != Tunnel.NONE ? (s.outerV6 ? "/outer6" : "/outer4") : "")
                + (s.v6 ? " v6" + (s.hopByHop ? "+hbh" : "") + (s.routing ? "+rt" : "")
                + (s.destinationOptions ? "+dst" : "") + (s.jumbo ? "+jumbo" : "") : " v4+opt" + s.ipv4OptionsLength)
                + (s.tcp ? " tcp+opt" + s.tcpOptionsLength + " flags 0x" + Integer.toHexString(s.tcpFlags) : " udp");
    }
}
