package dev.nettyoffload.ffm;

import dev.nettyoffload.core.DatagramChannelTuning;
import dev.nettyoffload.core.DatagramReader;
import dev.nettyoffload.core.DatagramReaderChoice;
import dev.nettyoffload.core.DatagramReaders;
import dev.nettyoffload.core.OffloadCapabilities;
import dev.nettyoffload.core.ReaderPreference;
import dev.nettyoffload.core.Transport;
import dev.nettyoffload.gro.GroAggregator;
import dev.nettyoffload.gro.GroCounters;
import dev.nettyoffload.testkit.Prerequisites;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The switch on Java 22+: with this module on the class path, {@code DatagramChannelTuning.apply} on epoll finds
 * {@link EpollBatchReaderProvider} through the service loader, and a kernel batch reaches the application through
 * {@code GroAggregator} as one message whose buffer is the reader's, not a copy.
 */
class ReaderSwitchTest {
    private final List<EventLoopGroup> groups = new ArrayList<>();
    private final List<Channel> channels = new ArrayList<>();
    private final BlockingQueue<Object> received = new LinkedBlockingQueue<>();

    @BeforeEach
    void require() {
        Prerequisites.require(EpollBatchReader.isSupported(), "EpollBatchReader: " + EpollBatchReader.unavailabilityCause());
        OffloadCapabilities caps = OffloadCapabilities.get();
        Prerequisites.require(caps.isUdpGroSupported() && caps.isKernelSegmentationAvailable(Transport.EPOLL),
                "UDP_GRO and UDP_SEGMENT on epoll");
    }

    @AfterEach
    void tearDown() throws Exception {
        for (Channel ch : channels) {
            ch.close().sync();
        }
        for (EventLoopGroup g : groups) {
            g.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).sync();
        }
        for (Object o; (o = received.poll()) != null; ) {
            ReferenceCountUtil.release(o);
        }
    }

    @Test
    void epollChoosesTheFfmReaderAndCapabilitiesSaySo() {
        DatagramReaderChoice c = DatagramReaders.choose(Transport.EPOLL);
        assertEquals(DatagramReader.EPOLL_FFM, c.reader(), c.toString());
        assertTrue(OffloadCapabilities.get().toString().contains("reader epoll       EpollBatchReader: FFM recvmsg"),
                OffloadCapabilities.get().toString());
        assertEquals(DatagramReader.NETTY_UDP_GRO,
                DatagramReaders.choose(Transport.EPOLL, ReaderPreference.NETTY, OffloadCapabilities.get()).reader());
    }

    @Test
    void aKernelBatchReachesTheApplicationAsOneMessageWithoutACopy() throws Exception {
        GroAggregator gro = new GroAggregator();
        Channel rx = receiver(gro, ReaderPreference.BEST);
        assertEquals(DatagramReader.EPOLL_FFM, DatagramReaders.whenStarted(rx).get(5, TimeUnit.SECONDS).reader());
        DatagramReaderChoice used = rx.eventLoop().submit(() -> DatagramReaders.of(rx)).get();
        assertEquals(DatagramReader.EPOLL_FFM, used.reader(), used.toString());
        assertEquals(0, (int) rx.config().getOption(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE));
        for (int round = 0; round < 3; round++) {
            send(rx, 20, 1400);
            DatagramPacket p = take();
            try {
                SegmentedDatagramPacket batch = assertInstanceOf(SegmentedDatagramPacket.class, p);
                assertEquals(1400, batch.segmentSize());
                assertEquals(20 * 1400, batch.content().readableBytes());
                // The reader's own receive buffer, handed on whole (not a slice, not a composite, not a copy).
                assertEquals(EpollBatchReaderConfig.DEFAULT_RECEIVE_BUFFER_SIZE, batch.content().capacity());
            } finally {
                p.release();
            }
        }
        assertNull(received.poll(50, TimeUnit.MILLISECONDS));
        GroCounters c = rx.eventLoop().submit(gro::counters).get();
        assertEquals(3, rx.eventLoop().submit(c::presegmentedPackets).get());
        assertEquals(60, rx.eventLoop().submit(c::datagramsIn).get());
        assertEquals(0, rx.eventLoop().submit(c::compositeRebuilds).get());
        assertEquals(0, rx.eventLoop().submit(c::contiguousRebuilds).get());
        assertEquals(3, rx.eventLoop().submit(() -> EpollBatchReader.of(rx).segmentedBatches()).get());
    }

    @Test
    void optOutKeepsNettysReaderAndGroAggregatorRebuildsTheBatch() throws Exception {
        GroAggregator gro = new GroAggregator();
        Channel rx = receiver(gro, ReaderPreference.NETTY);
        DatagramReaderChoice used = DatagramReaders.whenStarted(rx).get(5, TimeUnit.SECONDS);
        assertEquals(DatagramReader.NETTY_UDP_GRO, used.reader(), used.toString());
        assertNull(EpollBatchReader.of(rx));
        send(rx, 20, 1400);
        DatagramPacket p = take();
        try {
            assertEquals(1400, assertInstanceOf(SegmentedDatagramPacket.class, p).segmentSize());
            assertEquals(20 * 1400, p.content().readableBytes());
        } finally {
            p.release();
        }
        // Netty's slices of one kernel batch, rebuilt into one batch (as one slice, or on JDKs where Netty has no
        // memory addresses as a composite of the slices: still no copy of the payload).
        assertEquals(1, rx.eventLoop().submit(() -> gro.counters().kernelGroBatches()).get(),
                rx.eventLoop().submit(gro::toString).get());
    }

    private Channel receiver(GroAggregator gro, ReaderPreference preference) throws Exception {
        EventLoopGroup group = Transport.EPOLL.newEventLoopGroup(1);
        groups.add(group);
        Bootstrap b = new Bootstrap().group(group).channel(Transport.EPOLL.datagramChannelClass())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(gro, new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                received.add(msg);
                            }
                        });
                    }
                });
        DatagramChannelTuning.apply(b, Transport.EPOLL, preference);
        Channel ch = b.bind("127.0.0.1", 0).sync().channel();
        channels.add(ch);
        return ch;
    }

    private void send(Channel rx, int segments, int segmentSize) throws Exception {
        EventLoopGroup group = Transport.EPOLL.newEventLoopGroup(1);
        groups.add(group);
        Channel tx = new Bootstrap().group(group).channel(Transport.EPOLL.datagramChannelClass())
                .handler(new ChannelInboundHandlerAdapter()).bind("127.0.0.1", 0).sync().channel();
        channels.add(tx);
        ByteBuf data = Unpooled.directBuffer(segments * segmentSize).writeZero(segments * segmentSize);
        tx.writeAndFlush(new SegmentedDatagramPacket(data, segmentSize, (InetSocketAddress) rx.localAddress())).sync();
    }

    private DatagramPacket take() throws InterruptedException {
        Object o = received.poll(5, TimeUnit.SECONDS);
        assertNotNull(o, "nothing received");
        return (DatagramPacket) o;
    }
}
