package dev.nettyoffload.core.uring;

import dev.nettyoffload.core.DatagramChannelTuning;
import dev.nettyoffload.core.Errno;
import dev.nettyoffload.core.OffloadCapabilities;
import dev.nettyoffload.core.Transport;
import dev.nettyoffload.testkit.Prerequisites;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@link IoUringDatagramReader} on loopback: UDP_SEGMENT sends from an epoll channel (one GSO packet each,
 * which a UDP_GRO socket receives whole) and plain datagrams from JDK channels.
 */
class IoUringDatagramReaderTest {
    static final long TIMEOUT_MS = 5_000;

    static EventLoopGroup uring;
    static EventLoopGroup epoll;

    final BlockingQueue<Object> received = new LinkedBlockingQueue<>();
    final List<Channel> channels = new ArrayList<>();
    final List<java.nio.channels.DatagramChannel> jdkChannels = new ArrayList<>();
    private final ByteArrayOutputStream got = new ByteArrayOutputStream();
    /** {@link #udpReceiveBufferErrors()} when the test began, for the message of a receive that never comes. */
    private long receiveBufferErrorsAtStart;

    /** The mode every test here runs the reader in; {@link IoUringMultishotReaderTest} runs them all again. */
    ReaderMode mode() {
        return ReaderMode.SINGLE_SHOT;
    }

    Future<IoUringDatagramReader> attach(Channel ch) {
        return attach(ch, IoUringDatagramReader.DEFAULT_BUFFER_SIZE);
    }

    Future<IoUringDatagramReader> attach(Channel ch, int bufferSize) {
        return attach(ch, bufferSize, mode() == ReaderMode.MULTISHOT ? IoUringDatagramReader.DEFAULT_PROVIDED_BUFFERS
                : IoUringDatagramReader.DEFAULT_RECEIVES_IN_FLIGHT);
    }

    Future<IoUringDatagramReader> attach(Channel ch, int bufferSize, int buffers) {
        return IoUringDatagramReader.attach(ch, mode(), bufferSize, buffers);
    }

    /** RECVMSGs in flight for a reader with {@code buffers}: one multishot, or one per single-shot buffer. */
    private int expectedInFlight(int buffers) {
        return mode() == ReaderMode.MULTISHOT ? 1 : buffers;
    }

    @BeforeAll
    static void setUpGroups() {
        Prerequisites.require(IoUringDatagramReader.isSupported(), "io_uring reader: "
                + IoUringDatagramReader.unavailabilityReason());
        uring = Transport.IO_URING.newEventLoopGroup(1);
        if (Transport.EPOLL.isAvailable()) {
            epoll = Transport.EPOLL.newEventLoopGroup(1);
        }
    }

