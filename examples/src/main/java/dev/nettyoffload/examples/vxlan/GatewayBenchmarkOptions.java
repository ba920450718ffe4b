package dev.nettyoffload.examples.vxlan;

import dev.nettyoffload.core.Transport;
import dev.nettyoffload.examples.Cli;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Command line of {@link VxlanGatewayBenchmark}. */
@Command(name = "VxlanGatewayBenchmark", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class,
        sortOptions = false,
        description = {"iperf3 TCP throughput across the VXLAN gateway between two Linux vxlan peers in network"
                + " namespaces, with the gateway's GRO and GSO/USO on and off, and across a Linux kernel VTEP (bridge"
                + " and vxlan devices in a namespace) as the anchor, in alternating rounds; prints each run, the"
                + " medians side by side and their ratios. Needs root, iproute2, ethtool, ping and iperf3."},
        footer = {"", "Example: java -cp examples/target/netty-offload-examples.jar \\",
                "  dev.nettyoffload.examples.vxlan.VxlanGatewayBenchmark \\", "  --mtu-a 9000 --mtu-b 1500"})
final class GatewayBenchmarkOptions {
    /**
     * Smallest underlay MTU: the overlay ({@value LinuxPeers#VXLAN_OVERHEAD} bytes less) must still carry
     * the 576 bytes {@link VxlanSegment} asks for.
     */
    static final int MIN_UNDERLAY_MTU = 576 + LinuxPeers.VXLAN_OVERHEAD;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "3",
            description = "Rounds, each with offload on and off, 1-100 (default: ${DEFAULT-VALUE}).")
    @Cli.Range(min = 1, max = 100)
    int rounds;

    @Option(names = "--seconds", paramLabel = "S", defaultValue = "3",
            description = "Seconds of iperf3 per run, 1-3600 (default: ${DEFAULT-VALUE}).")
    @Cli.Range(min = 1, max = 3600)
    int seconds;

    @Option(names = "--mtu-a", paramLabel = "M", defaultValue = "1500",
            description = "Underlay MTU of side A, " + MIN_UNDERLAY_MTU + "-65535 (default: ${DEFAULT-VALUE}).")
    @Cli.Range(min = MIN_UNDERLAY_MTU, max = 65535)
    int mtuA;

    @Option(names = "--mtu-b", paramLabel = "M", defaultValue = "1500",
            description = "Underlay MTU of side B, " + MIN_UNDERLAY_MTU + "-65535 (default: ${DEFAULT-VALUE}). With"
                    + " A's larger, B advertises A's MSS so that the gateway re-segments to B's MTU.")
    @Cli.Range(min = MIN_UNDERLAY_MTU, max = 65535)
    int mtuB;

    @Option(names = "--transport", paramLabel = "epoll|io_uring|nio",
            description = "The gateway's transport, any case (default: ${DEFAULT-VALUE}, the best available here).")
    Transport transport = Transport.best();

    @Option(names = "--veth-gro", paramLabel = "true|false", defaultValue = "true", arity = "1",
            description = "GRO (and so NAPI) on every veth end, so that receivers get merged batches (default:"
                    + " ${DEFAULT-VALUE}).")
    boolean vethGro;

    @Option(names = "--no-kernel", description = "Leave out the Linux kernel VTEP anchor row.")
    boolean noKernel;
}
