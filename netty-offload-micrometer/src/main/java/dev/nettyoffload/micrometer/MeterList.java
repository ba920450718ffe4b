package dev.nettyoffload.micrometer;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.ToDoubleFunction;

/** The meters one binder registered, so that they can be removed again when their channel closes. */
final class MeterList {
    private final List<Meter> meters = new ArrayList<>();
    private final MeterRegistry registry;
    private final Tags tags;

    MeterList(MeterRegistry registry, Iterable<Tag> tags) {
        this.registry = registry;
        this.tags = Tags.of(tags);
    }

    /** A monotonic count read from {@code source} whenever the registry publishes. */
    <T> void counter(String name, String description, T source, ToDoubleFunction<T> count, Tag... extraTags) {
        meters.add(FunctionCounter.builder(name, source, count)
                .description(description)
                .tags(tags.and(extraTags))
                .register(registry));
    }

    List<Meter> meters() {
        return Collections.unmodifiableList(meters);
    }
}
