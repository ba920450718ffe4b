package dev.nettyoffload.core.uring;

import dev.nettyoffload.testkit.Prerequisites;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.uring.IoUringBufferRingConfig;
import io.netty.channel.uring.IoUringFixedBufferRingAllocator;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringIoHandlerConfig;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import dev.nettyoffload.core.Transport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every test of {@link IoUringDatagramReaderTest} again in {@link ReaderMode#MULTISHOT}, and what only that mode
 * has: payload handed up without a copy, the provided-buffer group running dry while the application holds
 * messages, and messages that outlive the channel.
 */
class IoUringMultishotReaderTest extends IoUringDatagramReaderTest {

    @BeforeAll
    static void requireMultishot() {
        Prerequisites.requireKernelFeature(IoUringDatagramReader.multishotProblem() == null,
                "io_uring multishot RECVMSG: " + IoUringDatagramReader.multishotProblem());
    }

    @Override
    ReaderMode mode() {
        return ReaderMode.MULTISHOT;
    }

    @Test
    void payloadIsASliceOfTheProvidedBufferUntilReleased() throws Exception {
        Channel rx = receiver("127.0.0.1");
        IoUringDatagramReader reader = attach(rx, 2048, 4).sync().getNow();
        assertEquals(ReaderMode.MULTISHOT, reader.mode(), reader.toString());
        assertNull(reader.fallbackReason());
        java.nio.channels.DatagramChannel plain = jdkSender("127.0.0.1");
        for (int i = 0; i < 10; i++) {
            plain.send(ByteBuffer.wrap(sequenced(i, 100 + i)), rx.localAddress());
            DatagramPacket p = take();
            try {
                assertTrue(p.content() instanceof ProvidedBuf || p.content() instanceof ProvidedNioBuf,
                        p.content().getClass().getName());
                assertEquals(1, (int) onLoop(rx, reader::heldBuffers));
                assertEquals(i, p.content().getInt(0));
                assertEquals(100 + i, p.content().readableBytes());
                // The capacity is the provided buffer's payload room, as a receive buffer's would be.
                assertEquals(2048, p.content().capacity());
            } finally {
                p.release();
            }
            awaitTrue(() -> reader.heldBuffers() == 0, "buffer back after release: " + reader);
        }
        // 10 datagrams through 4 buffers: each went back to the group and was used again.
        assertEquals(10L, onLoop(rx, reader::reads));
        assertEquals(0L, onLoop(rx, reader::noBufferStalls));
    }

    @Test
    void slowConsumerExhaustsTheGroupThenReadingResumesInOrder() throws Exception {
        requireUso();
        int buffers = 8;
        Channel rx = new Bootstrap().group(uring).channel(Transport.IO_URING.datagramChannelClass())
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.SO_RCVBUF, 4 << 20) // holds what arrives while the buffers are held
                .handler(new Collector(received, null))
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        channels.add(rx);
        IoUringDatagramReader reader = attach(rx, 16 * 1024, buffers).sync().getNow();
        Channel tx = usoSender("127.0.0.1");
        int segment = 1000;
        int total = 40;
        List<DatagramPacket> held = new ArrayList<>();
        int next = 0;
        // Phase 1: the application keeps every message; the kernel runs out of buffers.
        for (; next < buffers + 12; next++) {
            sendSegmented(tx, sequenced(next, 6 * segment), segment, rx.localAddress());
        }
        for (int i = 0; i < buffers; i++) {
            held.add(take());
        }
        awaitTrue(() -> onLoop(rx, reader::noBufferStalls) >= 1, "ENOBUFS seen: " + reader);
        assertNull(received.poll(100, TimeUnit.MILLISECONDS), "a message without a buffer: " + reader);
        assertEquals(buffers, (int) onLoop(rx, reader::heldBuffers));
        assertTrue(onLoop(rx, reader::isReading), reader.toString());

        // Phase 2: release them (half from another thread); reading resumes where it stopped.
        List<DatagramPacket> all = new ArrayList<>(held);
        int expectedSeq = 0;
        for (DatagramPacket p : all) {
            assertEquals(expectedSeq++, p.content().getInt(p.content().readerIndex()));
        }
        CompletableFuture.runAsync(() -> all.subList(0, buffers / 2).forEach(DatagramPacket::release))
                .get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        all.subList(buffers / 2, buffers).forEach(DatagramPacket::release);
        held.clear();
        for (; next < total; next++) {
            sendSegmented(tx, sequenced(next, 6 * segment), segment, rx.localAddress());
        }
        // UDP may drop at the socket; what arrives is whole, in order, and the last batch arrives.
        int last = buffers - 1;
        while (last < total - 1) {
            DatagramPacket p = take();
            try {
                SegmentedDatagramPacket s = assertInstanceOf(SegmentedDatagramPacket.class, p);
                assertEquals(segment, s.segmentSize());
                int seq = p.content().getInt(p.content().readerIndex());
                assertTrue(seq > last, "order: " + seq + " after " + last);
                assertArrayEquals(sequenced(seq, 6 * segment), bytes(p.content()), "batch " + seq);
                last = seq;
            } finally {
                p.release();
            }
        }
        awaitTrue(() -> onLoop(rx, reader::heldBuffers) == 0, "all buffers back: " + reader);
        assertTrue(onLoop(rx, reader::isReading), reader.toString());
        int group = reader.bufferGroup();
        assertTrue(BufferGroupIds.isInUse(group));
        rx.close().sync();
        awaitTrue(() -> onLoop(rx, reader::isMemoryFreed), "freed after close: " + reader);
        assertFalse(BufferGroupIds.isInUse(group), "group id kept: REMOVE_BUFFERS did not empty it");
    }

    @Test
    void messagesHeldPastCloseStayValidAndAreFreedOnRelease() throws Exception {
        Channel rx = receiver("127.0.0.1");
        IoUringDatagramReader reader = attach(rx, 4096, 4).sync().getNow();
        java.nio.channels.DatagramChannel plain = jdkSender("127.0.0.1");
        List<DatagramPacket> held = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            plain.send(ByteBuffer.wrap(sequenced(i, 3000)), rx.localAddress());
            held.add(take());
        }
        rx.close().sync();
        awaitTrue(() -> reader.isReleased(), "kernel done after close: " + reader);
        assertFalse(reader.isReading());
        assertFalse(reader.isMemoryFreed(), "freed under the application's messages");
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(sequenced(i, 3000), bytes(held.get(i).content()));
        }
        held.get(0).release();
        CompletableFuture.runAsync(() -> held.get(1).release()).get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        assertFalse(reader.isMemoryFreed());
        held.get(2).release();
        awaitTrue(reader::isMemoryFreed, "freed after the last release: " + reader);
        assertEquals(0, reader.heldBuffers());
        // REMOVE_BUFFERS emptied the group, so its id serves the next reader.
        assertFalse(BufferGroupIds.isInUse(reader.bufferGroup()), reader.toString());
    }

    @Test
    void closeWhileDatagramsArrive() throws Exception {
        java.nio.channels.DatagramChannel plain = jdkSender("127.0.0.1");
        for (int round = 0; round < 10; round++) {
            Channel rx = receiver("127.0.0.1");
            IoUringDatagramReader reader = attach(rx, 2048, 8).sync().getNow();
            AtomicInteger sent = new AtomicInteger();
            CompletableFuture<Void> sender = CompletableFuture.runAsync(() -> {
                try {
                    while (rx.isOpen() && sent.get() < 100_000) {
                        plain.send(ByteBuffer.wrap(sequenced(sent.getAndIncrement(), 200)), rx.localAddress());
                    }
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            Thread.sleep(5 + round);
            rx.close().sync();
            sender.get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
            for (Object o; (o = received.poll()) != null; ) {
                ((DatagramPacket) o).release();
            }
            awaitTrue(() -> onLoop(rx, reader::isMemoryFreed), "freed after close: " + reader);
        }
    }

    @Test
    void fallsBackToSingleShotWhenTheKernelRefusesTheBuffers() throws Exception {
        // The group id the next reader gets is made a buffer ring of Netty's on its event loop: the kernel refuses
        // PROVIDE_BUFFERS into it (EINVAL), and the reader reads with single-shot RECVMSGs instead.
        short next = 7;
        BufferGroupIds.startAt(next);
        EventLoopGroup own = new MultiThreadIoEventLoopGroup(1, IoUringIoHandler.newFactory(new IoUringIoHandlerConfig()
                .setBufferRingConfig(IoUringBufferRingConfig.builder().bufferGroupId(next).bufferRingSize((short) 16)
                        .batchSize(8).allocator(new IoUringFixedBufferRingAllocator(1024)).build())));
        try {
            Channel rx = new Bootstrap().group(own).channel(Transport.IO_URING.datagramChannelClass())
                    .option(ChannelOption.AUTO_READ, false).handler(new Collector(received, null))
                    .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
            IoUringDatagramReader reader = attach(rx).sync().getNow();
            assertEquals(next, reader.bufferGroup());
            assertEquals(ReaderMode.SINGLE_SHOT, reader.mode(), reader.toString());
            assertTrue(reader.fallbackReason().contains("IORING_OP_PROVIDE_BUFFERS: EINVAL"), reader.toString());
            assertTrue(reader.description().contains("single-shot"), reader.description());
            assertNull(IoUringDatagramReader.multishotProblem(), "a group conflict is not the kernel's lack");
            java.nio.channels.DatagramChannel plain = jdkSender("127.0.0.1");
            for (int i = 0; i < 10; i++) {
                plain.send(ByteBuffer.wrap(sequenced(i, 500)), rx.localAddress());
            }
            assertSequence(0, 10);
            rx.close().sync();
            awaitTrue(reader::isMemoryFreed, "freed after close: " + reader);
            assertFalse(BufferGroupIds.isInUse(next), "never provided, so the id is free again");
        } finally {
            BufferGroupIds.startAt(BufferGroupIds.FIRST);
            own.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).sync();
        }
    }

    @Test
    void readersOnOneEventLoopUseTheirOwnBufferGroups() throws Exception {
        Channel a = receiver("127.0.0.1");
        Channel b = receiver("127.0.0.1");
        IoUringDatagramReader ra = attach(a, 2048, 2).sync().getNow();
        IoUringDatagramReader rb = attach(b, 2048, 2).sync().getNow();
        assertEquals(a.eventLoop(), b.eventLoop());
        assertNotEquals(ra.toString().replaceAll(".*group (\\d+).*", "$1"),
                rb.toString().replaceAll(".*group (\\d+).*", "$1"));
        java.nio.channels.DatagramChannel plain = jdkSender("127.0.0.1");
        for (int i = 0; i < 20; i++) {
            Channel to = i % 2 == 0 ? a : b;
            plain.send(ByteBuffer.wrap(sequenced(i, 64)), to.localAddress());
            DatagramPacket p = take();
            try {
                assertEquals(to.localAddress(), p.recipient());
                assertEquals(i, p.content().getInt(p.content().readerIndex()));
            } finally {
                p.release();
            }
        }
    }
}
