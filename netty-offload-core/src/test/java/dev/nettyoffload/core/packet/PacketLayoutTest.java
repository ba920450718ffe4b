package dev.nettyoffload.core.packet;

import dev.nettyoffload.testkit.TestPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Offsets found by the parser for representative shapes, and GsoPacket's cached layout. */
class PacketLayoutTest {

    private static PacketLayout parse(TestPacket spec, LinkType link, TunnelType tunnel, GsoType type, int payload) {
        ByteBuf b = Unpooled.wrappedBuffer(spec.build(new byte[payload], spec.original()).bytes);
        try {
            return new PacketLayout().parse(b, link, tunnel, type);
        } finally {
            b.release();
        }
    }

    @Test
    void vxlanOverIpv6WithInnerVlan() {
        TestPacket s = new TestPacket();
        s.ethernet = true;
        s.vlanTags = 2;
        s.tunnel = TestPacket.Tunnel.VXLAN;
        s.outerV6 = true;
        s.innerVlanTags = 1;
        s.ipv4OptionsLength = 8;
        s.tcpOptionsLength = 12;
        PacketLayout l = parse(s, LinkType.ETHERNET, TunnelType.VXLAN, GsoType.TCPV4, 100);
        assertEquals(22, l.outerL3());
        assertEquals(6, l.outerL3Version());
        assertEquals(62, l.tunnelL4());
        assertEquals(16, l.tunnelHeaderLength());
        assertEquals(78, l.innerL2());
        assertEquals(96, l.l3());
        assertEquals(4, l.l3Version());
        assertEquals(28, l.l3HeaderLength());
        assertEquals(124, l.l4());
        assertEquals(32, l.l4HeaderLength());
        assertEquals(156, l.headerLength());
        assertEquals(100, l.payloadLength());
    }

    @Test
    void ipv6ExtensionHeadersAndJumbo() {
        TestPacket s = new TestPacket();
        s.v6 = true;
        s.jumbo = true;
        s.routing = true;
        s.destinationOptions = true;
        s.tcp = false;
        PacketLayout l = parse(s, LinkType.RAW_IP, TunnelType.NONE, GsoType.UDP_L4, 70_000);
        assertEquals(0, l.l3());
        assertEquals(40, l.hopByHop());
        assertEquals(42, l.jumboOption());
        assertEquals(8, l.strippedLength());
        assertEquals(40 + 8 + 24 + 8, l.l4());
        assertEquals(48 + 8, l.pseudoDestination(), "home address of the type 2 routing header");
        assertEquals(IpProtocol.UDP, l.l4Protocol());
    }

    @Test
    void greTebWithKey() {
        TestPacket s = new TestPacket();
        s.tunnel = TestPacket.Tunnel.GRE;
        s.greTeb = true;
        s.greKey = true;
        s.greChecksum = true;
        s.v6 = true;
        PacketLayout l = parse(s, LinkType.RAW_IP, TunnelType.GRE, GsoType.TCPV6, 10);
        assertEquals(20, l.tunnelL4());
        assertEquals(12, l.tunnelHeaderLength());
        assertEquals(32, l.innerL2());
        assertEquals(46, l.l3());
        assertEquals(86, l.l4());
    }

    @Test
    void gsoPacketCachesItsLayoutPerLinkType() {
        TestPacket s = new TestPacket();
        GsoPacket p = new GsoPacket(Unpooled.wrappedBuffer(s.build(new byte[3000], s.original()).bytes),
                GsoType.TCPV4, 1000);
        try {
            assertNull(p.parsedLayout());
            PacketLayout l = p.layout(LinkType.RAW_IP);
            assertSame(l, p.layout(LinkType.RAW_IP));
            assertSame(l, p.parsedLayout());
            assertEquals(3, p.segmentsFor(l.payloadLength()));
            assertThrows(PacketOffloadException.class, () -> p.layout(LinkType.ETHERNET));
            GsoPacket dup = p.retainedDuplicate();
            assertEquals(p.segmentSize(), dup.segmentSize());
            assertEquals(p.gsoType(), dup.gsoType());
            dup.release();
        } finally {
            p.release();
        }
        assertEquals(0, p.refCnt());
    }
}
