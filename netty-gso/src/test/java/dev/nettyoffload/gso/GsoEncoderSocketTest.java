package dev.nettyoffload.gso;

import dev.nettyoffload.core.OffloadCapabilities;
import dev.nettyoffload.core.Transport;
import dev.nettyoffload.testkit.Prerequisites;
import dev.nettyoffload.testkit.UdpSink;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GsoEncoder on real loopback sockets of each transport; the receiver is a plain JDK socket (no GRO), so
 * every datagram the kernel or our software path produced arrives on its own.
 */
class GsoEncoderSocketTest {
    private static final Map<Transport, EventLoopGroup> GROUPS = new EnumMap<>(Transport.class);

    /** Buffer kinds the application may write. */
    enum BufferKind { HEAP, DIRECT_POOLED, COMPOSITE }

    static int maxSegmentsPerSend() {
        int probed = OffloadCapabilities.get().maxSegmentsPerSend();
        return probed > 0 ? probed : 64;
    }

    static Stream<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        for (Transport t : Transport.values()) {
            all.add(Arguments.of(t, "1 byte", 1400, 1, "127.0.0.1", BufferKind.DIRECT_POOLED));
            all.add(Arguments.of(t, "one segment", 1400, 1400, "127.0.0.1", BufferKind.DIRECT_POOLED));
            all.add(Arguments.of(t, "one segment + 1", 1400, 1401, "127.0.0.1", BufferKind.DIRECT_POOLED));
            all.add(Arguments.of(t, "20 full segments", 1400, 28000, "127.0.0.1", BufferKind.DIRECT_POOLED));
            all.add(Arguments.of(t, "max segments", 500, 500 * maxSegmentsPerSend(), "127.0.0.1", BufferKind.DIRECT_POOLED));
            all.add(Arguments.of(t, "64 KiB", 1400, 65536, "127.0.0.1", BufferKind.DIRECT_POOLED));
            all.add(Arguments.of(t, "64 KiB heap", 1400, 65536, "127.0.0.1", BufferKind.HEAP));
            all.add(Arguments.of(t, "64 KiB composite", 1400, 65536, "127.0.0.1", BufferKind.COMPOSITE));
            all.add(Arguments.of(t, "64 KiB IPv6", 1400, 65536, "::1", BufferKind.DIRECT_POOLED));
            all.add(Arguments.of(t, "256 KiB", 1200, 262144, "127.0.0.1", BufferKind.DIRECT_POOLED));
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void receiverGetsExactlyTheExpectedDatagrams(Transport transport, String name, int segmentSize, int length,
                                                 String host, BufferKind kind) throws Exception {
        Prerequisites.requireTransport(transport.displayName(), transport.unavailabilityCause());
        byte[] payload = pattern(length, name.hashCode());
        try (UdpSink sink = new UdpSink(new InetSocketAddress(host, 0))) {
            GsoEncoder encoder = new GsoEncoder(GsoConfig.newBuilder().segmentSize(segmentSize).build());
            Channel sender = bindSender(transport, host, encoder);
            try {
                ChannelFuture f = sender.writeAndFlush(new DatagramPacket(buffer(kind, payload), sink.localAddress()));
                assertTrue(f.await(10, TimeUnit.SECONDS), "write did not complete");
                assertTrue(f.isSuccess(), String.valueOf(f.cause()));
                UdpSink.Summary got = sink.receive(300, 10_000);
                assertEquals(expectedSizes(length, segmentSize), got.sizes, "datagram sizes in order");
                assertEquals(UdpSink.sha256Hex(payload), got.sha256, "bytes differ");
            } finally {
                sender.close().sync();
            }
            boolean kernel = OffloadCapabilities.get().isKernelSegmentationAvailable(transport);
            assertEquals(kernel, encoder.isKernelPath(), transport + " path");
            if (length > segmentSize) {
                if (kernel) {
                    assertTrue(encoder.counters().kernelSends() >= 1, encoder.counters().toString());
                } else {
                    assertEquals(0, encoder.counters().kernelSends());
                    assertEquals(expectedSizes(length, segmentSize).size(), encoder.counters().softwareDatagrams());
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void segmentedPacketsFromTheApplicationAreHonoured(Transport transport) throws Exception {
        Prerequisites.requireTransport(transport.displayName(), transport.unavailabilityCause());
        byte[] payload = pattern(10_000, 7);
        try (UdpSink sink = new UdpSink(new InetSocketAddress("127.0.0.1", 0))) {
            GsoEncoder encoder = new GsoEncoder(); // default segment size 1400 is ignored for segmented packets
            Channel sender = bindSender(transport, "127.0.0.1", encoder);
            try {
                ChannelFuture f = sender.writeAndFlush(new SegmentedDatagramPacket(
                        Unpooled.directBuffer(payload.length).writeBytes(payload), 999, sink.localAddress()));
                assertTrue(f.await(10, TimeUnit.SECONDS) && f.isSuccess(), String.valueOf(f.cause()));
                UdpSink.Summary got = sink.receive(300, 10_000);
                assertEquals(expectedSizes(10_000, 999), got.sizes);
                assertEquals(UdpSink.sha256Hex(payload), got.sha256);
            } finally {
                sender.close().sync();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void ipv6RecipientOnAnIpv4ChannelFailsAndTheChannelStaysUsable(Transport transport) throws Exception {
        Prerequisites.requireTransport(transport.displayName(), transport.unavailabilityCause());
        try (UdpSink sink = new UdpSink(new InetSocketAddress("127.0.0.1", 0))) {
            Channel sender = bindSender(transport, "127.0.0.1", new GsoEncoder());
            try {
                ByteBuf bad = Unpooled.directBuffer(5000).writeZero(5000);
                ChannelFuture f = sender.writeAndFlush(new DatagramPacket(bad, new InetSocketAddress("::1", 9)));
                assertTrue(f.await(10, TimeUnit.SECONDS));
                assertInstanceOf(GsoException.class, f.cause());
                assertTrue(f.cause().getMessage().contains("IPv6"), f.cause().getMessage());
                assertEquals(0, bad.refCnt());
                ChannelFuture ok = sender.writeAndFlush(new DatagramPacket(
                        Unpooled.directBuffer(3000).writeZero(3000), sink.localAddress()));
                assertTrue(ok.await(10, TimeUnit.SECONDS) && ok.isSuccess(), String.valueOf(ok.cause()));
                assertEquals(List.of(1400, 1400, 200), sink.receive(300, 10_000).sizes);
            } finally {
                sender.close().sync();
            }
        }
    }

    @Test
    void kernelModeIsRefusedOnNio() throws Exception {
        EventLoopGroup group = group(Transport.NIO);
        Channel ch = new Bootstrap().group(group).channel(Transport.NIO.datagramChannelClass())
                .handler(new ChannelInboundHandlerAdapter())
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        try {
            GsoEncoder encoder = new GsoEncoder(GsoConfig.newBuilder().mode(GsoMode.KERNEL).build());
            ch.eventLoop().submit(() -> ch.pipeline().addFirst(encoder)).await(5, TimeUnit.SECONDS);
            assertFalse(ch.pipeline().toMap().containsValue(encoder),
                    "Netty removes a handler whose handlerAdded threw");
        } finally {
            ch.close().sync();
        }
    }

    static Channel bindSender(Transport transport, String host, GsoEncoder encoder) throws InterruptedException {
        return new Bootstrap().group(group(transport)).channel(transport.datagramChannelClass())
                .handler(encoder)
                .bind(new InetSocketAddress(host, 0)).sync().channel();
    }

    static synchronized EventLoopGroup group(Transport transport) {
        return GROUPS.computeIfAbsent(transport, t -> t.newEventLoopGroup(1));
    }

    @AfterAll
    static synchronized void shutdown() {
        for (EventLoopGroup g : GROUPS.values()) {
            g.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
        GROUPS.clear();
    }

    static List<Integer> expectedSizes(int length, int segmentSize) {
        List<Integer> sizes = new ArrayList<>();
        for (int left = length; left > 0; left -= segmentSize) {
            sizes.add(Math.min(segmentSize, left));
        }
        return sizes;
    }

    static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        int x = seed | 1;
        for (int i = 0; i < length; i++) {
            x = x * 1103515245 + 12345;
            b[i] = (byte) (x >>> 16);
        }
        return b;
    }

    static ByteBuf buffer(BufferKind kind, byte[] payload) {
        switch (kind) {
            case HEAP:
                return Unpooled.wrappedBuffer(payload);
            case COMPOSITE: {
                CompositeByteBuf c = PooledByteBufAllocator.DEFAULT.compositeDirectBuffer(3);
                int third = payload.length / 3;
                c.addComponent(true, PooledByteBufAllocator.DEFAULT.directBuffer(third).writeBytes(payload, 0, third));
                c.addComponent(true, PooledByteBufAllocator.DEFAULT.directBuffer(third)
                        .writeBytes(payload, third, third));
                c.addComponent(true, Unpooled.wrappedBuffer(payload, 2 * third, payload.length - 2 * third));
                return c;
            }
            default:
                return PooledByteBufAllocator.DEFAULT.directBuffer(payload.length).writeBytes(payload);
        }
    }
}
