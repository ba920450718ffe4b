package dev.nettyoffload.micrometer;

import dev.nettyoffload.gro.GroAggregator;
import dev.nettyoffload.gro.PacketCoalescer;
import dev.nettyoffload.gro.PacketFlushReason;
import dev.nettyoffload.gro.PacketGroAggregator;
import dev.nettyoffload.gro.PacketGroConfig;
import dev.nettyoffload.gro.PacketPassReason;
import dev.nettyoffload.gso.GsoConfig;
import dev.nettyoffload.gso.GsoEncoder;
import dev.nettyoffload.gso.GsoMode;
import dev.nettyoffload.gso.PacketGsoEncoder;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OffloadMetricsTest {
    private static final InetSocketAddress LOCAL = new InetSocketAddress("10.82.0.1", 4000);
    private static final InetSocketAddress PEER = new InetSocketAddress("10.82.0.2", 5000);

    @Test
    void everyHandlerIsBoundWithItsTagsAndUnboundAtClose() {
        MeterRegistry registry = new SimpleMeterRegistry();
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.pipeline().addLast("gso", new GsoEncoder(1400));
        ch.pipeline().addLast("packet-gso", new PacketGsoEncoder());
        ch.pipeline().addLast("gro", new GroAggregator());
        ch.pipeline().addLast("packet-gro", new PacketGroAggregator());
        List<Meter> meters = OffloadMetrics.bind(ch, registry, Tags.of("app", "test"));
        assertEquals(meters.size(), registry.getMeters().size());
        String id = ch.id().asShortText();

        // 4200 bytes in 1400-byte segments: the EmbeddedChannel has no kernel path, so three software datagrams.
        assertTrue(ch.writeOutbound(new DatagramPacket(Unpooled.wrappedBuffer(new byte[4200]), PEER)));
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ((DatagramPacket) o).release();
        }
        assertEquals(1, count(registry, "netty.offload.gso.writes", "gso", id));
        assertEquals(3, count(registry, "netty.offload.gso.software.datagrams", "gso", id));
        assertEquals(0, count(registry, "netty.offload.gso.fallbacks", "gso", id));

        // Three equal datagrams from one sender: one batch at channelReadComplete.
        ch.writeInbound(datagram(1000), datagram(1000), datagram(1000));
        Object batch = ch.readInbound();
        assertInstanceOf(SegmentedDatagramPacket.class, batch);
        ((SegmentedDatagramPacket) batch).release();
        assertEquals(3, count(registry, "netty.offload.gro.datagrams.in", "gro", id));
        assertEquals(1, count(registry, "netty.offload.gro.segmented.batches.out", "gro", id));
        assertEquals(3000, count(registry, "netty.offload.gro.bytes.in", "gro", id));

        for (PacketPassReason reason : PacketPassReason.values()) {
            assertEquals(0, registry.get("netty.offload.packet.gro.passed.through")
                    .tags("reason", reason.name().toLowerCase(Locale.ROOT), "handler", "packet-gro").functionCounter()
                    .count());
        }
        assertEquals(0, count(registry, "netty.offload.packet.gso.packets", "packet-gso", id));
        assertEquals("test", registry.get("netty.offload.gso.kernel.rejections").tag("errno", "EIO").meter()
                .getId().getTag("app"));

        assertFalse(ch.finishAndReleaseAll());
        assertTrue(registry.getMeters().isEmpty(), "meters left after close: " + registry.getMeters());
    }

    @Test
    void aCoalescerWithoutAPipelineIsBoundThroughItsCounters() {
        MeterRegistry registry = new SimpleMeterRegistry();
        PacketCoalescer coalescer = new PacketCoalescer(PacketGroConfig.DEFAULT);
        PacketGroAggregatorMetrics metrics = new PacketGroAggregatorMetrics(coalescer, Tags.of("loop", "rx0"));
        metrics.bindTo(registry);
        // Not a packet: passes through unparsed, as a retained slice of the caller's buffer.
        ByteBuf burst = Unpooled.directBuffer(64).writeZero(64);
        List<Object> out = new java.util.ArrayList<>();
        coalescer.add(burst, 8, 40, burst.alloc(), out::add);
        coalescer.flushAll(PacketFlushReason.READ_COMPLETE, burst.alloc(), out::add);
        burst.release();
        assertEquals(1, out.size());
        ((ByteBuf) out.get(0)).release();
        assertEquals(1, registry.get("netty.offload.packet.gro.packets.in").tag("loop", "rx0").functionCounter()
                .count());
        assertEquals(1, registry.get("netty.offload.packet.gro.passed.through")
                .tags("reason", PacketPassReason.UNPARSEABLE.name().toLowerCase(Locale.ROOT), "loop", "rx0")
                .functionCounter().count());
        metrics.meters().forEach(registry::remove);
        assertTrue(registry.getMeters().isEmpty());
    }

    @Test
    void theKernelPathsOneSegmentTailIsASingleDatagramNotASoftwareOne() {
        MeterRegistry registry = new SimpleMeterRegistry();
        GsoEncoder encoder = new GsoEncoder(GsoConfig.newBuilder().segmentSize(1400).mode(GsoMode.KERNEL).build());
        EmbeddedChannel ch = new EmbeddedChannel(encoder);
        new GsoEncoderMetrics(encoder, Tags.of("app", "test")).bindTo(registry);
        // 65536 = 46 x 1400 (one kernel send, 64400 bytes: the most under the 65507-byte limit) + 1136.
        assertTrue(ch.writeOutbound(new DatagramPacket(Unpooled.wrappedBuffer(new byte[65536]), PEER)));
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ((DatagramPacket) o).release();
        }
        assertEquals(1, registry.get("netty.offload.gso.kernel.sends").functionCounter().count());
        assertEquals(46, registry.get("netty.offload.gso.kernel.segments").functionCounter().count());
        assertEquals(1, registry.get("netty.offload.gso.single.datagrams").functionCounter().count());
        assertEquals(0, registry.get("netty.offload.gso.software.datagrams").functionCounter().count());
        assertEquals(0, registry.get("netty.offload.gso.fallbacks").functionCounter().count());
        assertFalse(ch.finishAndReleaseAll());
    }

    private static double count(MeterRegistry registry, String name, String handler, String channel) {
        return registry.get(name).tags("handler", handler, "channel", channel).functionCounter().count();
    }

    private static DatagramPacket datagram(int size) {
        ByteBuf content = Unpooled.buffer(size).writeZero(size);
        return new DatagramPacket(content, LOCAL, PEER);
    }
}
