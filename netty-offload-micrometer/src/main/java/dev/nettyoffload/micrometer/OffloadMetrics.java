package dev.nettyoffload.micrometer;

import dev.nettyoffload.gro.GroAggregator;
import dev.nettyoffload.gro.PacketGroAggregator;
import dev.nettyoffload.gso.GsoEncoder;
import dev.nettyoffload.gso.PacketGsoEncoder;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Binds the counters of every netty-offload handler in a channel's pipeline to a {@link MeterRegistry}, tagged
 * {@code channel} (the channel's short id) and {@code handler} (its name in the pipeline), and removes those
 * meters again when the channel closes. Call it once the handlers are in the pipeline, e.g. at the end of
 * {@code ChannelInitializer.initChannel}, or from Reactor Netty's {@code doOnChannelInit}.
 */
public final class OffloadMetrics {
    private OffloadMetrics() {
    }

    /** Binds the handlers of {@code channel} with the tags {@code channel}, {@code handler} and {@code extraTags}. */
    public static List<Meter> bind(Channel channel, MeterRegistry registry, Iterable<Tag> extraTags) {
        List<Meter> meters = new ArrayList<>();
        for (Map.Entry<String, ChannelHandler> e : channel.pipeline()) {
            Tags tags = Tags.of(extraTags).and("channel", channel.id().asShortText()).and("handler", e.getKey());
            ChannelHandler h = e.getValue();
            if (h instanceof GsoEncoder) {
                GsoEncoderMetrics b = new GsoEncoderMetrics((GsoEncoder) h, tags);
                b.bindTo(registry);
                meters.addAll(b.meters());
            } else if (h instanceof PacketGsoEncoder) {
                PacketGsoEncoderMetrics b = new PacketGsoEncoderMetrics((PacketGsoEncoder) h, tags);
                b.bindTo(registry);
                meters.addAll(b.meters());
            } else if (h instanceof GroAggregator) {
                GroAggregatorMetrics b = new GroAggregatorMetrics((GroAggregator) h, tags);
                b.bindTo(registry);
                meters.addAll(b.meters());
            } else if (h instanceof PacketGroAggregator) {
                PacketGroAggregatorMetrics b = new PacketGroAggregatorMetrics((PacketGroAggregator) h, tags);
                b.bindTo(registry);
                meters.addAll(b.meters());
            }
        }
        channel.closeFuture().addListener(f -> meters.forEach(registry::remove));
        return meters;
    }

    /** {@link #bind(Channel, MeterRegistry, Iterable)} without extra tags. */
    public static List<Meter> bind(Channel channel, MeterRegistry registry) {
        return bind(channel, registry, Tags.empty());
    }
}
