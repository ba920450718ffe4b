package dev.nettyoffload.core;

import dev.nettyoffload.core.uring.IoUringDatagramReader;
import dev.nettyoffload.core.uring.ReaderMode;
import dev.nettyoffload.testkit.Prerequisites;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The reader switch: what {@link DatagramReaders#choose} picks, and what {@code apply} puts on real channels. */
class DatagramReadersTest {
    private static final OffloadCapabilities FULL =
            new OffloadCapabilities("test", new EnumMap<>(Transport.class), 128, null, true, null);
    private static final OffloadCapabilities NO_GRO =
            new OffloadCapabilities("4.19", new EnumMap<>(Transport.class), 64, null, false, "ENOPROTOOPT");

    private final List<EventLoopGroup> groups = new ArrayList<>();
    private final List<Channel> channels = new ArrayList<>();
    private final BlockingQueue<Object> received = new LinkedBlockingQueue<>();

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
    void nioAndKernelsWithoutUdpGroKeepNettysReader() {
        DatagramReaderChoice nio = DatagramReaders.choose(Transport.NIO, ReaderPreference.BEST, FULL);
        assertEquals(DatagramReader.NETTY, nio.reader());
        assertTrue(nio.reason().startsWith("NIO has no kernel batch receive"), nio.toString());
        for (Transport t : new Transport[] {Transport.EPOLL, Transport.IO_URING}) {
            DatagramReaderChoice c = DatagramReaders.choose(t, ReaderPreference.BEST, NO_GRO);
            assertEquals(DatagramReader.NETTY, c.reader(), c.toString());
            assertTrue(c.reason().contains("ENOPROTOOPT"), c.toString());
        }
    }

    @Test
    void ioUringGetsOurReaderWhereItRuns() {
        DatagramReaderChoice c = DatagramReaders.choose(Transport.IO_URING, ReaderPreference.BEST, FULL);
        if (IoUringDatagramReader.isSupported()) {
            assertEquals(DatagramReader.IO_URING, c.reader(), c.toString());
            assertTrue(c.reader().deliversBatches());
            // The reason names the mode, and why it is not multishot: by default, single-shot is the default.
            assertTrue(c.reason().startsWith("io_uring single-shot RECVMSGs"), c.toString());
            if (System.getProperty(ReaderMode.PROPERTY) == null) {
                assertTrue(c.reason().contains("the default") || IoUringDatagramReader.multishotProblem() != null
                        && c.reason().contains(IoUringDatagramReader.multishotProblem()), c.toString());
            }
        } else {
            assertEquals(DatagramReader.NETTY, c.reader(), c.toString());
            assertTrue(c.reason().contains(IoUringDatagramReader.unavailabilityReason()), c.toString());
        }
    }

    @Test
    void epollWithoutTheFfmModuleKeepsNettysReaderWithUdpGroAndSaysWhy() {
        // Core's tests run without netty-offload-ffm on the class path.
        DatagramReaderChoice c = DatagramReaders.choose(Transport.EPOLL, ReaderPreference.BEST, FULL);
        assertEquals(DatagramReader.NETTY_UDP_GRO, c.reader(), c.toString());
        assertTrue(c.reason().contains("EpollBatchReader") || c.reason().contains("netty-offload-ffm"), c.toString());
        assertTrue(c.reason().contains("GroAggregator"), c.toString());
    }

    @Test
    void optOutByArgumentAndByProperty() {
        DatagramReaderChoice byArgument = DatagramReaders.choose(Transport.IO_URING, ReaderPreference.NETTY, FULL);
        assertEquals(DatagramReader.NETTY, byArgument.reader());
        assertTrue(byArgument.reason().contains("ReaderPreference.NETTY"), byArgument.toString());
        assertEquals(DatagramReader.NETTY_UDP_GRO,
                DatagramReaders.choose(Transport.EPOLL, ReaderPreference.NETTY, FULL).reader());
        String old = System.setProperty(DatagramReaders.READER_PROPERTY, "Netty");
        try {
            DatagramReaderChoice byProperty = DatagramReaders.choose(Transport.IO_URING, ReaderPreference.BEST, FULL);
            assertEquals(DatagramReader.NETTY, byProperty.reader());
            assertTrue(byProperty.reason().contains("-D" + DatagramReaders.READER_PROPERTY + "=netty"),
                    byProperty.toString());
        } finally {
            if (old == null) {
                System.clearProperty(DatagramReaders.READER_PROPERTY);
            } else {
                System.setProperty(DatagramReaders.READER_PROPERTY, old);
            }
        }
    }

    @Test
    void capabilitiesNameTheReaderOfEachTransport() {
        String text = FULL.toString();
        assertTrue(text.contains("  reader nio         Netty's reader: NIO has no kernel batch receive"), text);
        assertTrue(text.contains("  reader epoll       "), text);
        assertEquals(DatagramReaders.choose(Transport.EPOLL, ReaderPreference.BEST, FULL),
                FULL.datagramReader(Transport.EPOLL));
    }

    @Test
    void applyOnIoUringDeliversEachKernelBatchAsOneMessage() throws Exception {
        Prerequisites.require(IoUringDatagramReader.isSupported(), "io_uring reader: "
                + IoUringDatagramReader.unavailabilityReason());
        Prerequisites.require(Transport.EPOLL.isAvailable(), "epoll (the UDP_SEGMENT sender)");
        Prerequisites.require(OffloadCapabilities.get().isUdpGroSupported()
                && OffloadCapabilities.get().isUdpSegmentSupported(), "UDP_GRO and UDP_SEGMENT");
        Channel rx = receiver(Transport.IO_URING, ReaderPreference.BEST);
        awaitReader(rx, DatagramReader.IO_URING);
        Channel tx = usoSender();
        byte[] data = new byte[10 * 1300];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 31);
        }
        tx.writeAndFlush(new SegmentedDatagramPacket(Unpooled.wrappedBuffer(data), 1300,
                (InetSocketAddress) rx.localAddress())).sync();
        DatagramPacket p = (DatagramPacket) received.poll(5, TimeUnit.SECONDS);
        assertNotNull(p, "nothing received");
        try {
            SegmentedDatagramPacket s = assertInstanceOf(SegmentedDatagramPacket.class, p);
            assertEquals(1300, s.segmentSize());
            assertEquals(Unpooled.wrappedBuffer(data), s.content());
        } finally {
            p.release();
        }
        assertNull(rx.pipeline().get("datagramReaderInstaller"), "installer removes itself");
        DatagramReaderChoice used = rx.eventLoop().submit(() -> DatagramReaders.of(rx)).get();
        assertEquals(DatagramReader.IO_URING, used.reader(), used.toString());
        IoUringDatagramReader reader = IoUringDatagramReader.of(rx);
        assertTrue(used.reason().startsWith("io_uring " + reader.mode().description()), used.toString());
    }

    @Test
    void optOutOnIoUringKeepsNettysReader() throws Exception {
        Prerequisites.require(Transport.IO_URING.isAvailable(), "io_uring");
        Channel rx = receiver(Transport.IO_URING, ReaderPreference.NETTY);
        DatagramReaderChoice used = rx.eventLoop().submit(() -> DatagramReaders.of(rx)).get();
        assertEquals(DatagramReader.NETTY, used.reader(), used.toString());
        assertTrue(used.reason().contains("ReaderPreference.NETTY") || used.reason().contains("UDP_GRO"),
                used.toString());
        assertNull(IoUringDatagramReader.of(rx));
        assertNull(rx.pipeline().get("datagramReaderInstaller"));
    }

    private void awaitReader(Channel ch, DatagramReader expected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        DatagramReaderChoice c;
        do {
            c = ch.eventLoop().submit(() -> DatagramReaders.of(ch)).get();
            if (c.reader() == expected && IoUringDatagramReader.of(ch) != null
                    && ch.eventLoop().submit(() -> IoUringDatagramReader.of(ch).isUdpGroEnabled()).get()) {
                return;
            }
            Thread.sleep(5);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("reader is " + c);
    }

    private Channel receiver(Transport transport, ReaderPreference preference) throws Exception {
        EventLoopGroup group = transport.newEventLoopGroup(1);
        groups.add(group);
        Bootstrap b = new Bootstrap().group(group).channel(transport.datagramChannelClass())
                .handler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        received.add(msg);
                    }
                });
        DatagramChannelTuning.apply(b, transport, preference);
        Channel ch = b.bind("127.0.0.1", 0).sync().channel();
        channels.add(ch);
        return ch;
    }

    private Channel usoSender() throws Exception {
        EventLoopGroup group = Transport.EPOLL.newEventLoopGroup(1);
        groups.add(group);
        Channel ch = new Bootstrap().group(group).channel(Transport.EPOLL.datagramChannelClass())
                .handler(new ChannelInboundHandlerAdapter()).bind("127.0.0.1", 0).sync().channel();
        channels.add(ch);
        return ch;
    }
}
