package dev.nettyoffload.gso;

import dev.nettyoffload.core.Errno;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link GsoCounters} and {@link PacketGsoCounters}: snapshots are copies, readable from any thread. */
class GsoCountersTest {
    private static final InetSocketAddress V4 = new InetSocketAddress("127.0.0.1", 9999);

    @Test
    void snapshotIsAnImmutableCopy() {
        GsoEncoder encoder = new GsoEncoder(GsoConfig.newBuilder().segmentSize(1000).mode(GsoMode.SOFTWARE).build());
        EmbeddedChannel ch = new EmbeddedChannel(encoder);
        assertTrue(ch.writeOutbound(new DatagramPacket(GsoEncoderTest.sequence(2500), V4)));
        GsoCounters.Snapshot first = encoder.counters().snapshot();
        assertTrue(ch.writeOutbound(new DatagramPacket(GsoEncoderTest.sequence(500), V4)));
        GsoCounters.Snapshot second = encoder.counters().snapshot();
        assertEquals(1, first.writes());
        assertEquals(3, first.softwareDatagrams());
        assertEquals(0, first.passedThrough());
        assertEquals(1, second.passedThrough());
        assertEquals("GsoCounters(writes=1, passedThrough=1, kernelSends=0, kernelSegments=0, singleDatagrams=0,"
                + " softwareDatagrams=3, fallbacks=0, invalid=0, pacedSends=0)", second.toString());
        assertEquals(second.toString(), encoder.counters().toString());
        assertTrue(ch.finishAndReleaseAll());
    }

    @Test
    void snapshotCarriesRejectionsByErrno() {
        GsoEncoder encoder = new GsoEncoder(GsoConfig.newBuilder().segmentSize(1000).mode(GsoMode.KERNEL).build());
        EmbeddedChannel ch = new EmbeddedChannel(new GsoEncoderTest.DeferredKernel(Errno.EINVAL), encoder);
        ch.writeAndFlush(new DatagramPacket(GsoEncoderTest.sequence(3000), V4));
        GsoCounters.Snapshot s = encoder.counters().snapshot();
        assertEquals(1, s.kernelSends());
        assertEquals(3, s.kernelSegments());
        assertEquals(1, s.fallbacks());
        assertEquals(1, s.rejections(Errno.EINVAL));
        assertEquals(0, s.rejections(Errno.EIO));
        assertEquals(0, s.rejections(-1));
        assertEquals(0, s.rejections(10_000));
        assertTrue(s.toString().endsWith(", EINVAL=1)"), s.toString());
        assertTrue(ch.finishAndReleaseAll());
    }

    @Test
    void anotherThreadSeesTheWritersCounts() throws Exception {
        GsoCounters counters = new GsoCounters();
        PacketGsoCounters packetCounters = new PacketGsoCounters();
        int n = 1_000_000;
        Thread writer = new Thread(() -> {
            for (int i = 0; i < n; i++) {
                counters.increment(GsoCounters.KERNEL_SENDS);
                counters.add(GsoCounters.KERNEL_SEGMENTS, 1L << 33);
                packetCounters.segmented(2);
            }
        });
        writer.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        GsoCounters.Snapshot s;
        // No join before reading: the reader has no happens-before edge with the writer, as a metrics thread.
        do {
            s = counters.snapshot();
            // Values above 2^32 are never seen torn.
            assertEquals(0, s.kernelSegments() % (1L << 33), "torn read " + s.kernelSegments());
            assertTrue(System.nanoTime() < deadline, "reader never saw the final count: " + s);
        } while (s.kernelSends() < n);
        assertEquals((long) n << 33, counters.kernelSegments());
        writer.join();
        assertEquals(new PacketGsoCounters.Snapshot(n, 2L * n, 0).toString(), packetCounters.snapshot().toString());
        assertFalse(writer.isAlive());
    }
}
