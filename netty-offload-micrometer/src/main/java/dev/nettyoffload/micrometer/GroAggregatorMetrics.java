package dev.nettyoffload.micrometer;

import dev.nettyoffload.gro.GroAggregator;
import dev.nettyoffload.gro.GroCounters;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.util.List;
import java.util.Objects;
import java.util.function.ToLongFunction;

/**
 * The counters of a {@link GroAggregator} as {@code netty.offload.gro.*} function counters, read through
 * {@link GroCounters#snapshot()} because the registry publishes from its own thread.
 */
public final class GroAggregatorMetrics implements MeterBinder {
    private final GroCounters counters;
    private final Iterable<Tag> tags;
    private MeterList meters;

    public GroAggregatorMetrics(GroAggregator aggregator, Iterable<Tag> tags) {
        this.counters = Objects.requireNonNull(aggregator, "aggregator").counters();
        this.tags = Objects.requireNonNull(tags, "tags");
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        MeterList m = new MeterList(registry, tags);
        count(m, "netty.offload.gro.datagrams.in", "datagrams received", GroCounters::datagramsIn);
        count(m, "netty.offload.gro.bytes.in", "payload bytes received", GroCounters::bytesIn);
        count(m, "netty.offload.gro.batches.out", "messages passed on (batches and lone datagrams)",
                GroCounters::batchesOut);
        count(m, "netty.offload.gro.segmented.batches.out", "SegmentedDatagramPackets passed on",
                GroCounters::segmentedBatchesOut);
        count(m, "netty.offload.gro.kernel.batches", "batches the kernel's UDP_GRO formed",
                GroCounters::kernelGroBatches);
        count(m, "netty.offload.gro.presegmented.batches", "batches that arrived already batched (a batch reader)",
                GroCounters::presegmentedPackets);
        count(m, "netty.offload.gro.presegmented.datagrams", "datagrams inside those batches",
                GroCounters::presegmentedDatagrams);
        count(m, "netty.offload.gro.truncation.suspected", "datagrams that filled their whole receive buffer",
                GroCounters::truncationSuspected);
        count(m, "netty.offload.gro.zero.length", "zero-length datagrams", GroCounters::zeroLengthDatagrams);
        count(m, "netty.offload.gro.oversize", "datagrams too large to batch", GroCounters::oversizeDatagrams);
        count(m, "netty.offload.gro.dropped.inactive", "datagrams released when the channel went inactive",
                GroCounters::droppedOnInactive);
        meters = m;
    }

    private void count(MeterList m, String name, String description, ToLongFunction<GroCounters> value) {
        m.counter(name, description, counters, c -> value.applyAsLong(c.snapshot()));
    }

    /** The meters {@link #bindTo} registered (empty before). */
    public List<Meter> meters() {
        return meters == null ? List.of() : meters.meters();
    }
}
