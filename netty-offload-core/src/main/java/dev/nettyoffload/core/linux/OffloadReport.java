package dev.nettyoffload.core.linux;

import dev.nettyoffload.core.DatagramReader;
import dev.nettyoffload.core.DatagramReaderChoice;
import dev.nettyoffload.core.OffloadCapabilities;
import dev.nettyoffload.core.Transport;
import io.netty.util.internal.logging.InternalLogger;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Answers "who segments and who coalesces for this destination?": for UDP sends through {@code GsoEncoder},
 * TCP sends, and UDP and TCP receives, the {@link OffloadLayer} that does the work and why.
 * <p>
 * It combines the kernel and transport probe ({@link OffloadCapabilities}), the route to the destination
 * ({@link EgressRoute}) and the output device's features ({@link NicFeatures}). Receive-side answers assume
 * replies from the destination arrive on the same device the route sends on, which holds unless routing is
 * asymmetric. Nothing here throws for a missing {@code ip} or {@code ethtool}, an unknown device or an
 * unreachable destination: the affected answers are {@link OffloadLayer#UNKNOWN} and say why.
 * <p>
 * Building a report runs {@code ip} and {@code ethtool} (a few milliseconds): never on an event loop; use
 * {@link #logAsync(InternalLogger, InetAddress, Transport)} from a handler.
 */
public final class OffloadReport {
    private final InetAddress destination;
    private final Transport transport;
    private final EgressRoute route;
    private final String routeProblem;
    private final NicFeatures features;
    private final String featuresProblem;
    private final OffloadDecision udpSegmentation;
    private final OffloadDecision tcpSegmentation;
    private final OffloadDecision udpCoalescing;
    private final OffloadDecision tcpCoalescing;
    private final DatagramReaderChoice datagramReader;

    private OffloadReport(InetAddress destination, Transport transport, OffloadCapabilities capabilities,
                          EgressRoute route, String routeProblem, NicFeatures features, String featuresProblem) {
        this.destination = destination;
        this.transport = transport;
        this.route = route;
        this.routeProblem = routeProblem;
        this.features = features;
        this.featuresProblem = featuresProblem;
        boolean ipv6 = destination instanceof Inet6Address;
        udpSegmentation = decideUdpSegmentation(capabilities, ipv6);
        tcpSegmentation = decideTcpSegmentation(ipv6);
        datagramReader = capabilities.datagramReader(transport);
        udpCoalescing = decideUdpCoalescing(capabilities);
        tcpCoalescing = decideTcpCoalescing();
    }

    /**
     * Builds the report for sending to (and receiving from) {@code destination} over {@code transport}.
     * Never throws for environment problems; see the class description.
     */
    public static OffloadReport forDestination(InetAddress destination, Transport transport) {
        return forDestination(destination, transport, new ExternalCommand(java.util.List.of("ip"), "iproute2"),
                Ethtool.system());
    }

    static OffloadReport forDestination(InetAddress destination, Transport transport, ExternalCommand ip,
                                        Ethtool ethtool) {
        Objects.requireNonNull(destination, "destination");
        Objects.requireNonNull(transport, "transport");
        OffloadCapabilities capabilities = OffloadCapabilities.get();
        EgressRoute route = null;
        String routeProblem = null;
        try {
            route = EgressRoute.lookup(destination, ip);
        } catch (RuntimeException e) {
            routeProblem = problem(e);
        }
        NicFeatures features = null;
        String featuresProblem = null;
        if (route == null) {
            featuresProblem = "the output device is unknown because the route is";
        } else {
            try {
                features = ethtool.read(route.device());
            } catch (RuntimeException e) {
                featuresProblem = problem(e);
            }
        }
        return create(destination, transport, capabilities, route, routeProblem, features, featuresProblem);
    }

    /** Builds a report from parts already gathered (or parsed from recorded output). */
    static OffloadReport create(InetAddress destination, Transport transport, OffloadCapabilities capabilities,
                                EgressRoute route, String routeProblem, NicFeatures features,
                                String featuresProblem) {
        return new OffloadReport(destination, transport, capabilities, route, routeProblem, features,
                featuresProblem);
    }

    /**
     * When {@code logger} logs at DEBUG, builds the report for {@code destination} off the calling thread and
     * logs it at DEBUG; handlers call this from {@code channelActive}. Returns the future report, or a
     * completed {@code null} when DEBUG is off.
     */
    public static CompletableFuture<OffloadReport> logAsync(InternalLogger logger, InetAddress destination,
                                                            Transport transport) {
        return reportAsync(logger.isDebugEnabled(), logger::debug, destination, transport);
    }

    /** Builds the report off the calling thread and hands its text to {@code sink}, when {@code enabled}. */
    static CompletableFuture<OffloadReport> reportAsync(boolean enabled, Consumer<String> sink,
                                                        InetAddress destination, Transport transport) {
        if (!enabled || destination == null) {
            return CompletableFuture.completedFuture(null);
        }
        return CompletableFuture.supplyAsync(() -> {
            OffloadReport report = forDestination(destination, transport);
            sink.accept(report.toString());
            return report;
        });
    }

    private static String problem(RuntimeException e) {
        return e instanceof OffloadToolException ? e.getMessage() : e.getClass().getSimpleName() + ": "
                + e.getMessage();
    }

    private boolean isLoopback() {
        return route != null && (route.isLocal() || "lo".equals(route.device()));
    }

    private String device() {
        return route == null ? "?" : route.device();
    }

    private OffloadDecision decideUdpSegmentation(OffloadCapabilities caps, boolean ipv6) {
        if (!caps.isKernelSegmentationAvailable(transport)) {
            String why;
            if (transport == Transport.NIO) {
                why = "NIO cannot pass a segment size to the kernel";
            } else if (!caps.isAvailable(transport)) {
                why = transport + " is unavailable: " + caps.unavailabilityReason(transport);
            } else if (!caps.isUdpSegmentSupported()) {
                why = "the kernel has no usable UDP_SEGMENT: " + caps.udpSegmentProblem();
            } else {
                why = "Netty's " + transport + " transport does not send with UDP_SEGMENT";
            }
            return new OffloadDecision(OffloadLayer.SOFTWARE, why + "; GsoEncoder sends one datagram per segment");
        }
        if (isLoopback()) {
            return new OffloadDecision(OffloadLayer.NONE, "loopback carries each UDP_SEGMENT send whole; a UDP_GRO "
                    + "receiver gets it whole, any other receiver gets it split by the kernel on delivery");
        }
        if (features == null) {
            return new OffloadDecision(OffloadLayer.UNKNOWN, "GsoEncoder sends with UDP_SEGMENT, but whether the "
                    + "NIC or the kernel cuts the packets is unknown: " + missing());
        }
        NicFeature uso = features.feature(NicFeatures.TX_UDP_SEGMENTATION);
        if (uso != null && uso.isEnabled()) {
            return new OffloadDecision(OffloadLayer.NIC, device() + " has tx-udp-segmentation on: each UDP_SEGMENT "
                    + "send reaches the driver as one GSO packet and the device cuts it (USO)");
        }
        String state = uso == null ? "is not offered" : uso.toString();
        if (uso != null && uso.isRequested() && !features.isTxChecksumEnabled(ipv6)) {
            state += ", held off because TX checksum offload is off";
        }
        return new OffloadDecision(OffloadLayer.KERNEL, device() + ": tx-udp-segmentation " + state.replace(
                NicFeatures.TX_UDP_SEGMENTATION + ": ", "") + "; the kernel's GSO layer cuts each UDP_SEGMENT send "
                + "just before the driver (one trip down the stack per send)");
    }

    private OffloadDecision decideTcpSegmentation(boolean ipv6) {
        if (isLoopback()) {
            return new OffloadDecision(OffloadLayer.NONE, "loopback carries TCP packets of up to 64 KiB whole");
        }
        if (features == null) {
            return new OffloadDecision(OffloadLayer.UNKNOWN, missing());
        }
        String tso = ipv6 ? NicFeatures.TX_TCP6_SEGMENTATION : NicFeatures.TX_TCP_SEGMENTATION;
        if (features.isTcpSegmentationEnabled(ipv6)) {
            int max = features.limits().gsoMaxSize();
            return new OffloadDecision(OffloadLayer.NIC, device() + " has " + tso + " on: TCP hands the device "
                    + "packets of up to " + (max > 0 ? max + " bytes" : "gso_max_size") + " and it cuts them (TSO)");
        }
        if (features.isEnabled(NicFeatures.GENERIC_SEGMENTATION_OFFLOAD)) {
            return new OffloadDecision(OffloadLayer.KERNEL, device() + " has " + tso + " off and "
                    + "generic-segmentation-offload on: TCP builds large packets and the kernel's GSO layer cuts "
                    + "them just before the driver");
        }
        return new OffloadDecision(OffloadLayer.KERNEL, device() + " has " + tso + " and "
                + "generic-segmentation-offload off: TCP builds MSS-sized packets one by one");
    }

    private OffloadDecision decideUdpCoalescing(OffloadCapabilities caps) {
        boolean udpGro = datagramReader.reader() == DatagramReader.NETTY_UDP_GRO
                || datagramReader.reader().deliversBatches();
        if (!udpGro || !caps.isUdpGroSupported()) {
            String why = !caps.isUdpGroSupported() ? "UDP_GRO is unavailable: " + caps.udpGroProblem()
                    : "no UDP_GRO receive path on " + transport + " (" + datagramReader + ")";
            return new OffloadDecision(OffloadLayer.SOFTWARE, why + "; GroAggregator coalesces datagrams");
        }
        if (isLoopback()) {
            return new OffloadDecision(OffloadLayer.KERNEL, "loopback delivers each UDP_SEGMENT send whole to a "
                    + "UDP_GRO socket; separately sent datagrams are not merged");
        }
        if (features == null) {
            return new OffloadDecision(OffloadLayer.UNKNOWN, "UDP_GRO is set on the socket, but " + missing());
        }
        if (features.isEnabled(NicFeatures.GENERIC_RECEIVE_OFFLOAD)) {
            return new OffloadDecision(OffloadLayer.KERNEL, device() + " has generic-receive-offload on and the "
                    + "socket UDP_GRO: the kernel merges datagrams of a flow");
        }
        return new OffloadDecision(OffloadLayer.SOFTWARE, device() + " has generic-receive-offload off, so the "
                + "kernel merges nothing; GroAggregator coalesces datagrams");
    }

    private OffloadDecision decideTcpCoalescing() {
        if (isLoopback()) {
            return new OffloadDecision(OffloadLayer.NONE, "loopback delivers the sender's large TCP packets whole");
        }
        if (features == null) {
            return new OffloadDecision(OffloadLayer.UNKNOWN, missing());
        }
        if (features.isEnabled(NicFeatures.LARGE_RECEIVE_OFFLOAD) || features.isEnabled(NicFeatures.RX_GRO_HW)) {
            return new OffloadDecision(OffloadLayer.NIC, device() + " merges TCP segments in hardware ("
                    + (features.isEnabled(NicFeatures.RX_GRO_HW) ? "rx-gro-hw" : "large-receive-offload") + " on)");
        }
        if (features.isEnabled(NicFeatures.GENERIC_RECEIVE_OFFLOAD)) {
            return new OffloadDecision(OffloadLayer.KERNEL, device() + " has generic-receive-offload on: the "
                    + "kernel merges TCP segments (GRO)");
        }
        return new OffloadDecision(OffloadLayer.NONE, device() + " has generic-receive-offload, "
                + "large-receive-offload and rx-gro-hw off: each TCP segment goes up the stack alone");
    }

    private String missing() {
        return featuresProblem != null ? featuresProblem : "the features of " + device() + " are unknown";
    }

    public InetAddress destination() {
        return destination;
    }

    public Transport transport() {
        return transport;
    }

    /** The route to the destination, or {@code null} when it could not be looked up ({@link #routeProblem()}). */
    public EgressRoute route() {
        return route;
    }

    /** Why the route is unknown, or {@code null}. */
    public String routeProblem() {
        return routeProblem;
    }

    /** The output device's features, or {@code null} when they could not be read ({@link #featuresProblem()}). */
    public NicFeatures features() {
        return features;
    }

    /** Why the device's features are unknown, or {@code null}. */
    public String featuresProblem() {
        return featuresProblem;
    }

    /** Who cuts the datagrams GsoEncoder sends to this destination. */
    public OffloadDecision udpSegmentation() {
        return udpSegmentation;
    }

    /** Who cuts a TCP stream to this destination into MSS-sized packets. */
    public OffloadDecision tcpSegmentation() {
        return tcpSegmentation;
    }

    /** Who merges datagrams received from this destination. */
    public OffloadDecision udpCoalescing() {
        return udpCoalescing;
    }

    /**
     * The reader {@code DatagramChannelTuning.apply} puts on datagram channels of this report's transport, and
     * why; it decides whether received batches reach the pipeline whole.
     */
    public DatagramReaderChoice datagramReader() {
        return datagramReader;
    }

    /** Who merges TCP segments received from this destination. */
    public OffloadDecision tcpCoalescing() {
        return tcpCoalescing;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(768).append("Offload report for ")
                .append(destination.getHostAddress()).append(" over ").append(transport).append('\n');
        sb.append("  route            ").append(route != null ? route : "unknown: " + routeProblem).append('\n');
        sb.append("  device features  ");
        if (features != null) {
            sb.append(String.join(", ", featureSummary())).append('\n');
        } else {
            sb.append("unknown: ").append(featuresProblem).append('\n');
        }
        sb.append("  UDP send         ").append(udpSegmentation).append('\n');
        sb.append("  TCP send         ").append(tcpSegmentation).append('\n');
        sb.append("  UDP receive      ").append(udpCoalescing).append('\n');
        sb.append("  UDP reader       ").append(datagramReader).append('\n');
        sb.append("  TCP receive      ").append(tcpCoalescing);
        return sb.toString();
    }

    private java.util.List<String> featureSummary() {
        java.util.List<String> parts = new java.util.ArrayList<>();
        for (String name : new String[] {NicFeatures.TX_CHECKSUM_IP_GENERIC, NicFeatures.TX_TCP_SEGMENTATION,
                NicFeatures.TX_TCP6_SEGMENTATION, NicFeatures.TX_UDP_SEGMENTATION,
                NicFeatures.GENERIC_SEGMENTATION_OFFLOAD, NicFeatures.GENERIC_RECEIVE_OFFLOAD,
                NicFeatures.LARGE_RECEIVE_OFFLOAD, NicFeatures.RX_GRO_HW}) {
            NicFeature f = features.feature(name);
            if (f != null) {
                parts.add(f.toString().replace(": ", " "));
            }
        }
        DeviceLimits l = features.limits();
        parts.add("gso_max_size " + (l.gsoMaxSize() == DeviceLimits.UNKNOWN ? "unknown" : l.gsoMaxSize()));
        return parts;
    }
}
