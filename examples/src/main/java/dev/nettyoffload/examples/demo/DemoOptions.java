package dev.nettyoffload.examples.demo;

import dev.nettyoffload.core.Transport;
import dev.nettyoffload.core.UdpLimits;
import dev.nettyoffload.examples.Cli;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Command line of {@link OffloadDemo}. */
@Command(name = "OffloadDemo", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class,
        sortOptions = false,
        description = {"Prints this machine's offload capabilities, then streams 64 KiB writes over loopback:"
                + " plain writes to a plain receiver, GsoEncoder to a plain receiver, and GsoEncoder to a"
                + " GroAggregator receiver, and compares the payload delivered per second, the datagrams sent,"
                + " received and lost, and the send and receive operations per MB."},
        footer = {"", "Run: java -jar examples/target/netty-offload-examples.jar [options]"})
final class DemoOptions {
    @Option(names = "--transport", paramLabel = "epoll|io_uring|nio",
            description = "Event loop transport, any case (default: ${DEFAULT-VALUE}, the best available here)."
                    + " An unavailable one falls back to nio.")
    Transport transport = Transport.best();

    @Option(names = "--seconds", paramLabel = "S", defaultValue = "1.0",
            description = "Seconds per mode and round, 0.01-60 (default: ${DEFAULT-VALUE}).")
    @Cli.Range(min = 0.01, max = 60)
    double seconds;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "3",
            description = "Rounds of the three modes, interleaved; the medians are printed."
                    + " 1-20 (default: ${DEFAULT-VALUE}).")
    @Cli.Range(min = 1, max = 20)
    int rounds;

    @Option(names = "--segment-size", paramLabel = "BYTES", defaultValue = "1400",
            description = "UDP payload per datagram, 1-" + UdpLimits.MAX_IPV4_PAYLOAD + " (default: ${DEFAULT-VALUE}).")
    @Cli.Range(min = 1, max = UdpLimits.MAX_IPV4_PAYLOAD)
    int segmentSize;
}
