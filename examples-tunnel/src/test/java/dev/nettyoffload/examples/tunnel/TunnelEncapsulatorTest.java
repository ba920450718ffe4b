package dev.nettyoffload.examples.tunnel;

import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The batch limits that keep a USO send one GSO skb through the underlay device. */
class TunnelEncapsulatorTest {
    @Test
    void batchFrameStaysBelowGsoMaxSize() {
        int v4 = TunnelEncapsulator.maxBatchBytes(new InetSocketAddress("10.99.0.2", 51820));
        int v6 = TunnelEncapsulator.maxBatchBytes(new InetSocketAddress("fd00::2", 51820));
        // Ethernet 14 + IPv4 20 / IPv6 40 + UDP 8 + payload < 65536.
        assertEquals(65493, v4);
        assertEquals(65473, v6);
        // A 1420-byte TUN MTU: 1424-byte datagrams, 45 per batch (46 = 65504 bytes would be segmented on the way).
        assertEquals(45, TunnelEncapsulator.segmentsPerBatch(1424, v4));
        assertEquals(45, TunnelEncapsulator.segmentsPerBatch(1424, v6));
        assertEquals(64, TunnelEncapsulator.segmentsPerBatch(100, v4));
        assertEquals(1, TunnelEncapsulator.segmentsPerBatch(70_000, v4));
    }
}
