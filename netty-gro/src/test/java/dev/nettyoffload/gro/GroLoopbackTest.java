package dev.nettyoffload.gro;

import dev.nettyoffload.core.DatagramChannelTuning;
import dev.nettyoffload.core.DatagramReaders;
import dev.nettyoffload.core.OffloadCapabilities;
import dev.nettyoffload.core.Transport;
import dev.nettyoffload.testkit.PatternSender;
import dev.nettyoffload.testkit.Prerequisites;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Real sockets on loopback: each transport receives through a GroAggregator from a USO and a plain sender. */
class GroLoopbackTest {
    static final int SEGMENT = 1400;
    static final int ROUNDS = 6;
    static final int PER_ROUND = 40;
    static final int SHORT_TAIL = 700;

    private static final Map<Transport, EventLoopGroup> GROUPS = new EnumMap<>(Transport.class);

    static synchronized EventLoopGroup group(Transport t) {
        return GROUPS.computeIfAbsent(t, x -> x.newEventLoopGroup(2));
    }

    @AfterAll
    static synchronized void shutdown() {
        for (EventLoopGroup g : GROUPS.values()) {
            g.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).syncUninterruptibly();
        }
        GROUPS.clear();
    }

    enum Sender { USO, PLAIN }

    static Stream<Arguments> cases() {
        List<Arguments> list = new ArrayList<>();
        for (Transport t : Transport.values()) {
            for (Sender s : Sender.values()) {
                list.add(Arguments.of(t, s, "127.0.0.1"));
            }
        }
        list.add(Arguments.of(Transport.EPOLL, Sender.USO, "::1"));
        return list.stream();
    }

    /** The pattern byte at stream offset {@code i}: position-dependent so reordering or loss shows. */
    static byte patternAt(long i) {
        return PatternSender.patternAt(i);
    }

    /** {@code length} pattern bytes from stream offset {@code from} (one bulk write: paranoid leak
     * detection records every single-byte access). */
    static byte[] pattern(long from, int length) {
        return PatternSender.pattern(from, length);
    }

    static Channel bindReceiver(Transport t, InetAddress address, GroAggregator agg, ChannelHandler sink)
            throws InterruptedException {
        Bootstrap b = new Bootstrap().group(group(t)).channel(t.datagramChannelClass())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(agg, sink);
                    }
                });
        DatagramChannelTuning.apply(b, t);
        Channel ch = b.bind(new InetSocketAddress(address, 0)).sync().channel();
        // A batch reader starts just after bind; wait for it so that every send below reaches it as a batch.
        DatagramReaders.whenStarted(ch).await(5, TimeUnit.SECONDS);
        return ch;
    }

    static <T> T onLoop(Channel ch, Callable<T> task) throws Exception {
        return ch.eventLoop().submit(task).get(5, TimeUnit.SECONDS);
    }

    static void await(BooleanSupplier condition, long millis, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out after " + millis + " ms waiting for " + what);
            }
            Thread.sleep(2);
        }
    }

    @ParameterizedTest(name = "{0} receiver, {1} sender, {2}")
    @MethodSource("cases")
    void receivesBatchesWhoseSegmentsAreExactlyTheBytesSent(Transport transport, Sender senderKind, String host)
            throws Exception {
        Prerequisites.requireTransport(transport.displayName(), transport.unavailabilityCause());
        Transport senderTransport = transport;
        if (senderKind == Sender.USO) {
            OffloadCapabilities caps = OffloadCapabilities.get();
            senderTransport = caps.isKernelSegmentationAvailable(Transport.EPOLL) ? Transport.EPOLL
                    : caps.isKernelSegmentationAvailable(Transport.IO_URING) ? Transport.IO_URING : null;
            Prerequisites.require(senderTransport != null, "UDP_SEGMENT sends (" + caps.udpSegmentProblem() + ")");
        }
        InetAddress loopback = InetAddress.getByName(host);
        // Netty's io_uring read loop ends after each datagram: batches form across loops, by the timer.
        GroAggregator agg = new GroAggregator(transport == Transport.IO_URING
                ? GroConfig.newBuilder().flushDelay(2, TimeUnit.MILLISECONDS).build() : GroConfig.newBuilder().build());
        BatchCollector sink = new BatchCollector();
        Channel receiver = bindReceiver(transport, loopback, agg, sink);
        Channel sender = new Bootstrap().group(group(senderTransport)).channel(senderTransport.datagramChannelClass())
                .handler(new ChannelInboundHandlerAdapter())
                .bind(new InetSocketAddress(loopback, 0)).sync().channel();
        try {
            InetSocketAddress to = (InetSocketAddress) receiver.localAddress();
            long offset = 0;
            for (int round = 0; round < ROUNDS; round++) {
                int roundBytes = PER_ROUND * SEGMENT + SHORT_TAIL;
                ByteBuf payload = Unpooled.directBuffer(roundBytes).writeBytes(pattern(offset, roundBytes));
                offset += roundBytes;
                if (senderKind == Sender.USO) {
                    sender.writeAndFlush(new SegmentedDatagramPacket(payload, SEGMENT, to)).sync();
                } else {
                    while (payload.isReadable()) {
                        sender.write(new DatagramPacket(
                                payload.readRetainedSlice(Math.min(SEGMENT, payload.readableBytes())), to));
                    }
                    payload.release();
                    sender.flush();
                }
                long expected = offset;
                // Paced: one round in flight, so a slow (leak-paranoid) receiver never overflows its socket.
                await(() -> sink.size() >= expected, 10_000, "round " + round + " (" + sink.size() + " of "
                        + expected + " bytes)");
            }
            byte[] got = sink.bytes();
            byte[] want = new byte[(int) offset];
            for (int i = 0; i < want.length; i++) {
                want[i] = patternAt(i);
            }
            assertArrayEquals(want, got, "concatenated segments equal the bytes sent, in order");
            assertEquals(List.of(), sink.problems());
            long datagramsSent = (long) ROUNDS * (PER_ROUND + 1);
            assertEquals(datagramsSent, sink.datagrams());
            assertEquals(datagramsSent, (long) onLoop(receiver, agg.counters()::datagramsIn));
            assertTrue(sink.batches() > 0, "no batch was built: " + agg);
            assertTrue(sink.messages() < datagramsSent, "the pipeline ran once per datagram: " + agg);
            assertEquals(0L, (long) onLoop(receiver, agg.counters()::truncationSuspected));
            assertNull(onLoop(receiver, agg::receiveBufferProblem));
            if (transport == Transport.EPOLL && senderKind == Sender.USO
                    && OffloadCapabilities.get().isUdpGroSupported()) {
                assertTrue(onLoop(receiver, agg.counters()::kernelGroBatches) >= ROUNDS, "kernel GRO batches: " + agg);
                assertEquals((long) ROUNDS, sink.messages(), "one batch per USO send: " + agg);
            }
            if (senderKind == Sender.USO && onLoop(receiver, () -> DatagramReaders.of(receiver)).reader().deliversBatches()) {
                // A batch reader (io_uring; epoll on Java 22+): each kernel batch passes GroAggregator as it came.
                assertEquals((long) ROUNDS, (long) onLoop(receiver, agg.counters()::presegmentedPackets),
                        "one batch per USO send: " + agg);
                assertEquals((long) ROUNDS, sink.messages(), "one message per USO send: " + agg);
            }
            System.out.println(transport + " receiver, " + senderKind + " sender, " + host + ": "
                    + onLoop(receiver, agg::toString));
        } finally {
            sender.close().sync();
            receiver.close().sync();
        }
    }

    /** A kernel batch of more than 64 segments (USO allows 128 since Linux 6.9) leaves as batches of 64 at most. */
    @Test
    void kernelBatchOverSixtyFourSegmentsIsSplit() throws Exception {
        Prerequisites.requireTransport(Transport.EPOLL.displayName(), Transport.EPOLL.unavailabilityCause());
        OffloadCapabilities caps = OffloadCapabilities.get();
        Prerequisites.require(caps.isUdpGroSupported(), "UDP_GRO (" + caps.udpGroProblem() + ")");
        Prerequisites.require(caps.maxSegmentsPerSend() >= 100, "USO sends of 100 segments (Linux 6.9+), have "
                + caps.maxSegmentsPerSend());
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        GroAggregator agg = new GroAggregator();
        BatchCollector sink = new BatchCollector();
        Channel receiver = bindReceiver(Transport.EPOLL, loopback, agg, sink);
        Channel sender = new Bootstrap().group(group(Transport.EPOLL)).channel(Transport.EPOLL.datagramChannelClass())
                .handler(new ChannelInboundHandlerAdapter())
                .bind(new InetSocketAddress(loopback, 0)).sync().channel();
        try {
            byte[] want = pattern(0, 100 * 600);
            sender.writeAndFlush(new SegmentedDatagramPacket(Unpooled.directBuffer(want.length).writeBytes(want), 600,
                    (InetSocketAddress) receiver.localAddress())).sync();
            await(() -> sink.size() >= want.length, 5000, "the batch");
            assertArrayEquals(want, sink.bytes());
            assertEquals(List.of(), sink.problems());
            assertEquals(2, sink.messages(), "64 + 36 segments");
            assertEquals(64, sink.maxSegments());
            assertEquals(1L, (long) onLoop(receiver, agg.counters()::kernelGroBatches));
            assertEquals(100L, (long) onLoop(receiver, agg.counters()::kernelGroDatagrams));
        } finally {
            sender.close().sync();
            receiver.close().sync();
        }
    }

    /** UDP_GRO with Netty's default 2048-byte receive buffers: reported at start, truncation counted. */
    @Test
    void tooSmallReceiveBufferIsDetectedAndReported() throws Exception {
        Prerequisites.requireTransport(Transport.EPOLL.displayName(), Transport.EPOLL.unavailabilityCause());
        OffloadCapabilities caps = OffloadCapabilities.get();
        Prerequisites.require(caps.isUdpGroSupported(), "UDP_GRO (" + caps.udpGroProblem() + ")");
        Prerequisites.require(caps.isKernelSegmentationAvailable(Transport.EPOLL), "UDP_SEGMENT on epoll");
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        GroAggregator agg = new GroAggregator();
        BatchCollector sink = new BatchCollector();
        Channel receiver = new Bootstrap().group(group(Transport.EPOLL)).channel(Transport.EPOLL.datagramChannelClass())
                .option(EpollChannelOption.UDP_GRO, true)
                .option(ChannelOption.RECVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(2048))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(agg, sink);
                    }
                })
                .bind(new InetSocketAddress(loopback, 0)).sync().channel();
        Channel sender = new Bootstrap().group(group(Transport.EPOLL)).channel(Transport.EPOLL.datagramChannelClass())
                .handler(new ChannelInboundHandlerAdapter())
                .bind(new InetSocketAddress(loopback, 0)).sync().channel();
        try {
            String problem = onLoop(receiver, agg::receiveBufferProblem);
            assertNotNull(problem, "misconfiguration not reported");
            assertTrue(problem.contains("2048"), problem);
            sender.writeAndFlush(new SegmentedDatagramPacket(Unpooled.directBuffer(14000).writeZero(14000), SEGMENT,
                    (InetSocketAddress) receiver.localAddress())).sync();
            await(() -> sink.size() > 0, 5000, "the truncated batch");
            assertEquals(2048, sink.size(), "the kernel truncated the batch to the buffer");
            assertEquals(1L, (long) onLoop(receiver, agg.counters()::truncationSuspected));
        } finally {
            sender.close().sync();
            receiver.close().sync();
        }
    }

    /** Closing the channel while a batch is held (timer mode) hands the batch on, nothing is lost. */
    @Test
    void closeMidBatchDeliversWhatIsHeld() throws Exception {
        Transport t = Transport.best();
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        GroAggregator agg = new GroAggregator(GroConfig.newBuilder().flushDelay(1, TimeUnit.SECONDS).build());
        BatchCollector sink = new BatchCollector();
        Channel receiver = bindReceiver(t, loopback, agg, sink);
        Channel sender = new Bootstrap().group(group(t)).channel(t.datagramChannelClass())
                .handler(new ChannelInboundHandlerAdapter())
                .bind(new InetSocketAddress(loopback, 0)).sync().channel();
        try {
            InetSocketAddress to = (InetSocketAddress) receiver.localAddress();
            for (int i = 0; i < 5; i++) {
                sender.write(new DatagramPacket(Unpooled.directBuffer(100).writeZero(100), to));
            }
            sender.flush();
            await(() -> {
                try {
                    return onLoop(receiver, agg::pendingDatagrams) == 5;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, 5000, "5 held datagrams");
            assertEquals(0, sink.size());
            receiver.close().sync();
            assertEquals(500, sink.size());
            assertEquals(5, sink.datagrams());
            assertEquals(0, agg.counters().droppedOnInactive());
        } finally {
            sender.close().sync();
            receiver.close().sync();
        }
    }
}
