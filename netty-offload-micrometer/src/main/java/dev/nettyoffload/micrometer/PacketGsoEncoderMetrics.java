package dev.nettyoffload.micrometer;

import dev.nettyoffload.gso.PacketGsoCounters;
import dev.nettyoffload.gso.PacketGsoEncoder;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.util.List;
import java.util.Objects;

/** The counters of a {@link PacketGsoEncoder} as {@code netty.offload.packet.gso.*} function counters. */
public final class PacketGsoEncoderMetrics implements MeterBinder {
    private final PacketGsoCounters counters;
    private final Iterable<Tag> tags;
    private MeterList meters;

    public PacketGsoEncoderMetrics(PacketGsoEncoder encoder, Iterable<Tag> tags) {
        this.counters = Objects.requireNonNull(encoder, "encoder").counters();
        this.tags = Objects.requireNonNull(tags, "tags");
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        MeterList m = new MeterList(registry, tags);
        m.counter("netty.offload.packet.gso.packets", "GsoPackets segmented", counters, PacketGsoCounters::packets);
        m.counter("netty.offload.packet.gso.segments", "packets the segmenter produced", counters,
                PacketGsoCounters::segments);
        m.counter("netty.offload.packet.gso.invalid", "GsoPackets refused by the segmenter", counters,
                PacketGsoCounters::invalid);
        meters = m;
    }

    /** The meters {@link #bindTo} registered (empty before). */
    public List<Meter> meters() {
        return meters == null ? List.of() : meters.meters();
    }
}
