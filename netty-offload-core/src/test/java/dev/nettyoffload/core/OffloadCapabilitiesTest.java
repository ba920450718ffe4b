package dev.nettyoffload.core;

import dev.nettyoffload.testkit.Prerequisites;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OffloadCapabilitiesTest {

    @Test
    void nioIsAlwaysAvailable() {
        OffloadCapabilities caps = OffloadCapabilities.get();
        assertTrue(caps.isAvailable(Transport.NIO));
        assertNull(caps.unavailabilityReason(Transport.NIO));
        assertTrue(!caps.isKernelSegmentationAvailable(Transport.NIO), "NIO ignores segment sizes");
    }

    @Test
    void probeIsCached() {
        assertSame(OffloadCapabilities.get(), OffloadCapabilities.get());
    }

    @Test
    void udpSegmentProbeFindsTheKernelLimit() {
        Prerequisites.requireTransport(Transport.EPOLL.displayName(), Transport.EPOLL.unavailabilityCause());
        OffloadCapabilities caps = OffloadCapabilities.probe();
        assertTrue(caps.isUdpSegmentSupported(), caps.toString());
        // Linux >= 6.9 raised UDP_MAX_SEGMENTS from 64 to 128.
        int expected = kernelAtLeast(caps.kernelRelease(), 6, 9)
                ? UdpLimits.MODERN_MAX_SEGMENTS : UdpLimits.LEGACY_MAX_SEGMENTS;
        assertEquals(expected, caps.maxSegmentsPerSend(), caps.toString());
        assertNull(caps.udpSegmentProblem());
        assertTrue(caps.isKernelSegmentationAvailable(Transport.EPOLL));
    }

    @Test
    void udpGroProbeOnEpoll() {
        Prerequisites.requireTransport(Transport.EPOLL.displayName(), Transport.EPOLL.unavailabilityCause());
        OffloadCapabilities caps = OffloadCapabilities.get();
        assertTrue(caps.isUdpGroSupported(), caps.toString());
    }

    @Test
    void toStringNamesEveryTransport() {
        String text = OffloadCapabilities.get().toString();
        for (Transport t : Transport.values()) {
            assertTrue(text.contains(t.displayName()), text);
        }
        assertTrue(text.contains("UDP_SEGMENT"), text);
        assertTrue(text.contains("UDP_GRO"), text);
    }

    @Test
    void unavailableTransportSaysWhy() {
        OffloadCapabilities caps = new OffloadCapabilities("test", java.util.Map.of(Transport.IO_URING, "disabled"),
                0, "no native transport", false, "no native transport");
        assertTrue(!caps.isAvailable(Transport.IO_URING));
        assertEquals("disabled", caps.unavailabilityReason(Transport.IO_URING));
        assertTrue(caps.toString().contains("io_uring  unavailable: disabled"), caps.toString());
        assertTrue(caps.toString().contains("UDP_SEGMENT (USO)  unsupported: no native transport"), caps.toString());
        assertNotNull(caps.udpGroProblem());
    }

    static boolean kernelAtLeast(String release, int major, int minor) {
        String[] parts = release.split("[.-]");
        int maj = Integer.parseInt(parts[0]);
        int min = Integer.parseInt(parts[1]);
        return maj > major || (maj == major && min >= minor);
    }
}
