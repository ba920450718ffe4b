package dev.nettyoffload.tun;

import dev.nettyoffload.core.packet.GsoType;
import dev.nettyoffload.core.packet.LinkType;
import dev.nettyoffload.core.packet.PacketLayout;
import dev.nettyoffload.core.packet.TunnelType;
import dev.nettyoffload.testkit.TestPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Partial form and completion undo each other, for TCP and UDP over IPv4 and IPv6, at any buffer offset. */
class PartialChecksumTest {
    @ParameterizedTest(name = "v6={0} tcp={1} payload={2}")
    @CsvSource({"false,true,3000", "true,true,3000", "false,false,1200", "true,false,1", "false,true,1"})
    void makePartialThenCompleteGivesTheOriginalChecksum(boolean v6, boolean tcp, int payloadLength) {
        TestPacket spec = new TestPacket();
        spec.v6 = v6;
        spec.tcp = tcp;
        byte[] payload = new byte[payloadLength];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) (i * 31 + 7);
        }
        byte[] packet = spec.build(payload, spec.original()).bytes;
        ByteBuf buf = Unpooled.buffer(packet.length + 5);
        try {
            buf.writeZero(5).writeBytes(packet).readerIndex(5);
            PacketLayout l = new PacketLayout().parse(buf, LinkType.RAW_IP, TunnelType.NONE,
                    tcp ? (v6 ? GsoType.TCPV6 : GsoType.TCPV4) : GsoType.UDP_L4);
            int field = 5 + l.l4() + (tcp ? 16 : 6);
            int original = buf.getUnsignedShort(field);
            int offset = PartialChecksum.makePartial(buf, 5, l);
            assertEquals(tcp ? 16 : 6, offset);
            assertNotEquals(original, buf.getUnsignedShort(field));
            assertTrue(PartialChecksum.complete(buf, 5, packet.length, l.l4(), offset));
            assertEquals(original, buf.getUnsignedShort(field));
        } finally {
            buf.release();
        }
    }
}
