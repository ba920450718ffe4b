package dev.nettyoffload.core;

import dev.nettyoffload.testkit.Prerequisites;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.unix.IntegerUnixChannelOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SocketPacingTest {
    /** Reads the option the way a 32-bit caller does, to check what the kernel stored independently. */
    private static final IntegerUnixChannelOption RATE_32 = new IntegerUnixChannelOption("rate32",
            OffloadChannelOption.SOL_SOCKET, OffloadChannelOption.SO_MAX_PACING_RATE_OPTNAME);

    @ParameterizedTest
    @EnumSource(value = Transport.class, names = {"EPOLL", "IO_URING"})
    void rateRoundTripsThroughTheKernel(Transport transport) throws Exception {
        Prerequisites.requireTransport(transport.displayName(), transport.unavailabilityCause());
        EventLoopGroup group = transport.newEventLoopGroup(1);
        Channel ch = null;
        try {
            ch = new Bootstrap().group(group).channel(transport.datagramChannelClass())
                    .handler(new ChannelInboundHandlerAdapter())
                    .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
            assertTrue(SocketPacing.isSupported(ch));
            assertEquals(SocketPacing.UNLIMITED, SocketPacing.maxPacingRate(ch));

            SocketPacing.setMaxPacingRate(ch, 1_250_000); // 10 Mbit/s
            assertEquals(1_250_000, SocketPacing.maxPacingRate(ch));
            assertEquals(1_250_000, ch.config().getOption(RATE_32));

            // Above 2^31 - 1 but within the unsigned 32-bit range: passed as a negative int, read back unsigned.
            SocketPacing.setMaxPacingRate(ch, 3_000_000_000L);
            assertEquals(3_000_000_000L, SocketPacing.maxPacingRate(ch));
            assertEquals(3_000_000_000L, Integer.toUnsignedLong(ch.config().getOption(RATE_32)));

            // Beyond 32 bits (100 Gbit/s): the 64-bit form; the 32-bit view saturates at ~0U.
            SocketPacing.setMaxPacingRate(ch, 12_500_000_000L);
            assertEquals(12_500_000_000L, SocketPacing.maxPacingRate(ch));
            assertEquals(-1, ch.config().getOption(RATE_32));

            SocketPacing.setMaxPacingRate(ch, SocketPacing.UNLIMITED);
            assertEquals(SocketPacing.UNLIMITED, SocketPacing.maxPacingRate(ch));
        } finally {
            if (ch != null) {
                ch.close().sync();
            }
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).sync();
        }
    }

    @Test
    void nioIsRefusedWithAClearMessage() throws Exception {
        EventLoopGroup group = Transport.NIO.newEventLoopGroup(1);
        Channel ch = null;
        try {
            ch = new Bootstrap().group(group).channel(Transport.NIO.datagramChannelClass())
                    .handler(new ChannelInboundHandlerAdapter())
                    .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
            Channel nio = ch;
            assertFalse(SocketPacing.isSupported(nio));
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                    () -> SocketPacing.setMaxPacingRate(nio, 1000));
            assertEquals("SO_MAX_PACING_RATE needs an epoll or io_uring channel, not NioDatagramChannel",
                    e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> SocketPacing.setMaxPacingRate(nio, 0));
        } finally {
            if (ch != null) {
                ch.close().sync();
            }
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).sync();
        }
    }

    @Test
    void segmentsPerSendLastAboutAMillisecond() {
        // 10 MB/s: 10 000 bytes per millisecond = 7 segments of 1400 bytes.
        assertEquals(7, SocketPacing.maxSegmentsPerSend(10_000_000, 1400, 64));
        // 1 Gbit/s = 125 MB/s: 125 000 bytes per ms = 89 segments, capped by the kernel's 64.
        assertEquals(64, SocketPacing.maxSegmentsPerSend(125_000_000, 1400, 64));
        // Slower than one segment per millisecond: one segment per send.
        assertEquals(1, SocketPacing.maxSegmentsPerSend(100_000, 1400, 64));
        assertEquals(128, SocketPacing.maxSegmentsPerSend(SocketPacing.UNLIMITED, 1400, 128));
        assertThrows(IllegalArgumentException.class, () -> SocketPacing.maxSegmentsPerSend(1000, 0, 64));
        assertThrows(IllegalArgumentException.class, () -> SocketPacing.maxSegmentsPerSend(1000, 1400, 0));
    }
}
