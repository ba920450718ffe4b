package dev.nettyoffload.examples.demo;

import dev.nettyoffload.core.OffloadCapabilities;
import dev.nettyoffload.core.Transport;
import dev.nettyoffload.testkit.Prerequisites;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The demo runs and its GSO path moves the bytes in fewer kernel send operations; not a timing test. */
class OffloadDemoTest {

    @Test
    void gsoRunUsesFarFewerSendOperationsPerMegabyte() throws Exception {
        Transport t = Transport.EPOLL;
        Prerequisites.requireTransport(t.displayName(), t.unavailabilityCause());
        Prerequisites.require(OffloadCapabilities.get().isUdpSegmentSupported(), "kernel UDP_SEGMENT");
        LoopbackStream.Result plain = LoopbackStream.run(t, false, 1400, 0.2);
        LoopbackStream.Result gso = LoopbackStream.run(t, true, 1400, 0.2);
        assertTrue(plain.sentBytes > 0 && gso.sentBytes > 0);
        assertTrue(gso.receivedDatagrams > 0, "the receiver got the GSO stream");
        // 64 KiB writes: 1 kernel send of 46 segments + 1 remainder datagram instead of 47 datagrams.
        double ratio = plain.sendOpsPerMb() / gso.sendOpsPerMb();
        assertTrue(ratio > 20, "send operations ratio " + ratio);
        assertEquals(0, gso.counters.fallbacks());
    }

    @Test
    void mainPrintsCapabilitiesAndBothModes() throws Exception {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            OffloadDemo.main(new String[] {"--rounds", "1", "--seconds", "0.2"});
        } finally {
            System.setOut(old);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("Offload capabilities"), out);
        assertTrue(out.contains("plain (1 datagram/write)"), out);
        assertTrue(out.contains("GsoEncoder (64 KiB/write)"), out);
    }

    @Test
    void optionsAreChecked() {
        assertNull(DemoOptions.parse(new String[] {"--help"}));
        assertThrows(IllegalArgumentException.class, () -> DemoOptions.parse(new String[] {"--bogus"}));
        assertThrows(IllegalArgumentException.class, () -> DemoOptions.parse(new String[] {"--seconds"}));
        assertThrows(IllegalArgumentException.class, () -> DemoOptions.parse(new String[] {"--rounds", "0"}));
        assertEquals(Transport.NIO, DemoOptions.parse(new String[] {"--transport", "nio"}).transport);
    }
}
