package dev.nettyoffload.gro;

import dev.nettyoffload.core.DatagramChannelTuning;
import dev.nettyoffload.core.DatagramReader;
import dev.nettyoffload.core.DatagramReaders;
import dev.nettyoffload.core.OffloadCapabilities;
import dev.nettyoffload.core.Transport;
import dev.nettyoffload.testkit.Prerequisites;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.MaxMessagesRecvByteBufAllocator;
import io.netty.channel.epoll.EpollChannelOption;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What {@link DatagramChannelTuning} sets on a real channel of each transport, and what it reports. */
class DatagramChannelTuningTest {
    @AfterAll
    static void shutdown() {
        GroLoopbackTest.shutdown();
    }

    private static Channel bind(Transport t, boolean tuned) throws InterruptedException {
        Bootstrap b = new Bootstrap().group(GroLoopbackTest.group(t)).channel(t.datagramChannelClass())
                .handler(new ChannelInboundHandlerAdapter());
        if (tuned) {
            DatagramChannelTuning.apply(b, t);
        }
        Channel ch = b.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
        DatagramReaders.whenStarted(ch).await(5, TimeUnit.SECONDS);
        return ch;
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void appliesBuffersOnEveryTransport(Transport t) throws Exception {
        Prerequisites.requireTransport(t.displayName(), t.unavailabilityCause());
        Channel ch = bind(t, true);
        try {
            assertEquals(DatagramChannelTuning.defaultReceiveBufferSize(t), DatagramChannelTuning.receiveBufferSize(ch));
            // The kernel doubles SO_RCVBUF for bookkeeping and caps the request at net.core.rmem_max.
            assertTrue(ch.config().getOption(ChannelOption.SO_RCVBUF) >= 212992,
                    "SO_RCVBUF " + ch.config().getOption(ChannelOption.SO_RCVBUF));
            MaxMessagesRecvByteBufAllocator allocator = ch.config().getRecvByteBufAllocator();
            assertEquals(DatagramChannelTuning.DEFAULT_MAX_MESSAGES_PER_READ, allocator.maxMessagesPerRead());
            // Epoll's reader asks for UDP_GRO, and so does the io_uring batch reader that apply puts there.
            boolean batchReader = ch.eventLoop().submit(() -> DatagramReaders.of(ch)).get().reader()
                    == DatagramReader.IO_URING;
            assertEquals((t == Transport.EPOLL || batchReader) && OffloadCapabilities.get().isUdpGroSupported(),
                    ch.eventLoop().submit(() -> DatagramChannelTuning.isUdpGroEnabled(ch)).get());
            assertNull(DatagramChannelTuning.receiveBufferProblem(ch));
            assertEquals(0, DatagramChannelTuning.datagramSlotSize(ch));
        } finally {
            ch.close().sync();
        }
    }

    @Test
    void epollNeedsWholeBufferReads() throws Exception {
        Prerequisites.requireTransport(Transport.EPOLL.displayName(), Transport.EPOLL.unavailabilityCause());
        Prerequisites.require(OffloadCapabilities.get().isUdpGroSupported(), "UDP_GRO");
        Channel ch = bind(Transport.EPOLL, true);
        try {
            assertEquals(0, (int) ch.config().getOption(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE));
            // recvmmsg into 1500-byte slots would cut every GRO batch to one slot.
            ch.config().setOption(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, 1500);
            String problem = DatagramChannelTuning.receiveBufferProblem(ch);
            assertNotNull(problem);
            assertTrue(problem.contains("MAX_DATAGRAM_PAYLOAD_SIZE"), problem);
            assertEquals(1500, DatagramChannelTuning.datagramSlotSize(ch));
            DatagramChannelTuning.apply(ch);
            assertNull(DatagramChannelTuning.receiveBufferProblem(ch));
        } finally {
            ch.close().sync();
        }
    }

    @Test
    void untunedEpollChannelWithUdpGroIsReported() throws Exception {
        Prerequisites.requireTransport(Transport.EPOLL.displayName(), Transport.EPOLL.unavailabilityCause());
        Prerequisites.require(OffloadCapabilities.get().isUdpGroSupported(), "UDP_GRO");
        Channel ch = bind(Transport.EPOLL, false);
        try {
            assertNull(DatagramChannelTuning.receiveBufferProblem(ch), "no UDP_GRO, nothing to truncate");
            ch.config().setOption(EpollChannelOption.UDP_GRO, true);
            String problem = DatagramChannelTuning.receiveBufferProblem(ch);
            assertNotNull(problem);
            assertTrue(problem.contains("2048"), problem);
        } finally {
            ch.close().sync();
        }
    }

    @Test
    void rejectsBadSizes() {
        Bootstrap b = new Bootstrap();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DatagramChannelTuning.apply(b, Transport.NIO, 1024, 0));
        assertTrue(e.getMessage().contains("receiveBufferSize"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DatagramChannelTuning.apply(b, Transport.NIO, 65536, -1));
    }
}
