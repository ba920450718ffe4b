package dev.nettyoffload.examples.quic;

import dev.nettyoffload.core.Transport;
import dev.nettyoffload.examples.Cli;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Command line of {@link QuicBulkTransfer}. */
@Command(name = "QuicBulkTransfer", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class,
        sortOptions = false,
        description = {"Sends N MiB over one QUIC stream on loopback and checks every byte; prints the server's"
                + " datagrams against its send operations."},
        footer = {"", "Example: java -cp examples/target/netty-offload-examples.jar \\",
                "  dev.nettyoffload.examples.quic.QuicBulkTransfer --compare"})
final class BulkOptions implements Cli.Validated {
    @Option(names = "--transport", paramLabel = "epoll|io_uring|nio",
            description = "Event loop transport, any case (default: ${DEFAULT-VALUE}, the best available here).")
    Transport transport = Transport.best();

    @Option(names = "--mib", paramLabel = "N", defaultValue = "64",
            description = "MiB to transfer, 1-4096 (default: ${DEFAULT-VALUE}).")
    @Cli.Range(min = 1, max = 4096)
    long mib;

    @Option(names = "--mode", paramLabel = "uso|software|none", defaultValue = "uso",
            description = {"How the server sends (default: ${DEFAULT-VALUE}):",
                    "uso: QuicUso.server, kernel USO with software fallback;",
                    "software: QuicUso.server with GsoMode.SOFTWARE;",
                    "none: the plain codec, one datagram per packet."})
    QuicBulkTransfer.SendMode mode;

    @Option(names = "--no-checksum",
            description = "SO_NO_CHECK on the server socket: the kernel refuses USO (native transports only).")
    boolean noChecksum;

    @Option(names = "--client-gro", description = "DatagramChannelTuning on the client (kernel UDP_GRO on epoll).")
    boolean clientGro;

    @Option(names = "--uring-batched-reads",
            description = "io_uring only: linked recvmsg reads on both ends, many ACKs per read loop, so the codec"
                    + " can batch (see ReadTuning).")
    boolean uringBatchedReads;

    @Option(names = "--compare", description = "Run none, software, uso and uso --no-checksum in turn.")
    boolean compare;

    QuicBulkTransfer.ReadTuning reads() {
        return clientGro ? QuicBulkTransfer.ReadTuning.CLIENT_GRO
                : uringBatchedReads ? QuicBulkTransfer.ReadTuning.IO_URING_BATCHED_READS
                : QuicBulkTransfer.ReadTuning.DEFAULT;
    }

    @Override
    public void validate(CommandLine commandLine) {
        if (clientGro && uringBatchedReads) {
            throw Cli.invalid(commandLine, "--uring-batched-reads", "not with --client-gro (one read tuning at a"
                    + " time)");
        }
        if (uringBatchedReads && transport != Transport.IO_URING) {
            throw Cli.invalid(commandLine, "--uring-batched-reads", "needs --transport io_uring, not " + transport);
        }
        if (noChecksum && transport == Transport.NIO) {
            throw Cli.invalid(commandLine, "--no-checksum", "needs --transport epoll or io_uring, not nio");
        }
    }
}
