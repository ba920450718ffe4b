package dev.nettyoffload.examples.quic;

import dev.nettyoffload.core.DatagramReader;
import dev.nettyoffload.core.OffloadCapabilities;
import dev.nettyoffload.core.Transport;
import dev.nettyoffload.core.uring.IoUringDatagramReader;
import dev.nettyoffload.testkit.Prerequisites;
import dev.nettyoffload.examples.quic.QuicBulkTransfer.Result;
import dev.nettyoffload.examples.quic.QuicBulkTransfer.SendMode;
import dev.nettyoffload.gso.QuicUso;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.quic.SegmentedDatagramPacketAllocator;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 64 MiB over one QUIC stream on loopback arrive intact (every byte checked at its offset) with the server's
 * codec under {@link QuicUso}: through the kernel's UDP_SEGMENT, and with the kernel made to refuse it
 * (SO_NO_CHECK), when {@code GsoEncoder} must fall back to software without losing a packet.
 * <p>
 * Paranoid leak detection records a stack trace on every buffer access, which slows QUIC on loopback to about
 * 1 MB/s. The 64 MiB runs therefore drop to {@link ResourceLeakDetector.Level#SIMPLE} for their duration (leaks
 * still fail the test, found by sampling); the same paths run at paranoid level with 2 MiB.
 */
@Timeout(120)
class QuicBulkTransferTest {
    private static final long BYTES = 64L << 20;
    private static final long TIMEOUT_MILLIS = 60_000;

    private static void requireUso(Transport transport) {
        Prerequisites.requireTransport(transport.displayName(), transport.unavailabilityCause());
        Prerequisites.require(OffloadCapabilities.get().isKernelSegmentationAvailable(transport),
                "kernel UDP_SEGMENT on " + transport);
    }

    private static Result runAtSimpleLeakLevel(Transport transport, boolean noChecksum) throws Exception {
        return runAtSimpleLeakLevel(transport, noChecksum, QuicBulkTransfer.ReadTuning.DEFAULT);
    }

