package dev.nettyoffload.ffm;

import dev.nettyoffload.core.OffloadCapabilities;
import dev.nettyoffload.core.Transport;
import dev.nettyoffload.testkit.Prerequisites;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Real epoll sockets on loopback: a UDP_SEGMENT sender and a receiver read by {@link EpollBatchReader}. */
class EpollBatchReaderTest {
    private static final InetAddress LOOPBACK4 = InetAddress.getLoopbackAddress();
    private static final int SEGMENT_SIZE = 1400;

    private EventLoopGroup group;
    private final List<EpollDatagramChannel> channels = new ArrayList<>();
    private final BlockingQueue<Object> received = new LinkedBlockingQueue<>();
    private final Random random = new Random(13);

    @BeforeEach
    void setUp() {
        Prerequisites.requireTransport("epoll", Transport.EPOLL.unavailabilityCause());
        Prerequisites.require(EpollBatchReader.isSupported(),
                "EpollBatchReader: " + EpollBatchReader.unavailabilityCause());
        OffloadCapabilities caps = OffloadCapabilities.get();
        Prerequisites.require(caps.isUdpSegmentSupported(), "UDP_SEGMENT: " + caps.udpSegmentProblem());
        Prerequisites.require(caps.isUdpGroSupported(), "UDP_GRO: " + caps.udpGroProblem());
        group = new MultiThreadIoEventLoopGroup(2, EpollIoHandler.newFactory());
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        for (EpollDatagramChannel ch : channels) {
            ch.close().sync();
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
        Object msg;
        while ((msg = received.poll()) != null) {
            ReferenceCountUtil.release(msg);
        }
    }

    @Test
    void batchArrivesAsOneSegmentedDatagramPacket() throws Exception {
        EpollDatagramChannel receiver = receiver(LOOPBACK4, EpollBatchReaderConfig.DEFAULT);
        EpollBatchReader reader = EpollBatchReader.of(receiver);
        EpollDatagramChannel sender = sender(LOOPBACK4);
        byte[] sent = bytes(10 * SEGMENT_SIZE);
        send(sender, sent, SEGMENT_SIZE, receiver.localAddress());

        DatagramPacket packet = nextPacket();
        try {
            SegmentedDatagramPacket batch = assertInstanceOf(SegmentedDatagramPacket.class, packet);
            assertEquals(SEGMENT_SIZE, batch.segmentSize());
            assertArrayEquals(sent, ByteBufUtil.getBytes(batch.content()));
            assertEquals(sender.localAddress(), batch.sender());
            assertEquals(receiver.localAddress(), batch.recipient());
        } finally {
            packet.release();
        }
        assertEquals(1, onLoop(receiver, reader::segmentedBatches));
        assertEquals(10, onLoop(receiver, reader::datagrams));
        assertEquals(0, onLoop(receiver, reader::strayNettyReads));
        assertTrue(reader.toString().contains("FFM recvmsg"), reader.toString());
    }

    @Test
    void hundredSegmentBatch() throws Exception {
        int maxSegments = OffloadCapabilities.get().maxSegmentsPerSend();
        EpollDatagramChannel receiver = receiver(LOOPBACK4, EpollBatchReaderConfig.DEFAULT);
        EpollDatagramChannel sender = sender(LOOPBACK4);
        int segmentSize = 600; // 100 x 600 B fits the 64 KiB of one send
        byte[] sent = bytes(100 * segmentSize);
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        int sends = 0;
        for (int offset = 0; offset < sent.length; offset += maxSegments * segmentSize) {
            int length = Math.min(maxSegments * segmentSize, sent.length - offset);
            send(sender, java.util.Arrays.copyOfRange(sent, offset, offset + length), segmentSize,
                    receiver.localAddress());
            sends++;
        }
        for (int i = 0; i < sends; i++) {
            DatagramPacket packet = nextPacket();
            try {
                assertEquals(segmentSize, assertInstanceOf(SegmentedDatagramPacket.class, packet).segmentSize());
                got.write(ByteBufUtil.getBytes(packet.content()));
            } finally {
                packet.release();
            }
        }
        assertArrayEquals(sent, got.toByteArray());
        assertEquals(maxSegments >= 100 ? 1 : sends, sends);
    }

    @Test
    void mixedSizesKeepTheirOrderAndSegmentSize() throws Exception {
        EpollDatagramChannel receiver = receiver(LOOPBACK4, EpollBatchReaderConfig.DEFAULT);
        EpollBatchReader reader = EpollBatchReader.of(receiver);
        EpollDatagramChannel sender = sender(LOOPBACK4);
        int[][] cases = {
                {SEGMENT_SIZE, 3 * SEGMENT_SIZE + 200}, // short last segment
                {1200, 1200},                            // one datagram
                {500, 40 * 500},
                {100, 50},                               // shorter than a segment
                {1472, 44 * 1472},                       // 64768 B, close to the 64 KiB limit
                {9000, 7 * 9000},
        };
        List<byte[]> sent = new ArrayList<>();
        for (int[] c : cases) {
            byte[] payload = bytes(c[1]);
            sent.add(payload);
            send(sender, payload, c[0], receiver.localAddress());
        }
        for (int i = 0; i < cases.length; i++) {
            DatagramPacket packet = nextPacket();
            try {
                assertArrayEquals(sent.get(i), ByteBufUtil.getBytes(packet.content()), "case " + i);
                if (cases[i][1] > cases[i][0]) {
                    assertEquals(cases[i][0], assertInstanceOf(SegmentedDatagramPacket.class, packet).segmentSize());
                } else {
                    assertFalse(packet instanceof SegmentedDatagramPacket, "case " + i);
                }
            } finally {
                packet.release();
            }
        }
        // The two reads below the copy threshold were copied to buffers of their size.
        assertEquals(3, onLoop(receiver, reader::copiedReads));
        assertEquals(0, onLoop(receiver, reader::truncatedReads));
    }

    @Test
    void twoSendersInterleaved() throws Exception {
        EpollDatagramChannel receiver = receiver(LOOPBACK4, EpollBatchReaderConfig.DEFAULT);
        EpollDatagramChannel a = sender(LOOPBACK4);
        EpollDatagramChannel b = sender(LOOPBACK4);
        List<byte[]> fromA = new ArrayList<>();
        List<byte[]> fromB = new ArrayList<>();
        for (int round = 0; round < 20; round++) {
            byte[] pa = bytes((1 + round % 7) * SEGMENT_SIZE);
            byte[] pb = bytes((1 + round % 5) * 1000 + 17);
            fromA.add(pa);
            fromB.add(pb);
            a.write(packet(pa, SEGMENT_SIZE, receiver.localAddress()));
            b.write(packet(pb, 1000, receiver.localAddress()));
            a.flush();
            b.flush();
        }
        int nextA = 0;
        int nextB = 0;
        while (nextA < fromA.size() || nextB < fromB.size()) {
            DatagramPacket packet = nextPacket();
            try {
                byte[] got = ByteBufUtil.getBytes(packet.content());
                if (packet.sender().equals(a.localAddress())) {
                    assertArrayEquals(fromA.get(nextA++), got, "from a");
                } else {
                    assertEquals(b.localAddress(), packet.sender());
                    assertArrayEquals(fromB.get(nextB++), got, "from b");
                }
            } finally {
                packet.release();
            }
        }
    }

    @Test
    void ipv6() throws Exception {
        InetAddress loopback6 = InetAddress.getByName("::1");
        EpollDatagramChannel receiver;
        try {
            receiver = receiver(loopback6, EpollBatchReaderConfig.DEFAULT);
        } catch (Exception e) {
            Prerequisites.require(false, "IPv6 loopback: " + e);
            return;
        }
        EpollDatagramChannel sender = sender(loopback6);
        byte[] sent = bytes(5 * SEGMENT_SIZE + 1);
        send(sender, sent, SEGMENT_SIZE, receiver.localAddress());
        DatagramPacket packet = nextPacket();
        try {
            assertEquals(SEGMENT_SIZE, assertInstanceOf(SegmentedDatagramPacket.class, packet).segmentSize());
            assertArrayEquals(sent, ByteBufUtil.getBytes(packet.content()));
            assertEquals(sender.localAddress(), packet.sender());
        } finally {
            packet.release();
        }
    }

    @Test
    void zeroLengthDatagram() throws Exception {
        EpollDatagramChannel receiver = receiver(LOOPBACK4, EpollBatchReaderConfig.DEFAULT);
        try (DatagramChannel jdk = DatagramChannel.open(StandardProtocolFamily.INET)) {
            jdk.bind(new InetSocketAddress(LOOPBACK4, 0));
            jdk.send(ByteBuffer.allocate(0), receiver.localAddress());
            jdk.send(ByteBuffer.wrap(new byte[] {1, 2, 3}), receiver.localAddress());
            DatagramPacket empty = nextPacket();
            DatagramPacket three = nextPacket();
            try {
                assertFalse(empty instanceof SegmentedDatagramPacket);
                assertEquals(0, empty.content().readableBytes());
                assertEquals(jdk.getLocalAddress(), empty.sender());
                assertEquals(3, three.content().readableBytes());
            } finally {
                empty.release();
                three.release();
            }
        }
    }

    @Test
    void truncationIsCounted() throws Exception {
        EpollBatchReaderConfig small = EpollBatchReaderConfig.newBuilder().receiveBufferSize(1024).build();
        EpollDatagramChannel receiver = receiver(LOOPBACK4, small);
        EpollBatchReader reader = EpollBatchReader.of(receiver);
        EpollDatagramChannel sender = sender(LOOPBACK4);
        byte[] sent = bytes(2000);
        sender.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(sent), receiver.localAddress())).sync();
        DatagramPacket packet = nextPacket();
        try {
            assertArrayEquals(java.util.Arrays.copyOf(sent, 1024), ByteBufUtil.getBytes(packet.content()));
        } finally {
            packet.release();
        }
        assertEquals(1, onLoop(receiver, reader::truncatedReads));
    }

    @Test
    void readCallsDoNotStartNettysReader() throws Exception {
        EpollDatagramChannel receiver = receiver(LOOPBACK4, EpollBatchReaderConfig.DEFAULT);
        EpollBatchReader reader = EpollBatchReader.of(receiver);
        receiver.read();
        receiver.config().setAutoRead(true); // starts a read(), which the guard swallows
        receiver.pipeline().lastContext().read();
        EpollDatagramChannel sender = sender(LOOPBACK4);
        for (int i = 0; i < 50; i++) {
            byte[] sent = bytes(8 * SEGMENT_SIZE);
            send(sender, sent, SEGMENT_SIZE, receiver.localAddress());
            DatagramPacket packet = nextPacket();
            try {
                assertArrayEquals(sent, ByteBufUtil.getBytes(assertInstanceOf(SegmentedDatagramPacket.class, packet)
                        .content()));
            } finally {
                packet.release();
            }
        }
        assertTrue(onLoop(receiver, reader::suppressedReadCalls) >= 3);
        assertEquals(0, onLoop(receiver, reader::strayNettyReads));
        assertEquals(50, onLoop(receiver, reader::batches));
    }

    @Test
    void aReadFromNettysReaderIsCountedAndForwarded() throws Exception {
        EpollDatagramChannel receiver = receiver(LOOPBACK4, EpollBatchReaderConfig.DEFAULT);
        EpollBatchReader reader = EpollBatchReader.of(receiver);
        // What Netty's reader does when EPOLLERR wakes it: fire from the head of the pipeline.
        DatagramPacket stray = new DatagramPacket(Unpooled.wrappedBuffer(new byte[] {7}), receiver.localAddress(),
                new InetSocketAddress(LOOPBACK4, 9));
        receiver.eventLoop().submit(() -> receiver.pipeline().fireChannelRead(stray).fireChannelReadComplete())
                .sync();
        DatagramPacket packet = nextPacket();
        try {
            assertTrue(packet == stray);
        } finally {
            packet.release();
        }
        assertEquals(1, onLoop(receiver, reader::strayNettyReads));
    }

    @Test
    void closeWithDataPendingReleasesEverythingAndFreesThePort() throws Exception {
        EpollDatagramChannel receiver = receiver(LOOPBACK4, EpollBatchReaderConfig.DEFAULT);
        EpollBatchReader reader = EpollBatchReader.of(receiver);
        InetSocketAddress address = receiver.localAddress();
        EpollDatagramChannel sender = sender(LOOPBACK4);
        CountDownLatch blocked = new CountDownLatch(1);
        CountDownLatch sent = new CountDownLatch(1);
        // Hold the receiver's loop while data piles up in the socket, then close from that loop.
        receiver.eventLoop().execute(() -> {
            blocked.countDown();
            try {
                sent.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            receiver.close();
        });
        assertTrue(blocked.await(10, TimeUnit.SECONDS));
        for (int i = 0; i < 20; i++) {
            send(sender, bytes(20 * SEGMENT_SIZE), SEGMENT_SIZE, address);
        }
        sent.countDown();
        receiver.closeFuture().sync();
        receiver.eventLoop().submit(() -> { }).sync();
        assertFalse(reader.isRunning());
        assertNull(received.poll(100, TimeUnit.MILLISECONDS), "nothing read after close");
        assertTrue(reader.toString().contains("Netty's reader"), reader.toString());
        // The duplicate is closed too: the port is free again.
        try (DatagramChannel rebound = DatagramChannel.open(StandardProtocolFamily.INET)) {
            rebound.bind(address);
        }
    }

    @Test
    void icmpErrorOnConnectedSocketDoesNotStopTheReader() throws Exception {
        DatagramChannel peer = DatagramChannel.open(StandardProtocolFamily.INET);
        peer.bind(new InetSocketAddress(LOOPBACK4, 0));
        InetSocketAddress peerAddress = (InetSocketAddress) peer.getLocalAddress();
        EpollDatagramChannel receiver = receiver(LOOPBACK4, EpollBatchReaderConfig.DEFAULT);
        EpollBatchReader reader = EpollBatchReader.of(receiver);
        receiver.connect(peerAddress).sync();
        peer.close(); // now nothing listens on peerAddress: the next send draws an ICMP port unreachable

        receiver.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {42})).sync();
        Object error = received.poll(10, TimeUnit.SECONDS);
        assertInstanceOf(PortUnreachableException.class, error);

        try (DatagramChannel peerAgain = DatagramChannel.open(StandardProtocolFamily.INET)) {
            peerAgain.bind(peerAddress);
            for (int i = 0; i < 3; i++) {
                byte[] sent = bytes(100 + i);
                peerAgain.send(ByteBuffer.wrap(sent), receiver.localAddress());
                DatagramPacket packet = nextPacket();
                try {
                    assertArrayEquals(sent, ByteBufUtil.getBytes(packet.content()));
                } finally {
                    packet.release();
                }
            }
        }
        assertTrue(reader.isRunning());
        assertTrue(receiver.isActive());
        System.out.println("after ICMP error: " + onLoop(receiver, reader::toString));
    }

    @Test
    void closingTheReaderHandsTheChannelBackToNetty() throws Exception {
        EpollDatagramChannel receiver = receiver(LOOPBACK4, EpollBatchReaderConfig.DEFAULT);
        EpollBatchReader reader = EpollBatchReader.of(receiver);
        reader.close();
        receiver.eventLoop().submit(() -> { }).sync();
        assertNull(receiver.pipeline().get(EpollBatchReader.GUARD_NAME));
        assertNull(EpollBatchReader.of(receiver));
        receiver.config().setAutoRead(true);
        EpollDatagramChannel sender = sender(LOOPBACK4);
        byte[] sent = bytes(300);
        sender.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(sent), receiver.localAddress())).sync();
        DatagramPacket packet = nextPacket();
        try {
            assertArrayEquals(sent, ByteBufUtil.getBytes(packet.content()));
        } finally {
            packet.release();
        }
        assertEquals(0, reader.reads());
    }

    private EpollDatagramChannel receiver(InetAddress address, EpollBatchReaderConfig config) throws Exception {
        EpollDatagramChannel ch = (EpollDatagramChannel) new Bootstrap().group(group)
                .channel(EpollDatagramChannel.class)
                .handler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        received.add(msg);
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        received.add(cause);
                    }
                })
                .bind(new InetSocketAddress(address, 0)).sync().channel();
        channels.add(ch);
        EpollBatchReader reader = EpollBatchReader.install(ch, config).sync().getNow();
        assertNotNull(reader);
        return ch;
    }

    private EpollDatagramChannel sender(InetAddress address) throws InterruptedException {
        EpollDatagramChannel ch = (EpollDatagramChannel) new Bootstrap().group(group)
                .channel(EpollDatagramChannel.class)
                .handler(new ChannelInboundHandlerAdapter())
                .bind(new InetSocketAddress(address, 0)).sync().channel();
        channels.add(ch);
        return ch;
    }

    private static DatagramPacket packet(byte[] payload, int segmentSize, InetSocketAddress to) {
        ByteBuf data = Unpooled.wrappedBuffer(payload);
        return payload.length > segmentSize
                ? new SegmentedDatagramPacket(data, segmentSize, to)
                : new DatagramPacket(data, to);
    }

    private static void send(EpollDatagramChannel sender, byte[] payload, int segmentSize, InetSocketAddress to)
            throws InterruptedException {
        sender.writeAndFlush(packet(payload, segmentSize, to)).sync();
    }

    private DatagramPacket nextPacket() throws InterruptedException {
        Object msg = received.poll(10, TimeUnit.SECONDS);
        assertNotNull(msg, "no packet within 10 s");
        if (msg instanceof Throwable t) {
            throw new AssertionError("exception in the pipeline", t);
        }
        return assertInstanceOf(DatagramPacket.class, msg);
    }

    private byte[] bytes(int length) {
        byte[] b = new byte[length];
        random.nextBytes(b);
        return b;
    }

    private static <T> T onLoop(EpollDatagramChannel ch, java.util.concurrent.Callable<T> read) throws Exception {
        return ch.eventLoop().submit(read).get(10, TimeUnit.SECONDS);
    }
}
