package dev.nettyoffload.gso;

import dev.nettyoffload.core.Errno;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.Errors;
import io.netty.channel.unix.SegmentedDatagramPacket;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GsoEncoderTest {
    private static final InetSocketAddress V4 = new InetSocketAddress("127.0.0.1", 9999);
    private static final InetSocketAddress V6 = new InetSocketAddress("::1", 9999);

    /** One expected output message: its payload length and, for a segmented one, its segment size. */
    private static final class Out {
        final int length;
        final int segmentSize; // 0 for a plain datagram

        Out(int length, int segmentSize) {
            this.length = length;
            this.segmentSize = segmentSize;
        }

        @Override
        public String toString() {
            return segmentSize == 0 ? "plain(" + length + ")" : "segmented(" + length + "/" + segmentSize + ")";
        }
    }

    private static Out plain(int length) {
        return new Out(length, 0);
    }

    private static Out segmented(int length, int segmentSize) {
        return new Out(length, segmentSize);
    }

    static Stream<Arguments> kernelSplits() {
        return Stream.of(
                Arguments.of("1 byte passes through", 1400, 128, V4, 1, List.of(plain(1))),
                Arguments.of("one full segment passes through", 1400, 128, V4, 1400, List.of(plain(1400))),
                Arguments.of("one segment + 1", 1400, 128, V4, 1401, List.of(segmented(1401, 1400))),
                Arguments.of("ten full segments", 1400, 128, V4, 14000, List.of(segmented(14000, 1400))),
                // 65493 / 1400 = 46 segments fit one IPv4 send; the remaining 1136 bytes are one datagram.
                Arguments.of("64 KiB over IPv4", 1400, 128, V4, 65536,
                        List.of(segmented(64400, 1400), plain(1136))),
                // 65473 / 1400 = 46 as well over IPv6.
                Arguments.of("64 KiB over IPv6", 1400, 128, V6, 65536,
                        List.of(segmented(64400, 1400), plain(1136))),
                Arguments.of("segment count limit 128", 100, 128, V4, 25600,
                        List.of(segmented(12800, 100), segmented(12800, 100))),
                Arguments.of("segment count limit 64", 100, 64, V4, 12801,
                        List.of(segmented(6400, 100), segmented(6400, 100), plain(1))),
                Arguments.of("max segments exactly", 500, 128, V4, 64000, List.of(segmented(64000, 500))),
                // 65493 / 1000 = 65 segments over IPv4; bytes bound the count.
                Arguments.of("payload limit bounds the count", 1000, 128, V4, 66000,
                        List.of(segmented(65000, 1000), plain(1000))),
                Arguments.of("short last segment inside a send", 1400, 128, V4, 3000, List.of(segmented(3000, 1400))),
                // 46 x 1424 = 65504 bytes would fit the IP length field (65507) but not a device's gso_max_size
                // with the Ethernet header (65504 + 8 + 20 + 14 >= 65536): the kernel would cut such a send into
                // datagrams before the device, so sends stop at 45 segments (64080 bytes).
                Arguments.of("sends stay below gso_max_size", 1424, 128, V4, 46 * 1424,
                        List.of(segmented(45 * 1424, 1424), plain(1424))),
                // IPv6: 65473 / 1456 = 44 segments, where 65527 / 1456 would allow 45.
                Arguments.of("sends stay below gso_max_size over IPv6", 1456, 128, V6, 45 * 1456,
                        List.of(segmented(44 * 1456, 1456), plain(1456))),
                // A segment that fits one datagram but not a whole segmented send goes as one datagram per piece.
                Arguments.of("segment larger than a segmented send", 65500, 128, V4, 65500 + 10,
                        List.of(plain(65500), plain(10))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernelSplits")
    void kernelPathSplitsIntoSendsTheKernelAccepts(String name, int segmentSize, int maxSegmentsPerSend,
                                                   InetSocketAddress recipient, int length, List<Out> expected) {
        GsoEncoder encoder = new GsoEncoder(GsoConfig.newBuilder().segmentSize(segmentSize)
                .mode(GsoMode.KERNEL).maxSegmentsPerSend(maxSegmentsPerSend).build());
        EmbeddedChannel ch = new EmbeddedChannel(encoder);
        ByteBuf payload = sequence(length);
        DatagramPacket in = new DatagramPacket(payload, recipient);
        assertTrue(ch.writeOutbound(in));
        List<DatagramPacket> out = readAll(ch);
        try {
            assertEquals(expected.size(), out.size(), "outputs " + describe(out));
            for (int i = 0; i < expected.size(); i++) {
                DatagramPacket p = out.get(i);
                assertEquals(expected.get(i).length, p.content().readableBytes(), "output " + i);
                if (expected.get(i).segmentSize == 0) {
                    assertFalse(p instanceof SegmentedDatagramPacket, "output " + i + " must be plain");
                } else {
                    assertInstanceOf(SegmentedDatagramPacket.class, p);
                    assertEquals(expected.get(i).segmentSize, ((SegmentedDatagramPacket) p).segmentSize());
                }
                assertSame(recipient, p.recipient());
            }
            assertConcatenationEquals(payload, out);
            assertSharesMemory(payload, out);
            long plain = expected.stream().filter(o -> o.segmentSize == 0).count();
            GsoCounters.Snapshot c = encoder.counters().snapshot();
            boolean passed = length <= segmentSize;
            assertEquals(passed ? 1 : 0, c.passedThrough(), c.toString());
            // Also when the rest of the write waited behind the channel's first kernel send.
            assertEquals(passed ? 0 : 1, c.writes(), c.toString());
            // A one-segment piece of a kernel-path write is a single datagram, not a software one.
            assertEquals(passed ? 0 : plain, c.singleDatagrams(), c.toString());
            assertEquals(expected.size() - plain, c.kernelSends(), c.toString());
            assertEquals(0, c.softwareDatagrams(), c.toString());
        } finally {
            releaseAll(out);
        }
        assertEquals(0, payload.refCnt(), "input must be released once the outputs are");
        assertFalse(ch.finish());
    }

    @Test
    void softwarePathCutsRetainedSlicesOfTheInput() {
        GsoEncoder encoder = new GsoEncoder(GsoConfig.newBuilder().segmentSize(1400).mode(GsoMode.SOFTWARE).build());
        EmbeddedChannel ch = new EmbeddedChannel(encoder);
        ByteBuf payload = sequence(65536);
        assertTrue(ch.writeOutbound(new SegmentedDatagramPacket(payload, 1400, V4)));
        List<DatagramPacket> out = readAll(ch);
        try {
            assertEquals(47, out.size());
            for (int i = 0; i < out.size(); i++) {
                DatagramPacket p = out.get(i);
                assertFalse(p instanceof SegmentedDatagramPacket);
                assertEquals(i < 46 ? 1400 : 65536 - 46 * 1400, p.content().readableBytes());
            }
            assertConcatenationEquals(payload, out);
            assertSharesMemory(payload, out);
            assertEquals(47, encoder.counters().softwareDatagrams());
            assertEquals(0, encoder.counters().kernelSends());
        } finally {
            releaseAll(out);
        }
        assertEquals(0, payload.refCnt());
        assertFalse(ch.finish());
    }

    @Test
    void softwareWriteCompletesWhenItsLastSliceIsWritten() {
        SliceSink sink = new SliceSink();
        EmbeddedChannel ch = new EmbeddedChannel(sink,
                new GsoEncoder(GsoConfig.newBuilder().segmentSize(1000).mode(GsoMode.SOFTWARE).build()));
        ChannelFuture f = ch.writeOneOutbound(new DatagramPacket(sequence(3500), V4));
        ch.flushOutbound();
        assertEquals(4, sink.promises.size());
        for (int i = 0; i < 3; i++) {
            assertTrue(sink.promises.get(i).trySuccess());
            assertFalse(f.isDone(), "slice " + i + " of 4 written");
        }
        sink.promises.get(3).setSuccess();
        assertTrue(f.isSuccess(), String.valueOf(f.cause()));
        sink.releaseAll();
        assertFalse(ch.finish());
    }

    @Test
    void handlerBelowTheEncoderSeesEachSlicePromiseComplete() {
        // A handler between the encoder and the channel that listens to the promises it is given (as
        // ChunkedWriteHandler or a flow-control handler does) must be told of each slice's outcome.
        List<ChannelFuture> seen = new ArrayList<>();
        int[] notified = new int[1];
        EmbeddedChannel ch = new EmbeddedChannel(new ChannelOutboundHandlerAdapter() {
            @Override
            public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
                seen.add(promise);
                promise.addListener(f -> notified[0]++);
                ctx.write(msg, promise);
            }
        }, new GsoEncoder(GsoConfig.newBuilder().segmentSize(1000).mode(GsoMode.SOFTWARE).build()));
        ChannelFuture f = ch.writeOneOutbound(new DatagramPacket(sequence(3500), V4));
        ch.flushOutbound();
        releaseAll(readAll(ch));
        assertEquals(4, seen.size());
        assertEquals(4, notified[0]);
        for (ChannelFuture slice : seen) {
            assertTrue(slice.isSuccess());
        }
        assertTrue(f.isSuccess());
        assertFalse(ch.finish());
    }

    @Test
    void softwareWriteFailsWithItsFirstFailedSliceOnceAllAreDone() {
        SliceSink sink = new SliceSink();
        EmbeddedChannel ch = new EmbeddedChannel(sink,
                new GsoEncoder(GsoConfig.newBuilder().segmentSize(1000).mode(GsoMode.SOFTWARE).build()));
        ChannelFuture f = ch.writeOneOutbound(new DatagramPacket(sequence(4000), V4));
        ChannelFuture next = ch.writeOneOutbound(new DatagramPacket(sequence(2000), V4));
        ch.flushOutbound();
        assertEquals(6, sink.promises.size());
        IllegalStateException first = new IllegalStateException("first");
        sink.promises.get(0).setSuccess();
        assertTrue(sink.promises.get(1).tryFailure(first));
        sink.promises.get(2).setFailure(new IllegalStateException("second"));
        assertFalse(f.isDone(), "one slice is still being written");
        sink.promises.get(3).trySuccess();
        assertSame(first, f.cause());
        assertFalse(next.isDone(), "the next write has promises of its own");
        sink.promises.get(4).trySuccess();
        sink.promises.get(5).trySuccess();
        assertTrue(next.isSuccess(), String.valueOf(next.cause()));
        sink.releaseAll();
        assertFalse(ch.finish());
    }

    @Test
    void softwareWriteFailsWhenEverySliceIsRefusedAtOnce() {
        GsoEncoder encoder = new GsoEncoder(GsoConfig.newBuilder().segmentSize(1000).mode(GsoMode.SOFTWARE).build());
        EmbeddedChannel ch = new EmbeddedChannel(new ChannelOutboundHandlerAdapter() {
            @Override
            public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
                // As a closed channel does: release and fail within the write call.
                ReferenceCountUtil.release(msg);
                promise.setFailure(new java.nio.channels.ClosedChannelException());
            }
        }, encoder);
        ByteBuf payload = sequence(3000);
        ChannelFuture f = ch.writeOneOutbound(new DatagramPacket(payload, V4));
        assertInstanceOf(java.nio.channels.ClosedChannelException.class, f.cause());
        assertEquals(3, encoder.counters().softwareDatagrams());
        assertEquals(0, payload.refCnt());
        assertFalse(ch.finish());
    }

    @Test
    void directBuffersAreSlicedWithoutCopy() {
        EmbeddedChannel ch = new EmbeddedChannel(new GsoEncoder(GsoConfig.newBuilder().mode(GsoMode.SOFTWARE).build()));
        ByteBuf payload = Unpooled.directBuffer(5000).writeBytes(sequence(5000));
        ch.writeOutbound(new DatagramPacket(payload, V4));
        List<DatagramPacket> out = readAll(ch);
        try {
            long base = payload.memoryAddress() + payload.readerIndex();
            long offset = 0;
            for (DatagramPacket p : out) {
                assertEquals(base + offset, p.content().memoryAddress() + p.content().readerIndex());
                offset += p.content().readableBytes();
            }
            assertEquals(5000, offset);
        } finally {
            releaseAll(out);
        }
        assertEquals(0, payload.refCnt());
        assertFalse(ch.finish());
    }

    @Test
    void smallDatagramsAndOtherMessagesPassThroughUntouched() {
        GsoEncoder encoder = new GsoEncoder();
        EmbeddedChannel ch = new EmbeddedChannel(encoder);
        DatagramPacket small = new DatagramPacket(sequence(GsoConfig.DEFAULT_SEGMENT_SIZE), V4);
        ByteBuf raw = sequence(10);
        ch.writeOutbound(small, raw, "not a datagram");
        assertSame(small, ch.readOutbound());
        assertSame(raw, ch.readOutbound());
        assertEquals("not a datagram", ch.readOutbound());
        assertEquals(1, encoder.counters().passedThrough(), "only datagrams are counted");
        small.release();
        raw.release();
        assertFalse(ch.finish());
    }

    @Test
    void singleSegmentSegmentedPacketLeavesAsPlainDatagram() {
        EmbeddedChannel ch = new EmbeddedChannel(new GsoEncoder(GsoConfig.newBuilder().mode(GsoMode.KERNEL).build()));
        ByteBuf payload = sequence(500);
        ch.writeOutbound(new SegmentedDatagramPacket(payload, 1000, V4));
        DatagramPacket out = ch.readOutbound();
        assertFalse(out instanceof SegmentedDatagramPacket);
        assertSame(payload, out.content());
        out.release();
        assertFalse(ch.finish());
    }

    @Test
    void softwareModeOnEmbeddedAndAutoModeOnEmbeddedUseSoftware() {
        GsoEncoder auto = new GsoEncoder();
        EmbeddedChannel ch = new EmbeddedChannel(auto);
        assertFalse(auto.isKernelPath(), "EmbeddedChannel is not a native transport");
        ch.writeOutbound(new DatagramPacket(sequence(3000), V4));
        assertEquals(3, ch.outboundMessages().size());
        assertTrue(ch.finishAndReleaseAll());
    }

    @Test
    void segmentSizeLargerThanADatagramFailsThePromiseAndReleases() {
        EmbeddedChannel ch = new EmbeddedChannel(new GsoEncoder(GsoConfig.newBuilder().mode(GsoMode.KERNEL).build()));
        ByteBuf payload = sequence(70000);
        ChannelFuture f = ch.writeOneOutbound(new SegmentedDatagramPacket(payload, 65508, V4));
        ch.flushOutbound();
        assertTrue(f.isDone());
        GsoException e = assertInstanceOf(GsoException.class, f.cause());
        assertTrue(e.getMessage().contains("65508") && e.getMessage().contains("65507"), e.getMessage());
        assertEquals(0, payload.refCnt());
        assertNull(ch.readOutbound());
        // The channel stays usable.
        ch.writeOutbound(new DatagramPacket(sequence(2000), V4));
        assertInstanceOf(SegmentedDatagramPacket.class, ch.outboundMessages().peek());
        assertTrue(ch.finishAndReleaseAll());
    }

    @Test
    void ipv6AllowsTheLargerPayload() {
        EmbeddedChannel ch = new EmbeddedChannel(new GsoEncoder(GsoConfig.newBuilder().mode(GsoMode.KERNEL).build()));
        ChannelFuture f = ch.writeOneOutbound(new SegmentedDatagramPacket(sequence(70000), 65527, V6));
        ch.flushOutbound();
        assertTrue(f.isSuccess(), String.valueOf(f.cause()));
        assertTrue(ch.finishAndReleaseAll());
    }

    @Test
    void noRecipientOnAnUnconnectedChannelFails() {
        EmbeddedChannel ch = new EmbeddedChannel(new GsoEncoder());
        ByteBuf payload = sequence(5000);
        ChannelFuture f = ch.writeOneOutbound(new DatagramPacket(payload, null, V4));
        assertInstanceOf(GsoException.class, f.cause());
        assertTrue(f.cause().getMessage().contains("no recipient"), f.cause().getMessage());
        assertEquals(0, payload.refCnt());
        assertFalse(ch.finish());
    }

    @Test
    void kernelRefusalFallsBackToSoftwareWithoutLossOrDuplicates() {
        GsoEncoder encoder = new GsoEncoder(GsoConfig.newBuilder().segmentSize(1000).mode(GsoMode.KERNEL).build());
        KernelRefusal refusal = new KernelRefusal(Errno.EINVAL);
        EmbeddedChannel ch = new EmbeddedChannel(refusal, encoder);
        ByteBuf payload = sequence(100_000);
        ChannelFuture f = ch.writeOneOutbound(new DatagramPacket(payload, V4));
        ch.flushOutbound();
        assertTrue(f.isSuccess(), String.valueOf(f.cause()));
        List<DatagramPacket> out = readAll(ch);
        try {
            assertEquals(100, out.size());
            for (DatagramPacket p : out) {
                assertFalse(p instanceof SegmentedDatagramPacket);
                assertEquals(1000, p.content().readableBytes());
            }
            assertConcatenationEquals(payload, out);
        } finally {
            releaseAll(out);
        }
        assertEquals(0, payload.refCnt());
        assertFalse(encoder.isKernelPath());
        // 65493 / 1000 = 65 segments per send: the first send was refused, so the rest of the write
        // went to software without trying the kernel again.
        assertEquals(1, encoder.counters().fallbacks());
        assertEquals(1, encoder.counters().rejections(Errno.EINVAL));
        assertEquals(1, refusal.refused);

        // Later writes go straight to software.
        ch.writeOutbound(new DatagramPacket(sequence(3000), V4));
        assertEquals(3, ch.outboundMessages().size());
        assertEquals(1, refusal.refused);
        assertTrue(ch.finishAndReleaseAll());
    }

    @Test
    void kernelRefusalIsRecordedForFlightRecorder(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("gso.jfr");
        try (Recording r = new Recording()) {
            r.enable("dev.nettyoffload.KernelRefusal");
            r.start();
            GsoEncoder encoder = new GsoEncoder(GsoConfig.newBuilder().segmentSize(1000).mode(GsoMode.KERNEL)
                    .build());
            EmbeddedChannel ch = new EmbeddedChannel(new KernelRefusal(Errno.EIO), encoder);
            ch.writeOneOutbound(new DatagramPacket(sequence(5000), V4));
            ch.flushOutbound();
            releaseAll(readAll(ch));
            assertFalse(ch.finish());
            r.stop();
            r.dump(file);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file);
        assertEquals(1, events.size(), events.toString());
        RecordedEvent e = events.get(0);
        assertEquals("EIO", e.getString("errno"));
        assertEquals(1000, e.getInt("segmentSize"));
        assertEquals(5, e.getInt("segments"));
        assertEquals(V4.toString(), e.getString("destination"));
    }

    @Test
    void kernelRefusalWithVoidPromiseStillDeliversEverything() {
        GsoEncoder encoder = new GsoEncoder(GsoConfig.newBuilder().segmentSize(1000).mode(GsoMode.KERNEL).build());
        EmbeddedChannel ch = new EmbeddedChannel(new KernelRefusal(Errno.EIO), encoder);
        ByteBuf payload = sequence(5000);
        ch.writeOneOutbound(new DatagramPacket(payload, V4), ch.voidPromise());
        ch.flushOutbound();
        List<DatagramPacket> out = readAll(ch);
        try {
            assertEquals(5, out.size());
            assertConcatenationEquals(payload, out);
        } finally {
            releaseAll(out);
        }
        assertEquals(1, encoder.counters().rejections(Errno.EIO));
        assertEquals(0, payload.refCnt());
        assertFalse(ch.finish());
    }

    @Test
    void emsgsizeIsTheApplicationsErrorAndNothingIsResent() {
        GsoEncoder encoder = new GsoEncoder(GsoConfig.newBuilder().segmentSize(9000).mode(GsoMode.KERNEL).build());
        EmbeddedChannel ch = new EmbeddedChannel(new KernelRefusal(Errno.EMSGSIZE), encoder);
        ByteBuf payload = sequence(20000);
        ChannelFuture f = ch.writeOneOutbound(new DatagramPacket(payload, V4));
        ch.flushOutbound();
        assertEquals(Errno.EMSGSIZE, Errno.of(f.cause()));
        assertNull(ch.readOutbound());
        assertTrue(encoder.isKernelPath(), "EMSGSIZE says nothing against UDP_SEGMENT");
        assertEquals(0, encoder.counters().fallbacks());
        assertEquals(1, encoder.counters().rejections(Errno.EMSGSIZE));
        assertEquals(0, payload.refCnt());
        assertFalse(ch.finish());
    }

    @Test
    void voidPromiseOnBothPaths() {
        for (GsoMode mode : new GsoMode[] {GsoMode.KERNEL, GsoMode.SOFTWARE}) {
            EmbeddedChannel ch = new EmbeddedChannel(new GsoEncoder(GsoConfig.newBuilder().mode(mode).build()));
            ByteBuf payload = sequence(200_000);
            ch.writeOneOutbound(new DatagramPacket(payload, V4), ch.voidPromise());
            ch.flushOutbound();
            List<DatagramPacket> out = readAll(ch);
            try {
                assertConcatenationEquals(payload, out);
            } finally {
                releaseAll(out);
            }
            assertEquals(0, payload.refCnt(), mode.toString());
            assertFalse(ch.finish());
        }
    }

    @Test
    void configRejectsNonsense() {
        assertThrows(IllegalArgumentException.class, () -> GsoConfig.newBuilder().segmentSize(0));
        assertThrows(IllegalArgumentException.class, () -> GsoConfig.newBuilder().segmentSize(65528));
        assertThrows(IllegalArgumentException.class, () -> GsoConfig.newBuilder().maxSegmentsPerSend(1));
        assertThrows(IllegalArgumentException.class, () -> GsoConfig.newBuilder().maxSegmentsPerSend(129));
        assertThrows(IllegalArgumentException.class, () -> GsoConfig.newBuilder().mode(null));
        assertThrows(IllegalArgumentException.class, () -> new GsoEncoder((GsoConfig) null));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new GsoEncoder(-5));
        assertTrue(e.getMessage().startsWith("segmentSize: -5"), e.getMessage());
        GsoConfig c = GsoConfig.newBuilder().segmentSize(1200).mode(GsoMode.SOFTWARE).maxSegmentsPerSend(64).build();
        GsoConfig copy = c.toBuilder().build();
        assertEquals(c.toString(), copy.toString());
    }

    @Test
    void writesAfterAnUnconfirmedKernelSendWaitAndKeepOrderWhenItIsRefused() {
        GsoEncoder encoder = new GsoEncoder(GsoConfig.newBuilder().segmentSize(1000).mode(GsoMode.KERNEL).build());
        DeferredKernel kernel = new DeferredKernel(Errno.EINVAL);
        EmbeddedChannel ch = new EmbeddedChannel(kernel, encoder);
        ByteBuf first = sequence(100_000);
        ByteBuf small = sequence(300);
        ChannelFuture f1 = ch.write(new DatagramPacket(first, V4));
        ChannelFuture f2 = ch.write(new DatagramPacket(small, V4));
        assertTrue(ch.outboundMessages().isEmpty(), "nothing passes before the first send's outcome");
        ch.flush();
        assertTrue(f1.isSuccess() && f2.isSuccess(), f1.cause() + " " + f2.cause());
        List<DatagramPacket> out = readAll(ch);
        try {
            assertEquals(101, out.size());
            assertConcatenationEquals(first, out.subList(0, 100));
            assertEquals(300, out.get(100).content().readableBytes(), "the later write comes last");
        } finally {
            releaseAll(out);
        }
        assertEquals(1, kernel.completed);
        assertEquals(1, encoder.counters().fallbacks());
        assertEquals(0, first.refCnt());
        assertEquals(0, small.refCnt());
        assertFalse(ch.finish());
    }

    @Test
    void writesAfterAnUnconfirmedKernelSendWaitAndKeepOrderWhenItSucceeds() {
        GsoEncoder encoder = new GsoEncoder(GsoConfig.newBuilder().segmentSize(1000).mode(GsoMode.KERNEL).build());
        DeferredKernel kernel = new DeferredKernel(0);
        EmbeddedChannel ch = new EmbeddedChannel(kernel, encoder);
        ChannelFuture f1 = ch.write(new DatagramPacket(sequence(100_000), V4));
        ChannelFuture f2 = ch.write(new DatagramPacket(sequence(300), V4));
        ch.flush();
        assertTrue(f1.isSuccess() && f2.isSuccess());
        List<DatagramPacket> out = readAll(ch);
        try {
            // 65 segments in the first send, the remaining 35 in a second one, then the small write.
            assertEquals(3, out.size(), describe(out));
            assertEquals(65_000, out.get(0).content().readableBytes());
            assertEquals(35_000, out.get(1).content().readableBytes());
            assertEquals(300, out.get(2).content().readableBytes());
        } finally {
            releaseAll(out);
        }
        assertTrue(encoder.isKernelPath());
        // Confirmed: the next write is not held.
        ch.write(new DatagramPacket(sequence(5000), V4));
        ch.write(new DatagramPacket(sequence(10), V4));
        assertEquals(2, kernel.pending.size(), "the second write was not held in the encoder");
        ch.flush();
        assertTrue(ch.finishAndReleaseAll());
    }

    @Test
    void closeWhileHoldingReleasesHeldWrites() {
        GsoEncoder encoder = new GsoEncoder(GsoConfig.newBuilder().segmentSize(1000).mode(GsoMode.KERNEL).build());
        DeferredKernel kernel = new DeferredKernel(Errno.EINVAL);
        EmbeddedChannel ch = new EmbeddedChannel(kernel, encoder);
        ByteBuf first = sequence(5000);
        ByteBuf second = sequence(3000);
        ch.write(new DatagramPacket(first, V4));
        ch.write(new DatagramPacket(second, V4));
        ChannelFuture closed = ch.close();
        assertTrue(closed.isSuccess());
        assertTrue(kernel.pending.isEmpty());
        assertFalse(ch.finishAndReleaseAll());
        assertEquals(0, first.refCnt());
        assertEquals(0, second.refCnt());
    }

    /**
     * A channel stand-in that completes writes only at flush and in order, as a real channel does: a
     * {@code SegmentedDatagramPacket} is refused with {@code errno} (or passed down when it is 0), anything
     * else passed down; at close, what is still pending fails.
     */
    static final class DeferredKernel extends ChannelOutboundHandlerAdapter {
        private final int errno;
        final java.util.ArrayDeque<Object> pending = new java.util.ArrayDeque<>();
        private final java.util.ArrayDeque<ChannelPromise> promises = new java.util.ArrayDeque<>();
        int completed;

        DeferredKernel(int errno) {
            this.errno = errno;
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            pending.add(msg);
            promises.add(promise);
        }

        @Override
        public void flush(ChannelHandlerContext ctx) {
            // Writes made by listeners while this runs join the queue and go out in the same flush.
            for (Object msg; (msg = pending.poll()) != null; ) {
                ChannelPromise promise = promises.poll();
                if (msg instanceof SegmentedDatagramPacket) {
                    completed++;
                    if (errno != 0) {
                        ReferenceCountUtil.release(msg);
                        promise.setFailure(new Errors.NativeIoException("sendmmsg", -errno));
                        continue;
                    }
                }
                ctx.write(msg, promise);
            }
            ctx.flush();
        }

        @Override
        public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
            for (Object msg; (msg = pending.poll()) != null; ) {
                ReferenceCountUtil.release(msg);
                promises.poll().setFailure(new java.nio.channels.ClosedChannelException());
            }
            ctx.close(promise);
        }
    }

    /** Keeps every write and its promise, for a test to complete one by one. */
    static final class SliceSink extends ChannelOutboundHandlerAdapter {
        final List<Object> messages = new ArrayList<>();
        final List<ChannelPromise> promises = new ArrayList<>();

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            messages.add(msg);
            promises.add(promise);
        }

        void releaseAll() {
            messages.forEach(ReferenceCountUtil::release);
            messages.clear();
        }
    }

    /** Fails every {@code SegmentedDatagramPacket} write the way the kernel would, passes the rest. */
    static final class KernelRefusal extends ChannelOutboundHandlerAdapter {
        private final int errno;
        int refused;

        KernelRefusal(int errno) {
            this.errno = errno;
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (msg instanceof SegmentedDatagramPacket) {
                refused++;
                ReferenceCountUtil.release(msg);
                promise.setFailure(new Errors.NativeIoException("sendmmsg", -errno));
            } else {
                ctx.write(msg, promise);
            }
        }
    }

    static ByteBuf sequence(int length) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (i * 31 + (i >>> 8));
        }
        return Unpooled.wrappedBuffer(bytes);
    }

    static List<DatagramPacket> readAll(EmbeddedChannel ch) {
        List<DatagramPacket> out = new ArrayList<>();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            out.add((DatagramPacket) o);
        }
        return out;
    }

    static void releaseAll(List<DatagramPacket> packets) {
        for (DatagramPacket p : packets) {
            p.release();
        }
    }

    static void assertConcatenationEquals(ByteBuf expected, List<DatagramPacket> out) {
        ByteBuf all = Unpooled.buffer();
        for (DatagramPacket p : out) {
            all.writeBytes(p.content(), p.content().readerIndex(), p.content().readableBytes());
        }
        byte[] want = new byte[expected.capacity()];
        expected.getBytes(0, want);
        byte[] got = new byte[all.readableBytes()];
        all.readBytes(got);
        all.release();
        assertArrayEquals(want, got);
    }

    /** Every output's bytes are the input's own memory: same array, at the running offset. */
    static void assertSharesMemory(ByteBuf input, List<DatagramPacket> out) {
        int offset = input.arrayOffset();
        for (DatagramPacket p : out) {
            ByteBuf c = p.content();
            assertTrue(c.hasArray());
            assertSame(input.array(), c.array(), "payload was copied");
            assertEquals(offset, c.arrayOffset() + c.readerIndex());
            offset += c.readableBytes();
        }
    }

    static String describe(List<DatagramPacket> out) {
        StringBuilder sb = new StringBuilder();
        for (DatagramPacket p : out) {
            sb.append(p instanceof SegmentedDatagramPacket
                    ? "segmented(" + p.content().readableBytes() + "/" + ((SegmentedDatagramPacket) p).segmentSize() + ")"
                    : "plain(" + p.content().readableBytes() + ")").append(' ');
        }
        return sb.toString();
    }
}
