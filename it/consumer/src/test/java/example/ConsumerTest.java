package example;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.nettyoffload.core.Transport;
import dev.nettyoffload.gro.GroAggregator;
import dev.nettyoffload.gso.GsoConfig;
import dev.nettyoffload.gso.GsoEncoder;
import dev.nettyoffload.gso.GsoMode;
import dev.nettyoffload.micrometer.OffloadMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.Errors;
import io.netty.channel.unix.SegmentedDatagramPacket;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a new user of the three artifacts gets with the README's snippet alone. */
class ConsumerTest {
    private static final InetSocketAddress PEER = new InetSocketAddress("127.0.0.1", 9999);

    /** Refuses every segmented send with EIO, as a kernel does for a socket without UDP checksums. */
    static final class RefusingKernel extends ChannelOutboundHandlerAdapter {
        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (msg instanceof SegmentedDatagramPacket) {
                ReferenceCountUtil.release(msg);
                promise.setFailure(new Errors.NativeIoException("sendmmsg", -5));
            } else {
                ctx.write(msg, promise);
            }
        }
    }

    @Test
    void nativeTransportFromTheSnippet() {
        assertEquals(Transport.EPOLL, Transport.best(), String.valueOf(Transport.EPOLL.unavailabilityCause()));
    }

    @Test
    void handlersLogThroughSlf4jAndExportCountersToMicrometer() {
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        ((Logger) LoggerFactory.getLogger(GsoEncoder.class)).addAppender(logs);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();

        EmbeddedChannel ch = new EmbeddedChannel();
        ch.pipeline().addLast(new RefusingKernel());
        ch.pipeline().addLast("gso", new GsoEncoder(GsoConfig.newBuilder().segmentSize(1000).mode(GsoMode.KERNEL)
                .build()));
        ch.pipeline().addLast("gro", new GroAggregator());
        OffloadMetrics.bind(ch, registry);

        assertTrue(ch.writeOutbound(new DatagramPacket(Unpooled.wrappedBuffer(new byte[5000]), PEER)));
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ReferenceCountUtil.release(o);
        }
        assertTrue(logs.list.stream().anyMatch(e -> e.getFormattedMessage().contains("the kernel refused a UDP_SEGMENT"
                + " send")), "GsoEncoder's INFO line reached Logback through SLF4J: " + logs.list);
        assertEquals(1, registry.get("netty.offload.gso.fallbacks").tag("handler", "gso").functionCounter().count());
        assertEquals(5, registry.get("netty.offload.gso.software.datagrams").functionCounter().count());
        assertFalse(ch.finishAndReleaseAll());
        assertTrue(registry.getMeters().isEmpty());
    }
}
