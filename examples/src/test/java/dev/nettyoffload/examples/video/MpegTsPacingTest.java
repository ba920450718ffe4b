package dev.nettyoffload.examples.video;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PCR pacing of the sample clip: 10 s of a 1.3 Mbit/s constant-rate multiplex. */
class MpegTsPacingTest {
    @Test
    void theSampleClipIsPacedByItsPcrOverTenSeconds() throws Exception {
        byte[] ts = VideoHttpTest.resource(SampleClip.TS);
        int packets = ts.length / MpegTsStreamer.TS_PACKET_SIZE;
        long[] due = new long[packets + 1];
        assertTrue(MpegTsStreamer.scheduleByPcr(ts, packets, due));
        assertEquals(0, due[0], 1_000_000, "the first packet is due at once");
        for (int i = 1; i <= packets; i++) {
            assertTrue(due[i] >= due[i - 1], "due times go backwards at packet " + i);
        }
        // ffprobe: duration 10.02 s; the mux rate is 1300 kbit/s.
        double seconds = due[packets] / 1e9;
        assertEquals(10.0, seconds, 0.1, "one pass");
        double bitRate = (double) packets * MpegTsStreamer.TS_PACKET_SIZE * 8 / seconds;
        assertEquals(1_300_000, bitRate, 20_000);
    }

    @Test
    void aStreamWithoutPcrIsNotPacedByPcr() {
        byte[] ts = new byte[MpegTsStreamer.TS_PACKET_SIZE * 100];
        for (int i = 0; i < 100; i++) {
            ts[i * MpegTsStreamer.TS_PACKET_SIZE] = (byte) MpegTsStreamer.TS_SYNC_BYTE;
            ts[i * MpegTsStreamer.TS_PACKET_SIZE + 3] = 0x10; // payload only, no adaptation field
        }
        long[] due = new long[101];
        assertFalse(MpegTsStreamer.scheduleByPcr(ts, 100, due));
        assertTrue(Arrays.stream(due).allMatch(d -> d == 0));
    }
}