    @AfterAll
    static void tearDownGroups() throws Exception {
        if (uring != null) {
            uring.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).sync();
        }
        if (epoll != null) {
            epoll.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).sync();
        }
    }

    @BeforeEach
    void clear() {
        received.clear();
        receiveBufferErrorsAtStart = udpReceiveBufferErrors();
    }

    @AfterEach
    void closeAll() throws Exception {
        for (Channel ch : channels) {
            ch.close().sync();
        }
        for (java.nio.channels.DatagramChannel ch : jdkChannels) {
            ch.close();
        }
        for (Object o; (o = received.poll()) != null; ) {
            ReferenceCountUtil.release(o);
        }
    }

    @Test
    void segmentedSendArrivesAsOneSegmentedDatagramPacket() throws Exception {
        requireUso();
        Channel rx = receiver("127.0.0.1");
        IoUringDatagramReader reader = attach(rx).sync().getNow();
        assertTrue(reader.isUdpGroEnabled(), reader.toString());
        Channel tx = usoSender("127.0.0.1");
        byte[] data = pattern(10 * 1200, 1);
        sendSegmented(tx, data, 1200, rx.localAddress());

        DatagramPacket p = take();
        try {
            SegmentedDatagramPacket s = assertInstanceOf(SegmentedDatagramPacket.class, p);
            assertEquals(1200, s.segmentSize());
            assertArrayEquals(data, bytes(s.content()));
            assertEquals(tx.localAddress(), s.sender());
            assertEquals(rx.localAddress(), s.recipient());
        } finally {
            p.release();
        }
        assertEquals(1L, onLoop(rx, reader::batches));
        assertEquals(10L, onLoop(rx, reader::datagrams));
        assertTrue(reader.toString().contains("reading: our io_uring " + mode().description()), reader.toString());
        assertEquals(mode(), reader.mode());
    }

    @Test
    void largestKernelBatch() throws Exception {
        requireUso();
        int segments = Math.min(100, OffloadCapabilities.get().maxSegmentsPerSend());
        int segmentSize = 600; // 100 x 600 = 60000 bytes: under the 65507-byte IPv4 limit of one send
        Channel rx = receiver("127.0.0.1");
        IoUringDatagramReader reader = attach(rx).sync().getNow();
        Channel tx = usoSender("127.0.0.1");
        byte[] data = pattern(segments * segmentSize, 2);
        sendSegmented(tx, data, segmentSize, rx.localAddress());

        DatagramPacket p = take();
        try {
            SegmentedDatagramPacket s = assertInstanceOf(SegmentedDatagramPacket.class, p);
            assertEquals(segmentSize, s.segmentSize());
            assertArrayEquals(data, bytes(s.content()));
        } finally {
            p.release();
        }
        assertEquals((long) segments, onLoop(rx, reader::datagrams));
    }

    @Test
    void mixedSizesArriveInOrder() throws Exception {
        requireUso();
        Channel rx = receiver("127.0.0.1");
        IoUringDatagramReader reader = attach(rx).sync().getNow();
        Channel tx = usoSender("127.0.0.1");
        java.nio.channels.DatagramChannel plain = jdkSender("127.0.0.1");
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        int[][] sends = {{1400, 5 * 1400}, {0, 77}, {1000, 5 * 1000 + 300}, {512, 512}, {0, 1}, {1200, 2 * 1200 + 1},
            {0, 1472}, {64, 64 * 63}};
        int messages = 0;
        for (int i = 0; i < sends.length; i++) {
            byte[] data = pattern(sends[i][1], 10 + i);
            if (sends[i][0] == 0) {
                // A plain datagram from the same 4-tuple family but another socket.
                plain.send(ByteBuffer.wrap(data), rx.localAddress());
            } else {
                sendSegmented(tx, data, sends[i][0], rx.localAddress());
            }
            sent.write(data);
            messages++;
            // One send at a time, so the order across the two senders is the send order.
            assertReceivedInto(sentSoFar(sent), i);
        }
        assertEquals((long) messages, onLoop(rx, reader::reads));
        // {512, 512} is a single segment: a plain DatagramPacket.
        assertEquals(4L, onLoop(rx, reader::batches));
    }

    private static byte[] sentSoFar(ByteArrayOutputStream sent) {
        return sent.toByteArray();
    }

    private void assertReceivedInto(byte[] expectedSoFar, int step) throws Exception {
        DatagramPacket p = take();
        try {
            got.write(bytes(p.content()));
            if (p instanceof SegmentedDatagramPacket) {
                assertTrue(p.content().readableBytes() > ((SegmentedDatagramPacket) p).segmentSize());
            }
        } finally {
            p.release();
        }
        assertArrayEquals(expectedSoFar, got.toByteArray(), "after send " + step);
    }

    @Test
    void twoSendersInterleaved() throws Exception {
        requireUso();
        Channel rx = receiver("127.0.0.1");
        attach(rx).sync();
        Channel a = usoSender("127.0.0.1");
        Channel b = usoSender("127.0.0.1");
        ByteArrayOutputStream fromA = new ByteArrayOutputStream();
        ByteArrayOutputStream fromB = new ByteArrayOutputStream();
        for (int i = 0; i < 20; i++) {
            byte[] da = pattern(8 * 1000, 100 + i);
            byte[] db = pattern(3 * 1300 + 17, 200 + i);
            sendSegmented(a, da, 1000, rx.localAddress());
            sendSegmented(b, db, 1300, rx.localAddress());
            fromA.write(da);
            fromB.write(db);
        }
        ByteArrayOutputStream gotA = new ByteArrayOutputStream();
        ByteArrayOutputStream gotB = new ByteArrayOutputStream();
        while (gotA.size() < fromA.size() || gotB.size() < fromB.size()) {
            DatagramPacket p = take();
            try {
                SegmentedDatagramPacket s = assertInstanceOf(SegmentedDatagramPacket.class, p);
                if (p.sender().equals(a.localAddress())) {
                    assertEquals(1000, s.segmentSize());
                    gotA.write(bytes(p.content()));
                } else {
                    assertEquals(b.localAddress(), p.sender());
                    assertEquals(1300, s.segmentSize());
                    gotB.write(bytes(p.content()));
                }
            } finally {
                p.release();
            }
        }
        assertArrayEquals(fromA.toByteArray(), gotA.toByteArray());
        assertArrayEquals(fromB.toByteArray(), gotB.toByteArray());
    }

    @Test
    void ipv6() throws Exception {
        requireUso();
        Prerequisites.require(hasLoopback6(), "IPv6 loopback (::1)");
        Channel rx = receiver("::1");
        IoUringDatagramReader reader = attach(rx).sync().getNow();
        Channel tx = usoSender("::1");
        byte[] data = pattern(20 * 1220, 3);
        sendSegmented(tx, data, 1220, rx.localAddress());
        DatagramPacket p = take();
        try {
            assertEquals(1220, assertInstanceOf(SegmentedDatagramPacket.class, p).segmentSize());
            assertArrayEquals(data, bytes(p.content()));
            assertEquals(tx.localAddress(), p.sender());
        } finally {
            p.release();
        }
        java.nio.channels.DatagramChannel plain = jdkSender("::1");
        plain.send(ByteBuffer.wrap(new byte[] {1, 2, 3}), rx.localAddress());
        DatagramPacket q = take();
        try {
            assertFalse(q instanceof SegmentedDatagramPacket);
            assertArrayEquals(new byte[] {1, 2, 3}, bytes(q.content()));
            assertEquals(plain.getLocalAddress(), q.sender());
        } finally {
            q.release();
        }
        assertEquals(2L, onLoop(rx, reader::reads));
    }

    @Test
    void zeroLengthDatagram() throws Exception {
        Channel rx = receiver("127.0.0.1");
        IoUringDatagramReader reader = attach(rx).sync().getNow();
        java.nio.channels.DatagramChannel plain = jdkSender("127.0.0.1");
        plain.send(ByteBuffer.allocate(0), rx.localAddress());
        plain.send(ByteBuffer.wrap(new byte[] {9}), rx.localAddress());
        DatagramPacket p = take();
        try {
            assertEquals(0, p.content().readableBytes());
            assertEquals(plain.getLocalAddress(), p.sender());
        } finally {
            p.release();
        }
        DatagramPacket q = take();
        try {
            assertArrayEquals(new byte[] {9}, bytes(q.content()));
        } finally {
            q.release();
        }
        assertEquals(2L, onLoop(rx, reader::datagrams));
    }

    @Test
    void datagramsLargerThanTheBufferAreCountedAsTruncated() throws Exception {
        Channel rx = receiver("127.0.0.1");
        IoUringDatagramReader reader = attach(rx, 1024).sync().getNow();
        java.nio.channels.DatagramChannel plain = jdkSender("127.0.0.1");
        plain.send(ByteBuffer.wrap(pattern(2000, 4)), rx.localAddress()); // cut short: dropped
        byte[] small = pattern(100, 5);
        plain.send(ByteBuffer.wrap(small), rx.localAddress());
        DatagramPacket p = take();
        try {
            assertArrayEquals(small, bytes(p.content()));
        } finally {
            p.release();
        }
        assertEquals(1L, onLoop(rx, reader::truncated));
        if (Transport.EPOLL.isAvailable() && OffloadCapabilities.get().isKernelSegmentationAvailable(Transport.EPOLL)) {
            // A batch of 3 x 400 bytes into 1024: its two whole segments survive.
            Channel tx = usoSender("127.0.0.1");
            byte[] data = pattern(1200, 6);
            sendSegmented(tx, data, 400, rx.localAddress());
            DatagramPacket q = take();
            try {
                assertEquals(400, assertInstanceOf(SegmentedDatagramPacket.class, q).segmentSize());
                byte[] expected = new byte[800];
                System.arraycopy(data, 0, expected, 0, 800);
                assertArrayEquals(expected, bytes(q.content()));
            } finally {
                q.release();
            }
            assertEquals(2L, onLoop(rx, reader::truncated));
        }
        assertTrue(reader.isReading());
    }

    @Test
    void batchesReapedInOneRoundShareOneReadComplete() throws Exception {
        AtomicInteger readCompletes = new AtomicInteger();
        Channel rx = receiver("127.0.0.1", readCompletes);
        IoUringDatagramReader reader = attach(rx).sync().getNow();
        java.nio.channels.DatagramChannel plain = jdkSender("127.0.0.1");
        int count = 64;
        // Datagrams queue on the socket while the event loop is busy; the wakeup after reaps them all.
        CountDownLatch blocked = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        rx.eventLoop().execute(() -> {
            blocked.countDown();
            awaitQuietly(release);
        });
        assertTrue(blocked.await(TIMEOUT_MS, TimeUnit.MILLISECONDS));
        try {
            for (int i = 0; i < count; i++) {
                plain.send(ByteBuffer.wrap(sequenced(i, 100 + i)), rx.localAddress());
            }
        } finally {
            release.countDown();
        }
        assertSequence(0, count);
        awaitTrue(() -> onLoop(rx, reader::readCompletes) == readCompletes.get(), "read-completes counted");
        long reads = onLoop(rx, reader::reads);
        assertEquals((long) count, reads);
        assertTrue(readCompletes.get() >= 1 && readCompletes.get() <= count / 4,
                readCompletes + " read-completes for " + reads + " reads: " + reader);
    }

    @Test
    void kernelBatchesReapedInOneRoundShareOneReadComplete() throws Exception {
        requireUso();
        AtomicInteger readCompletes = new AtomicInteger();
        Channel rx = receiver("127.0.0.1", readCompletes);
        IoUringDatagramReader reader = attach(rx).sync().getNow();
        Channel tx = usoSender("127.0.0.1");
        int count = 24;
        byte[][] sent = new byte[count][];
        CountDownLatch release = new CountDownLatch(1);
        rx.eventLoop().execute(() -> awaitQuietly(release));
        try {
            for (int i = 0; i < count; i++) {
                sent[i] = sequenced(i, 4 * 1000 + i); // 4 segments of 1000 and a short tail: one batch each
                sendSegmented(tx, sent[i], 1000, rx.localAddress());
            }
        } finally {
            release.countDown();
        }
        for (int i = 0; i < count; i++) {
            DatagramPacket p = take();
            try {
                assertEquals(1000, assertInstanceOf(SegmentedDatagramPacket.class, p).segmentSize());
                assertArrayEquals(sent[i], bytes(p.content()), "batch " + i);
            } finally {
                p.release();
            }
        }
        awaitTrue(() -> onLoop(rx, reader::readCompletes) == readCompletes.get(), "read-completes counted");
        assertEquals((long) count, onLoop(rx, reader::batches));
        assertTrue(readCompletes.get() <= count / 4, readCompletes + " read-completes for " + count + " batches: "
                + reader);
    }

    @Test
    void attachChecksTheReceiveCount() throws Exception {
        Channel rx = receiver("127.0.0.1");
        for (int bad : new int[] {0, -1, 65}) {
            try {
                IoUringDatagramReader.attach(rx, 2048, bad);
                fail("attached with " + bad + " receives");
            } catch (IllegalArgumentException expected) {
                assertTrue(expected.getMessage().contains("buffers"), expected.getMessage());
            }
        }
        IoUringDatagramReader reader = IoUringDatagramReader.attach(rx, 2048, 1).sync().getNow();
        assertEquals(1, reader.receivesInFlight());
        assertEquals(1, (int) onLoop(rx, reader::inFlight));
        jdkSender("127.0.0.1").send(ByteBuffer.wrap(sequenced(7, 50)), rx.localAddress());
        assertSequence(7, 1);
    }

    @Test
    void orderIsKeptAcrossSeveralReadsInFlight() throws Exception {
        AtomicInteger readCompletes = new AtomicInteger();
        Channel rx = receiver("127.0.0.1", readCompletes);
        IoUringDatagramReader reader = attach(rx, 4096, 8).sync().getNow();
        assertEquals(expectedInFlight(8), (int) onLoop(rx, reader::inFlight));
        java.nio.channels.DatagramChannel plain = jdkSender("127.0.0.1");
        int next = 0;
        for (int round = 0; round < 6; round++) {
            int count = 40 + round * 10;
            CountDownLatch release = new CountDownLatch(1);
            if (round % 2 == 0) {
                // Even rounds queue behind a busy event loop; odd rounds race the reader.
                rx.eventLoop().execute(() -> awaitQuietly(release));
            }
            try {
                for (int i = 0; i < count; i++) {
                    plain.send(ByteBuffer.wrap(sequenced(next + i, 20 + (next + i) % 300)), rx.localAddress());
                }
            } finally {
                release.countDown();
            }
            assertSequence(next, count);
            next += count;
        }
        assertEquals((long) next, onLoop(rx, reader::reads));
        assertEquals(expectedInFlight(8), (int) onLoop(rx, reader::inFlight));
    }

    /** A datagram of {@code length} (at least 4) bytes starting with {@code seq}. */
    static byte[] sequenced(int seq, int length) {
        byte[] b = pattern(length, seq);
        ByteBuffer.wrap(b).putInt(0, seq);
        return b;
    }

    void assertSequence(int first, int count) throws Exception {
        for (int i = first; i < first + count; i++) {
            DatagramPacket p = take();
            try {
                assertEquals(i, p.content().getInt(p.content().readerIndex()), "datagram order");
            } finally {
                p.release();
            }
        }
    }

    static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void closeWithAReadInFlightReleasesEverything() throws Exception {
        for (int i = 0; i < 20; i++) {
            Channel rx = receiver("127.0.0.1");
            IoUringDatagramReader reader = attach(rx).sync().getNow();
            assertEquals(expectedInFlight(IoUringDatagramReader.DEFAULT_RECEIVES_IN_FLIGHT),
                    (int) onLoop(rx, reader::inFlight));
            rx.close().sync();
            awaitTrue(() -> onLoop(rx, reader::isMemoryFreed), "released after close: " + reader);
            assertFalse(reader.isReading());
            assertTrue(reader.toString().contains("stopped (channel closed)"), reader.toString());
        }
        assertNull(received.poll());
    }

    @Test
    void eventLoopShutdownWithAReadInFlightReleasesEverything() throws Exception {
        EventLoopGroup own = Transport.IO_URING.newEventLoopGroup(1);
        IoUringDatagramReader reader;
        try {
            Channel rx = new Bootstrap().group(own).channel(Transport.IO_URING.datagramChannelClass())
                    .option(ChannelOption.AUTO_READ, false).handler(new ChannelInboundHandlerAdapter())
                    .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
            reader = attach(rx).sync().getNow();
        } finally {
            own.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).sync();
        }
        // Either the loop closed our handle (prepareToDestroy) or, when Netty skipped that, the termination
        // listener released the memory; the channel itself stays open in the second case (Netty's side).
        IoUringDatagramReader r = reader;
        awaitTrue(r::isMemoryFreed, "released after shutdown: " + r);
        assertFalse(reader.isReading());
    }

    @Test
    void icmpErrorOnAConnectedSocketDoesNotStopTheReader() throws Exception {
        // A port that is closed: bind, note it, close.
        java.nio.channels.DatagramChannel peer = java.nio.channels.DatagramChannel.open();
        peer.bind(new InetSocketAddress("127.0.0.1", 0));
        InetSocketAddress peerAddress = (InetSocketAddress) peer.getLocalAddress();
        peer.close();

        BlockingQueue<Throwable> errors = new LinkedBlockingQueue<>();
        Channel rx = new Bootstrap().group(uring).channel(Transport.IO_URING.datagramChannelClass())
                .option(ChannelOption.AUTO_READ, false).handler(new Collector(received, errors))
                .connect(peerAddress, new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        channels.add(rx);
        IoUringDatagramReader reader = attach(rx).sync().getNow();
        rx.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {1})).sync(); // answered by ICMP port unreachable
        Throwable cause = errors.poll(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        assertNotNull(cause, "no error fired: " + reader);
        assertEquals(Errno.ECONNREFUSED, Errno.of(cause), cause.toString());
        assertEquals(1L, onLoop(rx, reader::errors));
        assertTrue(reader.isReading(), reader.toString());

        // The peer comes back on the same port; its datagrams still arrive.
        peer = java.nio.channels.DatagramChannel.open();
        jdkChannels.add(peer);
        peer.bind(peerAddress);
        peer.send(ByteBuffer.wrap(new byte[] {4, 5}), rx.localAddress());
        DatagramPacket p = take();
        try {
            assertArrayEquals(new byte[] {4, 5}, bytes(p.content()));
        } finally {
            p.release();
        }
    }

    @Test
    void readCallsDoNotStartNettysReader() throws Exception {
        Channel rx = receiver("127.0.0.1");
        IoUringDatagramReader reader = attach(rx).sync().getNow();
        rx.config().setAutoRead(true);
        rx.read();
        rx.pipeline().read();
        java.nio.channels.DatagramChannel plain = jdkSender("127.0.0.1");
        for (int i = 0; i < 50; i++) {
            plain.send(ByteBuffer.wrap(new byte[] {(byte) i}), rx.localAddress());
        }
        for (int i = 0; i < 50; i++) {
            DatagramPacket p = take();
            p.release();
        }
        // Every datagram went through our reader, none through Netty's.
        assertEquals(50L, onLoop(rx, reader::datagrams));
    }

    @Test
    void attachToAnAutoReadingChannelWhileBatchesArrive() throws Exception {
        requireUso();
        for (int round = 0; round < 5; round++) {
            Channel rx = new Bootstrap().group(uring).channel(Transport.IO_URING.datagramChannelClass())
                    .handler(new Collector(received, null)) // AUTO_READ on: Netty's reader starts at bind
                    .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
            channels.add(rx);
            Channel tx = usoSender("127.0.0.1");
            byte[] data = pattern(10 * 1000, 7);
            for (int i = 0; i < 5; i++) {
                sendSegmented(tx, data, 1000, rx.localAddress());
            }
            IoUringDatagramReader reader = attach(rx).sync().getNow();
            for (int i = 0; i < 5; i++) {
                sendSegmented(tx, data, 1000, rx.localAddress());
            }
            // Netty's reader may take datagrams sent before the attach, but never a batch: whatever arrives is
            // whole datagrams of the pattern, 100 in all.
            int datagrams = 0;
            while (datagrams < 100) {
                DatagramPacket p = take();
                try {
                    int length = p.content().readableBytes();
                    assertEquals(0, length % 1000, "a cut batch: " + length + " bytes, " + reader);
                    byte[] expected = new byte[length];
                    for (int off = 0; off < length; off += 1000) {
                        // In order: the next datagram is the next 1000 bytes of the repeated pattern.
                        System.arraycopy(data, ((datagrams + off / 1000) % 10) * 1000, expected, off, 1000);
                    }
                    assertArrayEquals(expected, bytes(p.content()));
                    datagrams += length / 1000;
                } finally {
                    p.release();
                }
            }
            assertEquals(0L, onLoop(rx, reader::truncated));
            assertTrue(onLoop(rx, reader::batches) >= 5, reader.toString());
        }
    }

    @Test
    void datagramChannelTuningDescribesTheReader() throws Exception {
        Channel rx = receiver("127.0.0.1");
        assertFalse(DatagramChannelTuning.isUdpGroEnabled(rx));
        IoUringDatagramReader reader = attach(rx).sync().getNow();
        assertEquals(reader.isUdpGroEnabled(), onLoop(rx, () -> DatagramChannelTuning.isUdpGroEnabled(rx)));
        assertNull(onLoop(rx, () -> DatagramChannelTuning.receiveBufferProblem(rx)));
        assertEquals(0, onLoop(rx, () -> DatagramChannelTuning.datagramSlotSize(rx)));

        Channel small = receiver("127.0.0.1");
        attach(small, 2048).sync();
        if (reader.isUdpGroEnabled()) {
            String problem = onLoop(small, () -> DatagramChannelTuning.receiveBufferProblem(small));
            assertNotNull(problem);
            assertTrue(problem.contains("2048"), problem);
        }
        small.close().sync();
        assertFalse(onLoop(rx, () -> DatagramChannelTuning.isUdpGroEnabled(small)), "closed: Netty's view again");
    }

    @Test
    void attachRejectsOtherChannels() throws Exception {
        Prerequisites.requireTransport("epoll", Transport.EPOLL.unavailabilityCause());
        Channel ch = usoSender("127.0.0.1");
        try {
            IoUringDatagramReader.attach(ch);
            fail("attached to " + ch);
        } catch (IllegalArgumentException expected) {
            assertTrue(expected.getMessage().contains("IoUringDatagramChannel"), expected.getMessage());
        }
        Channel rx = receiver("127.0.0.1");
        attach(rx).sync();
        assertFalse(IoUringDatagramReader.attach(rx).await().isSuccess(), "attached twice");
    }

    // --- helpers

    Channel receiver(String host) throws Exception {
        return receiver(host, new AtomicInteger());
    }

    Channel receiver(String host, AtomicInteger readCompletes) throws Exception {
        // Some tests send 240 KB back to back before reading. Under the default SO_RCVBUF (212992 bytes, doubled
        // by the kernel) that is about as much as the queue holds, and on a loaded machine the kernel dropped a
        // batch (twoSendersInterleaved waited for it in vain); the kernel caps the request at rmem_max.
        Channel ch = new Bootstrap().group(uring).channel(Transport.IO_URING.datagramChannelClass())
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.SO_RCVBUF, 4 << 20)
                .handler(new Collector(received, null, readCompletes))
                .bind(new InetSocketAddress(host, 0)).sync().channel();
        channels.add(ch);
        return ch;
    }

    Channel usoSender(String host) throws Exception {
        Channel ch = new Bootstrap().group(epoll).channel(Transport.EPOLL.datagramChannelClass())
                .handler(new ChannelInboundHandlerAdapter())
                .bind(new InetSocketAddress(host, 0)).sync().channel();
        channels.add(ch);
        return ch;
    }

    java.nio.channels.DatagramChannel jdkSender(String host) throws Exception {
        java.nio.channels.DatagramChannel ch = java.nio.channels.DatagramChannel.open();
        jdkChannels.add(ch);
        ch.bind(new InetSocketAddress(host, 0));
        return ch;
    }

    static void sendSegmented(Channel tx, byte[] data, int segmentSize, SocketAddress to) throws Exception {
        ByteBuf buf = tx.alloc().directBuffer(data.length).writeBytes(data);
        tx.writeAndFlush(new SegmentedDatagramPacket(buf, segmentSize, (InetSocketAddress) to)).sync();
    }

    static void requireUso() {
        Prerequisites.requireTransport("epoll", Transport.EPOLL.unavailabilityCause());
        OffloadCapabilities caps = OffloadCapabilities.get();
        Prerequisites.require(caps.isKernelSegmentationAvailable(Transport.EPOLL), "UDP_SEGMENT on epoll: "
                + caps.udpSegmentProblem());
        Prerequisites.require(caps.isUdpGroSupported(), "UDP_GRO: " + caps.udpGroProblem());
    }

    static boolean hasLoopback6() {
        try (java.nio.channels.DatagramChannel ch = java.nio.channels.DatagramChannel.open()) {
            ch.bind(new InetSocketAddress(InetAddress.getByName("::1"), 0));
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    DatagramPacket take() throws InterruptedException {
        Object o = received.poll(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        if (o == null) {
            // Tells a datagram the kernel dropped (a full receive buffer) from one the reader lost.
            fail("nothing received in " + TIMEOUT_MS + " ms; the kernel's UDP receive-buffer errors (whole namespace)"
                    + " since the test began: " + (udpReceiveBufferErrors() - receiveBufferErrorsAtStart));
        }
        return assertInstanceOf(DatagramPacket.class, o);
    }

    /** The kernel's {@code Udp: RcvbufErrors} counter ({@code /proc/net/snmp}), or -1 when it cannot be read. */
    static long udpReceiveBufferErrors() {
        try {
            List<String> udp = new ArrayList<>();
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Paths.get("/proc/net/snmp"))) {
                if (line.startsWith("Udp: ")) {
                    udp.add(line);
                }
            }
            List<String> names = List.of(udp.get(0).split(" "));
            return Long.parseLong(udp.get(1).split(" ")[names.indexOf("RcvbufErrors")]);
        } catch (java.io.IOException | RuntimeException e) {
            return -1;
        }
    }

    static <T> T onLoop(Channel ch, Callable<T> task) throws Exception {
        return ch.eventLoop().submit(task).get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
    }

    static void awaitTrue(Callable<Boolean> condition, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
        while (!condition.call()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting: " + what);
            }
            Thread.sleep(5);
        }
    }

    static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * 31 + seed * 7 + (i >>> 8));
        }
        return b;
    }

    static byte[] bytes(ByteBuf buf) {
        byte[] b = new byte[buf.readableBytes()];
        buf.getBytes(buf.readerIndex(), b);
        return b;
    }

    /** Queues every message and, when asked, every exception. */
    static final class Collector extends ChannelInboundHandlerAdapter {
        private final BlockingQueue<Object> messages;
        private final BlockingQueue<Throwable> errors;
        private final AtomicInteger readCompletes;

        Collector(BlockingQueue<Object> messages, BlockingQueue<Throwable> errors) {
            this(messages, errors, new AtomicInteger());
        }

        Collector(BlockingQueue<Object> messages, BlockingQueue<Throwable> errors, AtomicInteger readCompletes) {
            this.messages = messages;
            this.errors = errors;
            this.readCompletes = readCompletes;
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            readCompletes.incrementAndGet();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            messages.add(msg);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (errors != null) {
                errors.add(cause);
            } else {
                ctx.fireExceptionCaught(cause);
            }
        }
    }
}
