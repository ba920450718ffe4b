package dev.nettyoffload.core.jfr;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OffloadEventsTest {
    @Test
    void eventsAreRecordedWithTheirFields(@TempDir Path dir) throws Exception {
        assertTrue(OffloadEvents.isSupported());
        Path file = dir.resolve("offload.jfr");
        try (Recording r = new Recording()) {
            r.enable("dev.nettyoffload.KernelRefusal");
            r.enable("dev.nettyoffload.ReceiveTruncation");
            r.enable("dev.nettyoffload.ChecksumFailure");
            r.start();
            OffloadEvents.kernelRefusal("[id: 0x1]", "/127.0.0.1:9999", "EIO", 1400, 47);
            OffloadEvents.receiveTruncation("[id: 0x2]", "/127.0.0.1:1234", 65536);
            OffloadEvents.checksumFailure("[id: 0x3]", "TCP", 1500);
            r.stop();
            r.dump(file);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file);
        assertEquals(3, events.size(), events.toString());
        RecordedEvent refusal = find(events, "dev.nettyoffload.KernelRefusal");
        assertEquals("EIO", refusal.getString("errno"));
        assertEquals("/127.0.0.1:9999", refusal.getString("destination"));
        assertEquals(1400, refusal.getInt("segmentSize"));
        assertEquals(47, refusal.getInt("segments"));
        RecordedEvent truncation = find(events, "dev.nettyoffload.ReceiveTruncation");
        assertEquals(65536, truncation.getInt("length"));
        assertEquals("/127.0.0.1:1234", truncation.getString("sender"));
        RecordedEvent checksum = find(events, "dev.nettyoffload.ChecksumFailure");
        assertEquals("TCP", checksum.getString("protocol"));
        assertEquals(1500, checksum.getInt("length"));
    }

    @Test
    void nothingIsRecordedWhenTheEventsAreDisabled(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("none.jfr");
        try (Recording r = new Recording()) {
            // Custom events are on by default in any recording; an operator turns them off like this.
            r.disable("dev.nettyoffload.KernelRefusal");
            r.start();
            OffloadEvents.kernelRefusal("ch", "dst", "EINVAL", 1200, 2);
            r.stop();
            r.dump(file);
        }
        for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
            assertTrue(!e.getEventType().getName().startsWith("dev.nettyoffload."), e.toString());
        }
    }

    private static RecordedEvent find(List<RecordedEvent> events, String name) {
        return events.stream().filter(e -> e.getEventType().getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + name + " in " + events));
    }
}
