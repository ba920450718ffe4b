package dev.nettyoffload.core;

import dev.nettyoffload.core.linux.OffloadLayer;
import dev.nettyoffload.core.linux.OffloadReport;
import dev.nettyoffload.testkit.Prerequisites;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.uring.IoUringChannelOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TcpBulkSenderTest {

    @ParameterizedTest
    @EnumSource(value = Transport.class, names = {"EPOLL", "IO_URING"})
    void appliesOptionsToAConnectedChannel(Transport transport) throws Exception {
        Prerequisites.requireTransport(transport.displayName(), transport.unavailabilityCause());
        EventLoopGroup group = transport.newEventLoopGroup(1);
        Channel server = null;
        Channel client = null;
        try {
            server = new ServerBootstrap().group(group).channel(transport.serverSocketChannelClass())
                    .childHandler(new ChannelInboundHandlerAdapter())
                    .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
            client = new Bootstrap().group(group).channel(transport.socketChannelClass())
                    .handler(new ChannelInboundHandlerAdapter())
                    .connect(server.localAddress()).sync().channel();
            TcpBulkSender sender = TcpBulkSender.newBuilder().notSentLowat(65536).sendBufferSize(1 << 20)
                    .pacingRate(50_000_000).build();
            sender.apply(client);

            // Read back through Netty's own transport-specific options, not ours.
            ChannelOption<Long> lowat = transport == Transport.EPOLL ? EpollChannelOption.TCP_NOTSENT_LOWAT
                    : IoUringChannelOption.TCP_NOTSENT_LOWAT;
            assertEquals(65536L, client.config().getOption(lowat));
            // The kernel doubles SO_SNDBUF for its bookkeeping (socket(7)).
            assertEquals(2 << 20, client.config().getOption(ChannelOption.SO_SNDBUF));
            assertEquals(50_000_000L, SocketPacing.maxPacingRate(client));

            OffloadReport report = TcpBulkSender.report(client);
            assertEquals(transport, report.transport());
            if (report.route() != null) {
                assertEquals("lo", report.route().device(), report.toString());
                assertEquals(OffloadLayer.NONE, report.tcpSegmentation().layer(), report.toString());
            }
        } finally {
            if (client != null) {
                client.close().sync();
            }
            if (server != null) {
                server.close().sync();
            }
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).sync();
        }
    }

    @Test
    void defaultsLeaveBuffersToTheKernel() {
        TcpBulkSender d = TcpBulkSender.DEFAULT;
        assertEquals(TcpBulkSender.DEFAULT_NOT_SENT_LOWAT, d.notSentLowat());
        assertEquals(0, d.sendBufferSize());
        assertEquals(0, d.pacingRate());
        assertEquals("TcpBulkSender(notSentLowat 131072, sendBufferSize auto, receiveBufferSize auto, "
                + "pacingRate none)", d.toString());
        assertEquals(d.toString(), d.toBuilder().build().toString());
        assertThrows(IllegalArgumentException.class, () -> TcpBulkSender.newBuilder().notSentLowat(-1));
        assertThrows(IllegalArgumentException.class, () -> TcpBulkSender.newBuilder().pacingRate(-1));
    }

    @Test
    void nioCannotSetTcpOptions() throws Exception {
        EventLoopGroup group = Transport.NIO.newEventLoopGroup(1);
        try {
            Channel ch = Transport.NIO.socketChannelClass().getConstructor().newInstance();
            group.register(ch).sync();
            try {
                UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                        () -> TcpBulkSender.DEFAULT.apply(ch));
                assertTrue(e.getMessage().contains("NioSocketChannel"), e.getMessage());
                TcpBulkSender.newBuilder().notSentLowat(0).sendBufferSize(65536).build().apply(ch);
                assertTrue(ch.config().getOption(ChannelOption.SO_SNDBUF) >= 65536);
            } finally {
                ch.close().sync();
            }
        } finally {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).sync();
        }
    }
}
