package dev.nettyoffload.examples.vxlan;

import dev.nettyoffload.core.Transport;
import dev.nettyoffload.core.packet.VxlanHeader;
import dev.nettyoffload.examples.Cli;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/** Command line of {@link VxlanGateway}. */
@Command(name = "VxlanGateway", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class,
        sortOptions = false,
        description = {"A userspace VTEP joining two VXLAN segments as one bridge, with GRO on ingress and"
                + " USO on egress. Binds UDP port " + VxlanHeader.DEFAULT_PORT + " on each side's LOCAL_IP and"
                + " prints its counters every 10 seconds and on exit."},
        footer = {"", "Example: java -cp examples/target/netty-offload-examples.jar \\",
                "  dev.nettyoffload.examples.vxlan.VxlanGateway \\",
                "  10.87.1.1,100,1450,10.87.1.2 10.87.2.1,200,1450,10.87.2.2"})
final class GatewayOptions implements Cli.Validated {
    @Parameters(index = "0", paramLabel = "SIDE1",
            description = {"One side: LOCAL_IP,VNI,MTU,REMOTE_IP[+REMOTE_IP...], the local VTEP address to bind,"
                    + " the VNI (0-" + VxlanFrame.MAX_VNI + "), the overlay MTU (576-65535) and the remote VTEPs"
                    + " that get flooded frames."})
    String side1;

    @Parameters(index = "1", paramLabel = "SIDE2", description = "The other side, in the same form.")
    String side2;

    @Option(names = "--no-offload", description = "Leave GRO and USO batching out: the baseline.")
    boolean noOffload;

    @Option(names = "--transport", paramLabel = "epoll|io_uring|nio",
            description = "Event loop transport, any case (default: ${DEFAULT-VALUE}, the best available here).")
    Transport transport = Transport.best();

    /** The two sides, parsed by {@link #validate}. */
    final List<VxlanSegment> sides = new ArrayList<>();

    @Override
    public void validate(CommandLine commandLine) {
        sides.clear();
        List<String> specs = List.of(side1, side2);
        for (int i = 0; i < specs.size(); i++) {
            try {
                sides.add(parseSide("side" + (i + 1), specs.get(i)));
            } catch (IllegalArgumentException e) {
                throw Cli.invalid(commandLine, commandLine.getCommandSpec().positionalParameters().get(i),
                        "'" + specs.get(i) + "': " + e.getMessage());
            }
        }
    }

    /** {@code LOCAL_IP,VNI,MTU,REMOTE_IP[+REMOTE_IP...]}; throws an {@link IllegalArgumentException} naming the field. */
    static VxlanSegment parseSide(String name, String spec) {
        String[] f = spec.split(",", -1);
        if (f.length != 4) {
            throw new IllegalArgumentException("expected LOCAL_IP,VNI,MTU,REMOTE_IP[+REMOTE_IP...]");
        }
        List<InetSocketAddress> remotes = new ArrayList<>();
        for (String r : f[3].split("\\+", -1)) {
            remotes.add(vtep("REMOTE_IP", r));
        }
        return new VxlanSegment(name, vtep("LOCAL_IP", f[0]), number("VNI", f[1]), number("MTU", f[2]), remotes);
    }

    private static InetSocketAddress vtep(String field, String host) {
        if (host.isEmpty()) {
            throw new IllegalArgumentException(field + " is empty");
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(host), VxlanHeader.DEFAULT_PORT);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(field + ": unknown host " + host);
        }
    }

    private static int number(String field, String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(field + ": not a number: " + value);
        }
    }
}
