package dev.nettyoffload.gro;

import dev.nettyoffload.core.DatagramChannelTuning;
import dev.nettyoffload.core.OffloadCapabilities;
import dev.nettyoffload.core.ReaderPreference;
import dev.nettyoffload.core.Transport;
import dev.nettyoffload.testkit.Prerequisites;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The recvmmsg hazard of Netty 4.2.18's epoll channel: with UDP_GRO on and {@code MAX_DATAGRAM_PAYLOAD_SIZE > 0}
 * (several slots per receive buffer) it reads with {@code recvmmsg}, which without {@code IP_RECVORIGDSTADDR} does
 * not parse the UDP_GRO control message: a kernel batch arrives as one plain {@link DatagramPacket} (its segment
 * size lost) or cut to one slot. No configuration of ours may produce that, and a user's is reported.
 */
class RecvmmsgHazardTest {
    private static final int SEGMENT = 1400;
    private static final int SEGMENTS = 10;

    private final BlockingQueue<Object> received = new LinkedBlockingQueue<>();
    private final List<Channel> channels = new ArrayList<>();

    @BeforeEach
    void require() {
        Prerequisites.requireTransport(Transport.EPOLL.displayName(), Transport.EPOLL.unavailabilityCause());
        OffloadCapabilities caps = OffloadCapabilities.get();
        Prerequisites.require(caps.isUdpGroSupported(), "UDP_GRO (" + caps.udpGroProblem() + ")");
        Prerequisites.require(caps.isKernelSegmentationAvailable(Transport.EPOLL), "UDP_SEGMENT on epoll");
    }

    @AfterEach
    void close() throws Exception {
        for (Channel ch : channels) {
            ch.close().sync();
        }
        for (Object o; (o = received.poll()) != null; ) {
            ReferenceCountUtil.release(o);
        }
    }

    @AfterAll
    static void shutdown() {
        GroLoopbackTest.shutdown();
    }

    /** Pins Netty's behaviour: if this fails, Netty changed and the guard below may be relaxed. */
    @Test
    void userSlotSizeWithUdpGroLosesTheSegmentSizeAndIsReported() throws Exception {
        GroAggregator gro = new GroAggregator();
        Channel rx = receiver(gro, b -> {
            DatagramChannelTuning.apply(b, Transport.EPOLL, ReaderPreference.NETTY);
            // What a user might add after our tuning: four 16000-byte slots per 64 KiB buffer.
            b.option(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, 16000);
        });
        send(rx);
        DatagramPacket p = take();
        try {
            assertFalse(p instanceof SegmentedDatagramPacket, "Netty fixed its recvmmsg path? got " + p);
            assertEquals(SEGMENT * SEGMENTS, p.content().readableBytes(), "one plain packet holding the whole batch");
        } finally {
            p.release();
        }
        String problem = rx.eventLoop().submit(gro::receiveBufferProblem).get();
        assertNotNull(problem, "GroAggregator reports the configuration");
        assertTrue(problem.contains("MAX_DATAGRAM_PAYLOAD_SIZE is 16000"), problem);
        assertEquals(problem, DatagramChannelTuning.receiveBufferProblem(rx));
    }

    @Test
    void applyOnABootstrapKeepsSegmentSizes() throws Exception {
        for (ReaderPreference preference : ReaderPreference.values()) {
            checkBatchesKeepSegmentSize(b -> DatagramChannelTuning.apply(b, Transport.EPOLL, preference));
        }
    }

    @Test
    void applyOnAChannelKeepsSegmentSizes() throws Exception {
        // A user's slot size first; apply(channel) must take it back to 0.
        checkBatchesKeepSegmentSize(b -> b.option(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, 16000)
                .option(ChannelOption.AUTO_READ, true), DatagramChannelTuning::apply);
        for (ReaderPreference preference : ReaderPreference.values()) {
            checkBatchesKeepSegmentSize(b -> b.option(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, 16000),
                    ch -> DatagramChannelTuning.applyReader(ch, preference));
        }
    }

    private void checkBatchesKeepSegmentSize(Consumer<Bootstrap> tuning) throws Exception {
        checkBatchesKeepSegmentSize(tuning, ch -> { });
    }

    private void checkBatchesKeepSegmentSize(Consumer<Bootstrap> tuning, Consumer<Channel> onRegistered)
            throws Exception {
        GroAggregator gro = new GroAggregator();
        Channel rx = receiver(gro, tuning, onRegistered);
        assertEquals(0, (int) rx.config().getOption(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE));
        assertTrue(rx.config().getOption(EpollChannelOption.UDP_GRO));
        assertNull(DatagramChannelTuning.receiveBufferProblem(rx));
        send(rx);
        DatagramPacket p = take();
        try {
            SegmentedDatagramPacket batch = assertInstanceOf(SegmentedDatagramPacket.class, p, p.toString());
            assertEquals(SEGMENT, batch.segmentSize());
            assertEquals(SEGMENT * SEGMENTS, batch.content().readableBytes());
        } finally {
            p.release();
        }
        assertNull(received.poll(50, TimeUnit.MILLISECONDS), "one message per kernel batch");
        assertNull(rx.eventLoop().submit(gro::receiveBufferProblem).get());
        assertEquals((long) SEGMENTS, (long) rx.eventLoop().submit(() -> gro.counters().datagramsIn()).get());
    }

    private Channel receiver(GroAggregator gro, Consumer<Bootstrap> tuning) throws InterruptedException {
        return receiver(gro, tuning, ch -> { });
    }

    private Channel receiver(GroAggregator gro, Consumer<Bootstrap> tuning, Consumer<Channel> onRegistered)
            throws InterruptedException {
        ChannelHandler sink = new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                received.add(msg);
            }
        };
        Bootstrap b = new Bootstrap().group(GroLoopbackTest.group(Transport.EPOLL))
                .channel(Transport.EPOLL.datagramChannelClass())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        onRegistered.accept(ch);
                        ch.pipeline().addLast(gro, sink);
                    }
                });
        tuning.accept(b);
        Channel ch = b.bind("127.0.0.1", 0).sync().channel();
        channels.add(ch);
        return ch;
    }

    private void send(Channel rx) throws InterruptedException {
        Channel tx = new Bootstrap().group(GroLoopbackTest.group(Transport.EPOLL))
                .channel(Transport.EPOLL.datagramChannelClass()).handler(new ChannelInboundHandlerAdapter())
                .bind("127.0.0.1", 0).sync().channel();
        channels.add(tx);
        ByteBuf data = Unpooled.directBuffer(SEGMENT * SEGMENTS);
        for (int i = 0; i < SEGMENT * SEGMENTS; i++) {
            data.writeByte(i);
        }
        tx.writeAndFlush(new SegmentedDatagramPacket(data, SEGMENT, (InetSocketAddress) rx.localAddress())).sync();
    }

    private DatagramPacket take() throws InterruptedException {
        Object o = received.poll(5, TimeUnit.SECONDS);
        assertNotNull(o, "nothing received");
        return (DatagramPacket) o;
    }
}
