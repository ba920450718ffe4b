package dev.nettyoffload.gso;

import dev.nettyoffload.core.packet.LinkType;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Defaults, copies and argument checks of {@link GsoConfig} and {@link PacketSegmenterConfig}. */
class GsoConfigTest {

    @Test
    void gsoConfigDefaultsAndCopies() {
        GsoConfig d = GsoConfig.DEFAULT;
        assertEquals(GsoConfig.DEFAULT_SEGMENT_SIZE, d.segmentSize());
        assertEquals(GsoConfig.DEFAULT_MODE, d.mode());
        assertEquals(GsoConfig.DEFAULT_MAX_SEGMENTS_PER_SEND, d.maxSegmentsPerSend());
        assertEquals(GsoConfig.PROBED_MAX_SEGMENTS_PER_SEND, d.maxSegmentsPerSend());
        assertEquals(GsoConfig.DEFAULT_PACING_RATE, d.pacingRate());
        assertEquals("GsoConfig(segmentSize=1400, mode=AUTO, maxSegmentsPerSend=probed, pacingRate=off)",
                d.toString());
        GsoConfig c = d.toBuilder().segmentSize(1200).maxSegmentsPerSend(16).pacingRate(1_000_000).build();
        assertEquals(16, c.maxSegmentsPerSend());
        assertEquals(1200, c.segmentSize());
        assertEquals(1_000_000, c.pacingRate());
        assertEquals(GsoConfig.DEFAULT_SEGMENT_SIZE, d.segmentSize(), "the copy leaves the original alone");
    }

    @Test
    void gsoConfigNamesTheBadParameter() {
        assertMessage("maxSegmentsPerSend: 1 (expected: 0 for the probed limit, or 2-128)",
                () -> GsoConfig.newBuilder().maxSegmentsPerSend(1));
        assertMessage("segmentSize: 0 (expected: 1-65527)", () -> GsoConfig.newBuilder().segmentSize(0));
        assertMessage("mode: null", () -> GsoConfig.newBuilder().mode(null));
        assertTrue(message(() -> GsoConfig.newBuilder().pacingRate(-1)).startsWith("pacingRate: -1"));
    }

    @Test
    void effectiveMaxSegmentsPerSendIsTheConfiguredOne() {
        GsoEncoder encoder = new GsoEncoder(GsoConfig.newBuilder().mode(GsoMode.KERNEL).maxSegmentsPerSend(16).build());
        EmbeddedChannel ch = new EmbeddedChannel(encoder);
        assertEquals(16, encoder.effectiveMaxSegmentsPerSend());
        assertFalse(ch.finish());
    }

    @Test
    void packetSegmenterConfigDefaultsAndCopies() {
        PacketSegmenterConfig d = PacketSegmenterConfig.DEFAULT;
        assertEquals(PacketSegmenterConfig.DEFAULT_LINK_TYPE, d.linkType());
        assertEquals(PacketSegmenterConfig.DEFAULT_CHECKSUM_MODE, d.checksumMode());
        assertEquals(PacketSegmenterConfig.DEFAULT_MAX_SEGMENTS_PER_PACKET, d.maxSegmentsPerPacket());
        PacketSegmenterConfig c = d.toBuilder().linkType(LinkType.ETHERNET).checksumMode(ChecksumMode.PARTIAL)
                .maxSegmentsPerPacket(PacketSegmenterConfig.MAX_MAX_SEGMENTS_PER_PACKET).build();
        assertEquals("PacketSegmenterConfig(ETHERNET, PARTIAL, maxSegmentsPerPacket 65535)", c.toString());
        assertEquals(c.toString(), c.toBuilder().build().toString());
        assertEquals(LinkType.RAW_IP, d.linkType(), "the copy leaves the original alone");
    }

    @Test
    void packetSegmenterConfigNamesTheBadParameter() {
        assertMessage("maxSegmentsPerPacket: 65536 (expected: 1..65535)",
                () -> PacketSegmenterConfig.newBuilder().maxSegmentsPerPacket(65536));
        assertMessage("linkType: null", () -> PacketSegmenterConfig.newBuilder().linkType(null));
        assertMessage("checksumMode: null", () -> PacketSegmenterConfig.newBuilder().checksumMode(null));
        assertMessage("config: null", () -> new PacketSegmenter(null));
    }

    private static void assertMessage(String expected, Runnable call) {
        assertEquals(expected, message(call));
    }

    private static String message(Runnable call) {
        return assertThrows(IllegalArgumentException.class, call::run).getMessage();
    }
}