    private static Result runAtSimpleLeakLevel(Transport transport, boolean noChecksum,
                                               QuicBulkTransfer.ReadTuning reads) throws Exception {
        ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.SIMPLE);
        try {
            return QuicBulkTransfer.run(transport, BYTES, SendMode.USO, noChecksum, reads, TIMEOUT_MILLIS);
        } finally {
            ResourceLeakDetector.setLevel(level);
        }
    }

    private static void assertKernelUso(Result r, long bytes) {
        System.out.println("QUIC bulk: " + r);
        assertEquals(bytes, r.bytes);
        assertTrue(r.server.kernelPath, r.toString());
        assertEquals(0, r.server.fallbacks, r.toString());
        assertTrue(r.server.datagrams() >= bytes / 1350, r.toString());
        // The codec handed over batches and the kernel cut them.
        assertTrue(r.server.kernelSends > 0 && r.server.kernelSegments >= 2 * r.server.kernelSends, r.toString());
    }

    private static void assertFallback(Result r, long bytes) {
        System.out.println("QUIC bulk: " + r);
        assertEquals(bytes, r.bytes);
        assertTrue(r.server.fallbacks >= 1, "no fallback: " + r);
        assertFalse(r.server.kernelPath, r.toString());
        assertTrue(r.server.softwareDatagrams > 0, r.toString());
        assertTrue(r.server.datagrams() >= bytes / 1350, r.toString());
    }

    @ParameterizedTest
    @EnumSource(value = Transport.class, names = {"EPOLL", "IO_URING"})
    void bulkStreamArrivesIntactThroughKernelUso(Transport transport) throws Exception {
        requireUso(transport);
        Result r = runAtSimpleLeakLevel(transport, false);
        assertKernelUso(r, BYTES);
        // Reads bring ACKs in batches (epoll's UDP_GRO, io_uring's batch reader under the splitter), so the codec
        // has many packets per send: most go in UDP_SEGMENT sends.
        assertTrue(r.server.kernelSegments > r.server.datagrams() / 2, r.toString());
        assertTrue(r.server.sendOperations() * 4 < r.server.datagrams(), r.toString());
        if (transport == Transport.IO_URING && IoUringDatagramReader.isSupported()
                && OffloadCapabilities.get().isUdpGroSupported()) {
            assertEquals(DatagramReader.IO_URING, r.serverReader.reader(), r.toString());
        }
    }

    /** The batch readers can be turned off; Netty's readers still carry the transfer intact. */
    @Test
    void nettyReadersStillTransferIntact() throws Exception {
        requireUso(Transport.IO_URING);
        Result r = runAtSimpleLeakLevel(Transport.IO_URING, false, QuicBulkTransfer.ReadTuning.NETTY_READERS);
        assertKernelUso(r, BYTES);
        assertEquals(DatagramReader.NETTY, r.serverReader.reader(), r.toString());
    }

    @ParameterizedTest
    @EnumSource(value = Transport.class, names = {"EPOLL", "IO_URING"})
    void bulkStreamArrivesIntactWhenTheKernelRefusesUso(Transport transport) throws Exception {
        requireUso(transport);
        Result r = runAtSimpleLeakLevel(transport, true);
        assertFallback(r, BYTES);
        if (transport == Transport.IO_URING && IoUringDatagramReader.isSupported()
                && OffloadCapabilities.get().isUdpGroSupported()) {
            assertEquals(DatagramReader.IO_URING, r.serverReader.reader(), r.toString());
        }
    }

    @ParameterizedTest
    @EnumSource(value = Transport.class, names = {"EPOLL", "IO_URING"})
    void smallTransfersReleaseEveryBufferUnderParanoidLeakDetection(Transport transport) throws Exception {
        requireUso(transport);
        long bytes = 2L << 20;
        assertKernelUso(QuicBulkTransfer.run(transport, bytes, SendMode.USO, false, TIMEOUT_MILLIS), bytes);
        assertFallback(QuicBulkTransfer.run(transport, bytes, SendMode.USO, true, TIMEOUT_MILLIS), bytes);
    }

    @Test
    void nioGetsNoAllocatorAndStillTransfers() throws Exception {
        assertSame(SegmentedDatagramPacketAllocator.NONE, QuicUso.allocator(Transport.NIO));
        Result r = QuicBulkTransfer.run(Transport.NIO, 4L << 20, SendMode.USO, false, TIMEOUT_MILLIS);
        assertFalse(r.server.kernelPath);
        assertEquals(0, r.server.kernelSends);
        assertEquals(0, r.server.softwareDatagrams, "the codec sent no batches to cut");
        assertTrue(r.server.passedThrough >= (4L << 20) / 1350, r.toString());
    }

    @Test
    void softwareModeCutsTheCodecsBatchesInUserSpace() throws Exception {
        Prerequisites.requireTransport(Transport.EPOLL.displayName(), Transport.EPOLL.unavailabilityCause());
        long bytes = 2L << 20;
        Result r = QuicBulkTransfer.run(Transport.EPOLL, bytes, SendMode.SOFTWARE, false, TIMEOUT_MILLIS);
        System.out.println("QUIC bulk: " + r);
        assertFalse(r.server.kernelPath);
        assertEquals(0, r.server.kernelSends);
        assertTrue(r.server.softwareDatagrams > r.server.passedThrough, "the codec did not batch: " + r);
    }

    @Test
    void aChannelWithoutTheEncoderGetsNoAllocator() {
        EmbeddedChannel ch = new EmbeddedChannel();
        try {
            assertSame(SegmentedDatagramPacketAllocator.NONE, QuicUso.allocator(ch));
            assertNull(QuicUso.encoder(ch));
        } finally {
            ch.finishAndReleaseAll();
        }
        assertThrows(IllegalArgumentException.class, () -> QuicUso.newBootstrap(null));
        assertThrows(IllegalArgumentException.class, () -> QuicUso.server(null));
    }

    @Test
    void nativeTransportsGetAnAllocatorOnlyWithKernelUso() {
        for (Transport t : new Transport[] {Transport.EPOLL, Transport.IO_URING}) {
            boolean uso = OffloadCapabilities.get().isKernelSegmentationAvailable(t);
            SegmentedDatagramPacketAllocator a = QuicUso.allocator(t);
            assertEquals(uso, a != SegmentedDatagramPacketAllocator.NONE, t.toString());
            if (uso) {
                assertEquals(OffloadCapabilities.get().maxSegmentsPerSend(), a.maxNumSegments());
            }
        }
    }
}
