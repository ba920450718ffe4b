package dev.nettyoffload.core;

import io.netty.channel.Channel;
import io.netty.util.concurrent.Future;

/**
 * A receive reader that lives outside core (netty-offload-ffm's {@code EpollBatchReader}, Java 22+), found with
 * {@link java.util.ServiceLoader}: a jar declares its implementation in
 * {@code META-INF/services/dev.nettyoffload.core.DatagramReaderProvider}. Core never names the implementing
 * classes, so it stays on Java 17; {@link DatagramReaders} picks a provider for the transport when its
 * {@link #unavailabilityReason()} is {@code null}. Implementations need a public no-argument constructor.
 */
public interface DatagramReaderProvider {
    /** Which reader this provides ({@link DatagramReader#EPOLL_FFM}). */
    DatagramReader reader();

    /** The transport whose datagram channels it reads. */
    Transport transport();

    /** Why it cannot read in this JVM (Java version, native access, transport), or {@code null} when it can. */
    String unavailabilityReason();

    /**
     * Starts reading {@code channel}, a registered and bound datagram channel of {@link #transport()}, on the
     * channel's event loop; the future completes there. When it fails, Netty's reader must still (or again) read.
     */
    Future<?> attach(Channel channel);

    /** Whether a reader of this provider reads {@code channel} now. */
    boolean isReading(Channel channel);

    /** The reader on {@code channel} with its counters, or {@code null} when none is attached. */
    String describe(Channel channel);
}
