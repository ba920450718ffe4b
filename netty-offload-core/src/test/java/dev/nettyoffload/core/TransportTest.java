package dev.nettyoffload.core;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TransportTest {
    @Test
    void namesRoundTrip() {
        for (Transport t : Transport.values()) {
            assertEquals(t, Transport.fromName(t.displayName()));
            assertEquals(t, Transport.fromName(t.name().toLowerCase()));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Transport.fromName("dpdk"));
        assertTrue(e.getMessage().contains("dpdk"));
    }

    @Test
    void channelClassesMapBack() {
        for (Transport t : Transport.values()) {
            assertEquals(t, Transport.of(t.datagramChannelClass()));
            assertEquals(t, Transport.of(t.socketChannelClass()));
        }
    }

    @Test
    void nioNeverClaimsSegmentation() {
        assertTrue(Transport.NIO.isAvailable());
        assertFalse(Transport.NIO.isSegmentedDatagramPacketSupported());
    }
}
