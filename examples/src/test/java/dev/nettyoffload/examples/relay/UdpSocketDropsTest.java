package dev.nettyoffload.examples.relay;

import dev.nettyoffload.core.Transport;
import dev.nettyoffload.testkit.Prerequisites;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A socket that does not read overflows its receive buffer: the kernel's drop count, found by inode (native
 * transports) or by port (NIO), goes up by what did not fit.
 */
class UdpSocketDropsTest {
    private static final int DATAGRAMS = 500;

    @ParameterizedTest
    @EnumSource(Transport.class)
    void countsWhatTheKernelDropped(Transport transport) throws Exception {
        Prerequisites.requireTransport(transport.displayName(), transport.unavailabilityCause());
        Prerequisites.require(Files.isReadable(Path.of("/proc/net/udp")), "/proc/net/udp");
        EventLoopGroup group = transport.newEventLoopGroup(1);
        try {
            InetAddress loopback = InetAddress.getByName("127.0.0.1");
            Channel ch = new Bootstrap().group(group).channel(transport.datagramChannelClass())
                    .option(ChannelOption.AUTO_READ, false)
                    .option(ChannelOption.SO_RCVBUF, 4096)
                    .handler(new ChannelInboundHandlerAdapter())
                    .bind(new InetSocketAddress(loopback, 0)).sync().channel();
            try {
                UdpSocketDrops drops = UdpSocketDrops.of(ch);
                assertEquals(0, drops.read());
                try (DatagramSocket sender = new DatagramSocket(0, loopback)) {
                    byte[] payload = new byte[1000];
                    for (int i = 0; i < DATAGRAMS; i++) {
                        sender.send(new DatagramPacket(payload, payload.length, ch.localAddress()));
                    }
                }
                long dropped = drops.read();
                // A few KiB of buffer hold a handful of datagrams; the rest are dropped.
                assertTrue(dropped > DATAGRAMS / 2 && dropped <= DATAGRAMS, "dropped " + dropped);
            } finally {
                ch.close().sync();
            }
        } finally {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).sync();
        }
    }
}
