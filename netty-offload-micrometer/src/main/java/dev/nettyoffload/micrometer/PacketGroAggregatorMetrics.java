package dev.nettyoffload.micrometer;

import dev.nettyoffload.gro.PacketCoalescer;
import dev.nettyoffload.gro.PacketFlushReason;
import dev.nettyoffload.gro.PacketGroAggregator;
import dev.nettyoffload.gro.PacketGroCounters;
import dev.nettyoffload.gro.PacketPassReason;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.ToLongFunction;

/**
 * The counters of a {@link PacketGroAggregator}, or of a {@link PacketCoalescer} used without a pipeline, as
 * {@code netty.offload.packet.gro.*} function counters, with the pass-through and flush reasons as tags. Read through
 * {@link PacketGroCounters#snapshot()} because the registry publishes from its own thread.
 */
public final class PacketGroAggregatorMetrics implements MeterBinder {
    private final PacketGroCounters counters;
    private final Iterable<Tag> tags;
    private MeterList meters;

    public PacketGroAggregatorMetrics(PacketGroAggregator aggregator, Iterable<Tag> tags) {
        this.counters = Objects.requireNonNull(aggregator, "aggregator").counters();
        this.tags = Objects.requireNonNull(tags, "tags");
    }

    /** The counters of a coalescer a program drives itself (a dataplane's receive loop). */
    public PacketGroAggregatorMetrics(PacketCoalescer coalescer, Iterable<Tag> tags) {
        this.counters = Objects.requireNonNull(coalescer, "coalescer").counters();
        this.tags = Objects.requireNonNull(tags, "tags");
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        MeterList m = new MeterList(registry, tags);
        count(m, "netty.offload.packet.gro.packets.in", "packets received", PacketGroCounters::packetsIn);
        count(m, "netty.offload.packet.gro.bytes.in", "bytes received", PacketGroCounters::bytesIn);
        count(m, "netty.offload.packet.gro.merged.out", "merged packets (GsoPackets) passed on",
                PacketGroCounters::mergedPacketsOut);
        count(m, "netty.offload.packet.gro.packets.merged", "packets inside the merged packets",
                PacketGroCounters::packetsMerged);
        count(m, "netty.offload.packet.gro.lone.out", "packets that merged with nothing",
                PacketGroCounters::lonePacketsOut);
        count(m, "netty.offload.packet.gro.checksum.failures", "packets with a bad checksum",
                PacketGroCounters::checksumFailures);
        count(m, "netty.offload.packet.gro.dropped", "packets dropped", PacketGroCounters::packetsDropped);
        for (PacketPassReason reason : PacketPassReason.values()) {
            m.counter("netty.offload.packet.gro.passed.through", "packets passed on unmerged, by reason", counters,
                    c -> c.snapshot().packetsPassedThrough(reason), Tag.of("reason", tag(reason)));
        }
        for (PacketFlushReason reason : PacketFlushReason.values()) {
            m.counter("netty.offload.packet.gro.flows.flushed", "flows flushed, by reason", counters,
                    c -> c.snapshot().flowsFlushed(reason), Tag.of("reason", tag(reason)));
        }
        meters = m;
    }

    private static String tag(Enum<?> reason) {
        return reason.name().toLowerCase(Locale.ROOT);
    }

    private void count(MeterList m, String name, String description, ToLongFunction<PacketGroCounters> value) {
        m.counter(name, description, counters, c -> value.applyAsLong(c.snapshot()));
    }

    /** The meters {@link #bindTo} registered (empty before). */
    public List<Meter> meters() {
        return meters == null ? List.of() : meters.meters();
    }
}
