package dev.nettyoffload.core;

import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * What this machine's kernel and Netty transports offer for segmentation and receive offload.
 * <p>
 * Immutable. {@link #get()} probes once per JVM (the probe opens two loopback sockets and sends a few
 * bytes to itself); {@link #probe()} probes again. Use {@link #toString()} for a readable summary.
 */
public final class OffloadCapabilities {
    private static volatile OffloadCapabilities cached;

    private final String kernelRelease;
    private final Map<Transport, String> transportProblems;
    private final boolean udpSegmentSupported;
    private final int maxSegmentsPerSend;
    private final String udpSegmentProblem;
    private final boolean udpGroSupported;
    private final String udpGroProblem;

    /**
     * Capabilities as given rather than probed: for an application that already knows its platform, and for
     * tests of code that decides by them ({@code null} problems mean "supported").
     */
    public OffloadCapabilities(String kernelRelease, Map<Transport, String> transportProblems,
                               int maxSegmentsPerSend, String udpSegmentProblem,
                               boolean udpGroSupported, String udpGroProblem) {
        this.kernelRelease = Objects.requireNonNull(kernelRelease, "kernelRelease");
        this.transportProblems = new EnumMap<>(transportProblems);
        this.udpSegmentSupported = maxSegmentsPerSend > 0;
        this.maxSegmentsPerSend = maxSegmentsPerSend;
        this.udpSegmentProblem = udpSegmentProblem;
        this.udpGroSupported = udpGroSupported;
        this.udpGroProblem = udpGroProblem;
    }

    /** The capabilities of this JVM and kernel, probed on first use and then cached. */
    public static OffloadCapabilities get() {
        OffloadCapabilities c = cached;
        if (c == null) {
            synchronized (OffloadCapabilities.class) {
                c = cached;
                if (c == null) {
                    c = probe();
                    cached = c;
                }
            }
        }
        return c;
    }

    /** Probes again, without touching the cached result. */
    public static OffloadCapabilities probe() {
        return OffloadProbe.run();
    }

    /** {@code uname -r}, or {@code "unknown"} when it cannot be read. */
    public String kernelRelease() {
        return kernelRelease;
    }

    /** Whether {@code transport} can be used in this JVM. */
    public boolean isAvailable(Transport transport) {
        return !transportProblems.containsKey(transport);
    }

    /** Why {@code transport} cannot be used, or {@code null} when it can. */
    public String unavailabilityReason(Transport transport) {
        return transportProblems.get(transport);
    }

    /** Whether a segmented send (UDP_SEGMENT) worked on loopback through a native transport. */
    public boolean isUdpSegmentSupported() {
        return udpSegmentSupported;
    }

    /**
     * The most segments the kernel accepts in one UDP_SEGMENT send (128 since Linux 6.9, 64 before),
     * or 0 when UDP_SEGMENT is not supported.
     */
    public int maxSegmentsPerSend() {
        return maxSegmentsPerSend;
    }

    /** Why UDP_SEGMENT is not supported, or {@code null} when it is. */
    public String udpSegmentProblem() {
        return udpSegmentProblem;
    }

    /** Whether the kernel accepted UDP_GRO on an epoll datagram socket (the only Netty receive path for it). */
    public boolean isUdpGroSupported() {
        return udpGroSupported;
    }

    /** Why UDP_GRO is not supported, or {@code null} when it is. */
    public String udpGroProblem() {
        return udpGroProblem;
    }

    /**
     * Whether {@code transport} can hand a {@code SegmentedDatagramPacket} to the kernel: the transport is
     * available, Netty implements the send on it, and the kernel supports UDP_SEGMENT.
     */
    public boolean isKernelSegmentationAvailable(Transport transport) {
        return udpSegmentSupported && isAvailable(transport) && transport.isSegmentedDatagramPacketSupported();
    }

    /**
     * The reader {@code DatagramChannelTuning.apply} puts on datagram channels of {@code transport} in this JVM,
     * and why ({@link DatagramReaders#choose(Transport, ReaderPreference, OffloadCapabilities)}); what a given
     * channel uses is {@link DatagramReaders#of(io.netty.channel.Channel)}.
     */
    public DatagramReaderChoice datagramReader(Transport transport) {
        return DatagramReaders.choose(transport, ReaderPreference.BEST, this);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(256);
        sb.append("Offload capabilities (kernel ").append(kernelRelease).append(")\n");
        for (Transport t : Transport.values()) {
            sb.append(String.format("  transport %-9s ", t.displayName()));
            String problem = transportProblems.get(t);
            if (problem == null) {
                sb.append("available");
                if (t != Transport.NIO) {
                    sb.append(isKernelSegmentationAvailable(t) ? ", UDP_SEGMENT sends" : ", no UDP_SEGMENT sends");
                } else {
                    sb.append(", software segmentation only (NIO ignores segment sizes)");
                }
            } else {
                sb.append("unavailable: ").append(problem);
            }
            sb.append('\n');
        }
        sb.append("  UDP_SEGMENT (USO)  ");
        if (udpSegmentSupported) {
            sb.append("supported, up to ").append(maxSegmentsPerSend).append(" segments per send");
        } else {
            sb.append("unsupported: ").append(udpSegmentProblem);
        }
        sb.append("\n  UDP_GRO            ");
        sb.append(udpGroSupported ? "supported" : "unsupported: " + udpGroProblem);
        for (Transport t : Transport.values()) {
            if (isAvailable(t)) {
                sb.append('\n').append(String.format("  reader %-11s ", t.displayName())).append(datagramReader(t));
            }
        }
        return sb.toString();
    }
}
