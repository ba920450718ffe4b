package dev.nettyoffload.tun;

import dev.nettyoffload.core.packet.GsoType;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class VirtioNetHeaderTest {
    @Test
    void fieldsAreLittleEndianAtTheirOffsets() {
        ByteBuf buf = Unpooled.buffer(12);
        try {
            VirtioNetHeader.set(buf, 0, 12, VirtioNetHeader.F_NEEDS_CSUM, VirtioNetHeader.GSO_TCPV4, 66, 1448, 20,
                    16);
            byte[] expected = {1, 1, 66, 0, (byte) 0xA8, 0x05, 20, 0, 16, 0, 0, 0};
            byte[] actual = new byte[12];
            buf.getBytes(0, actual);
            assertEquals(java.util.Arrays.toString(expected), java.util.Arrays.toString(actual));
            assertEquals(VirtioNetHeader.F_NEEDS_CSUM, VirtioNetHeader.flags(buf, 0));
            assertEquals(VirtioNetHeader.GSO_TCPV4, VirtioNetHeader.gsoType(buf, 0));
            assertEquals(66, VirtioNetHeader.hdrLen(buf, 0));
            assertEquals(1448, VirtioNetHeader.gsoSize(buf, 0));
            assertEquals(20, VirtioNetHeader.csumStart(buf, 0));
            assertEquals(16, VirtioNetHeader.csumOffset(buf, 0));
        } finally {
            buf.release();
        }
    }

    @Test
    void gsoTypesMapBothWays() {
        for (GsoType t : GsoType.values()) {
            assertEquals(t, VirtioNetHeader.toGsoType(VirtioNetHeader.fromGsoType(t)));
        }
        assertEquals(GsoType.TCPV4, VirtioNetHeader.toGsoType(VirtioNetHeader.GSO_TCPV4 | VirtioNetHeader.GSO_ECN));
        assertNull(VirtioNetHeader.toGsoType(VirtioNetHeader.GSO_NONE));
        assertNull(VirtioNetHeader.toGsoType(VirtioNetHeader.GSO_UDP));
    }

    @Test
    void offloadFlagsAreThoseOfIfTun() {
        assertEquals(0x01 | 0x02 | 0x04 | 0x20 | 0x40, TunOffload.flags(TunOffload.all()));
        assertEquals(TunOffload.all(), TunOffload.of(0x67));
    }
}
