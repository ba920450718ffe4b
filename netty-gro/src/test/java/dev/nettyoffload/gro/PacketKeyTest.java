package dev.nettyoffload.gro;

import dev.nettyoffload.core.packet.IpProtocol;
import dev.nettyoffload.core.packet.LinkType;
import dev.nettyoffload.core.packet.PacketLayout;
import dev.nettyoffload.core.packet.PacketOffloadException;
import dev.nettyoffload.core.packet.TunnelType;
import dev.nettyoffload.testkit.TestPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@link PacketKey#parse} parses the common shapes itself from its header copy and hands the rest to
 * {@link PacketLayout#parse}: for valid, mutated and random packets of every shape, in heap, direct and sliced
 * buffers, it must accept exactly what the general parser accepts, with the same offsets, and its copy must
 * hold the packet's headers.
 */
class PacketKeyTest {
    private static final long SEED = Long.getLong("gro.key.seed", 0x6E7L);

    @Test
    void directParseAgreesWithPacketLayout() {
        Random r = new Random(SEED);
        PacketKey k = new PacketKey();
        PacketLayout reference = new PacketLayout();
        int accepted = 0;
        int refused = 0;
        for (int i = 0; i < 6000; i++) {
            TestPacket s = PacketGroRoundTripTest.randomSpec(r, true);
            if (r.nextInt(3) == 0) {
                s.tunnel = TestPacket.Tunnel.NONE; // the shapes parsed directly, more often
            }
            byte[] b = new RawRun(s).next(r.nextInt(4) == 0 ? r.nextInt(1500) : 1300).bytes;
            if (r.nextInt(2) == 0) {
                b = PacketGroFuzzTest.mutate(b, r, s.ethernet ? 14 : 0);
            }
            // Now and then the wrong link type, to reach the fallback from a direct parse that gives up.
            boolean ethernet = r.nextInt(10) == 0 ? !s.ethernet : s.ethernet;
            LinkType link = ethernet ? LinkType.ETHERNET : LinkType.RAW_IP;
            int vxlanPort = r.nextInt(5) == 0 ? 0 : PacketGroConfig.DEFAULT_VXLAN_PORT;
            ByteBuf buf = input(b, r.nextInt(3));
            try {
                String expected;
                try {
                    reference.parse(buf, link, PacketKey.peekTunnel(buf, buf.readerIndex(), buf.readableBytes(), link,
                            vxlanPort), null);
                    expected = describe(reference);
                } catch (PacketOffloadException e) {
                    expected = "refused";
                }
                String actual;
                try {
                    k.parse(buf, link, vxlanPort);
                    actual = describe(k);
                } catch (PacketOffloadException e) {
                    actual = "refused";
                }
                assertEquals(expected, actual, "packet " + i + ": " + Arrays.toString(b));
                if ("refused".equals(actual)) {
                    refused++;
                } else {
                    accepted++;
                    assertEquals(b.length - k.headerLength, k.payload);
                    assertArrayEquals(Arrays.copyOf(b, k.headerLength), Arrays.copyOf(k.headers, k.headerLength));
                }
            } finally {
                buf.release();
            }
        }
        assertTrue(accepted > 1000 && refused > 300, accepted + " accepted, " + refused + " refused");
    }

    private static ByteBuf input(byte[] b, int kind) {
        switch (kind) {
            case 0:
                return Unpooled.wrappedBuffer(b);
            case 1:
                return Unpooled.directBuffer(b.length).writeBytes(b);
            case 2:
                return PacketChecks.input(b, false);
            default:
                fail("kind " + kind);
                return null;
        }
    }

    private static String describe(PacketLayout l) {
        return describe(l.tunnelType(), l.outerL3(), l.outerL3Version(), l.outerL3HeaderLength(),
                l.outerPseudoDestination(), l.tunnelL4(), l.innerL2(), l.l3(), l.l3Version(), l.l3HeaderLength(),
                l.pseudoDestination(), l.l4(), l.l4HeaderLength(), l.headerLength(), l.jumboOption(),
                l.l4Protocol() == IpProtocol.TCP);
    }

    private static String describe(PacketKey k) {
        return describe(k.tunnel, k.outerL3, k.outerL3Version, k.outerL3HeaderLength, k.outerPseudoDestination,
                k.tunnelL4, k.innerL2, k.l3, k.l3Version, k.l3HeaderLength, k.pseudoDestination, k.l4,
                k.l4HeaderLength, k.headerLength, k.jumboOption, k.tcp);
    }

    private static String describe(TunnelType tunnel, int outerL3, int outerVersion, int outerLength,
                                   int outerPseudo, int tunnelL4, int innerL2, int l3, int version, int l3Length,
                                   int pseudo, int l4, int l4Length, int headerLength, int jumbo, boolean tcp) {
        return tunnel + " outer " + outerL3 + "/v" + outerVersion + "/" + outerLength + "/" + outerPseudo
                + " tunnelL4 " + tunnelL4 + " innerL2 " + innerL2 + " l3 " + l3 + "/v" + version + "/" + l3Length
                + "/" + pseudo + " l4 " + l4 + "/" + l4Length + (tcp ? " TCP" : " UDP") + " headers " + headerLength
                + " jumbo " + jumbo;
    }
}
