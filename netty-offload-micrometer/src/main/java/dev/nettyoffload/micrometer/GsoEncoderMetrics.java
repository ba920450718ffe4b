package dev.nettyoffload.micrometer;

import dev.nettyoffload.core.Errno;
import dev.nettyoffload.gso.GsoCounters;
import dev.nettyoffload.gso.GsoEncoder;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.util.List;
import java.util.Objects;

/**
 * The counters of a {@link GsoEncoder} as {@code netty.offload.gso.*} function counters. The kernel refusals that
 * matter in practice are counted per errno ({@code EIO}, {@code EINVAL}, {@code EMSGSIZE}).
 */
public final class GsoEncoderMetrics implements MeterBinder {
    /** Errnos a segmented send is refused with: checksum offload off, bad segment, segment over the MTU. */
    private static final int[] REFUSALS = {Errno.EIO, Errno.EINVAL, Errno.EMSGSIZE};

    private final GsoCounters counters;
    private final Iterable<Tag> tags;
    private MeterList meters;

    public GsoEncoderMetrics(GsoEncoder encoder, Iterable<Tag> tags) {
        this.counters = Objects.requireNonNull(encoder, "encoder").counters();
        this.tags = Objects.requireNonNull(tags, "tags");
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        MeterList m = new MeterList(registry, tags);
        m.counter("netty.offload.gso.writes", "messages segmented", counters, GsoCounters::writes);
        m.counter("netty.offload.gso.passed.through", "datagrams that fit one datagram and passed as they came",
                counters, GsoCounters::passedThrough);
        m.counter("netty.offload.gso.kernel.sends", "UDP_SEGMENT sends handed to the kernel", counters,
                GsoCounters::kernelSends);
        m.counter("netty.offload.gso.kernel.segments", "datagrams inside the kernel sends", counters,
                GsoCounters::kernelSegments);
        m.counter("netty.offload.gso.single.datagrams",
                "datagrams the kernel path sent on their own (a write's one-segment tail); not a fallback", counters,
                GsoCounters::singleDatagrams);
        m.counter("netty.offload.gso.software.datagrams", "datagrams cut by the software path", counters,
                GsoCounters::softwareDatagrams);
        m.counter("netty.offload.gso.fallbacks", "kernel sends refused and resent in software", counters,
                GsoCounters::fallbacks);
        m.counter("netty.offload.gso.invalid", "writes refused before reaching the channel", counters,
                GsoCounters::invalid);
        m.counter("netty.offload.gso.paced.sends", "sends the pacer held back", counters, GsoCounters::pacedSends);
        for (int errno : REFUSALS) {
            m.counter("netty.offload.gso.kernel.rejections", "kernel sends that failed, by errno", counters,
                    c -> c.rejections(errno), Tag.of("errno", Errno.name(errno)));
        }
        meters = m;
    }

    /** The meters {@link #bindTo} registered (empty before). */
    public List<Meter> meters() {
        return meters == null ? List.of() : meters.meters();
    }
}
