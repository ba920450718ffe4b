package dev.nettyoffload.examples.relay;

import dev.nettyoffload.core.Transport;
import dev.nettyoffload.examples.Cli;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.net.InetSocketAddress;

/** Command line of {@link UdpRelay}. */
@Command(name = "UdpRelay", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class,
        description = {"Forwards every datagram received on LISTEN to TARGET: UDP_GRO and GroAggregator in,"
                + " GsoEncoder out, so a received batch leaves as one USO send. Prints READY, then its counters"
                + " (including datagrams the kernel dropped on the listening socket) every second and at the end."},
        footer = {"", "Example: java -cp examples/target/netty-offload-examples.jar \\",
                "           dev.nettyoffload.examples.relay.UdpRelay 127.0.0.1:9000 127.0.0.1:9001"})
final class RelayOptions implements Cli.Validated {
    @Parameters(index = "0", paramLabel = "LISTEN_HOST:PORT",
            description = "Address to receive on; port 0 picks a free one (printed in the READY line).")
    InetSocketAddress listen;

    @Parameters(index = "1", paramLabel = "TARGET_HOST:PORT", description = "Where to send, port 1-65535.")
    InetSocketAddress target;

    @Parameters(index = "2", arity = "0..1", paramLabel = "epoll|io_uring|nio",
            description = "Event loop transport, any case (default: ${DEFAULT-VALUE}, the best available here).")
    Transport transport = Transport.best();

    @Parameters(index = "3", arity = "0..1", paramLabel = "SECONDS",
            description = "Stop after this many seconds, 1-2147483647 (default: run until interrupted).")
    @Cli.Range(min = 1, max = Integer.MAX_VALUE)
    long seconds = Long.MAX_VALUE;

    @Override
    public void validate(CommandLine commandLine) {
        if (target.getPort() == 0) {
            throw Cli.invalid(commandLine, commandLine.getCommandSpec().positionalParameters().get(1),
                    "port 0 (expected 1-65535)");
        }
    }
}
