package dev.nettyoffload.examples.video;

import dev.nettyoffload.core.Transport;
import dev.nettyoffload.examples.Cli;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Command line of {@link VideoServer}. */
@Command(name = "VideoServer", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class,
        sortOptions = false,
        description = {"Streams a sample H.264 clip as UDP MPEG-TS (with USO), over HTTP/1.1 and over HTTP/3"
                + " (with USO)."},
        footer = {"", "Example: java -cp examples/target/netty-offload-examples.jar \\",
                "  dev.nettyoffload.examples.video.VideoServer --seconds 60"})
final class VideoOptions implements Cli.Validated {
    /** The UDP destination when neither {@code --udp} nor {@code --multicast} is given. */
    static final String DEFAULT_UDP = "127.0.0.1:5004";

    @Option(names = "--transport", paramLabel = "epoll|io_uring|nio",
            description = "Event loop transport, any case (default: ${DEFAULT-VALUE}, the best available here).")
    Transport transport = Transport.best();

    @Option(names = "--http", paramLabel = "ADDR:PORT", defaultValue = "127.0.0.1:8080",
            description = "HTTP/1.1 listen address; port 0 picks one (default: ${DEFAULT-VALUE}).")
    InetSocketAddress http;

    @Option(names = "--h3", paramLabel = "ADDR:PORT", defaultValue = "127.0.0.1:8443",
            description = "HTTP/3 (QUIC) listen address (default: ${DEFAULT-VALUE}).")
    InetSocketAddress h3;

    @Option(names = "--udp", paramLabel = "HOST:PORT",
            description = "Send the MPEG-TS stream to this unicast address; repeatable (default: " + DEFAULT_UDP
                    + " unless --multicast is given).")
    List<InetSocketAddress> udp = new ArrayList<>();

    @Option(names = "--multicast", paramLabel = "GROUP:PORT",
            description = "Also send it to this multicast group; repeatable.")
    List<InetSocketAddress> multicast = new ArrayList<>();

    @Option(names = "--multicast-ttl", paramLabel = "N", defaultValue = "1",
            description = "TTL of multicast datagrams, 0-255 (default: ${DEFAULT-VALUE}).")
    @Cli.Range(min = 0, max = 255)
    int multicastTtl;

    @Option(names = "--multicast-if", paramLabel = "NAME",
            description = "Interface for multicast datagrams (default: by the routing table).")
    String multicastIf;

    @Option(names = "--udp-source", paramLabel = "ADDR:PORT",
            description = "Local address of the UDP stream (default: the wildcard address).")
    InetSocketAddress udpSource;

    @Option(names = "--no-http", description = "Turn the HTTP/1.1 path off.")
    boolean noHttp;

    @Option(names = "--no-h3", description = "Turn the HTTP/3 path off.")
    boolean noH3;

    @Option(names = "--no-udp", description = "Turn the UDP MPEG-TS path off.")
    boolean noUdp;

    @Option(names = "--uso", paramLabel = "on|off", defaultValue = "on",
            description = "UDP segmentation offload for MPEG-TS and HTTP/3; off cuts bursts in software"
                    + " (default: ${DEFAULT-VALUE}).")
    Cli.OnOff usoSwitch;

    /** {@code --uso on}. */
    boolean uso = true;

    @Option(names = "--loops", paramLabel = "N", defaultValue = "0",
            description = "Passes over the clip on UDP, 0 for endless, 0-2147483647 (default: ${DEFAULT-VALUE}).")
    @Cli.Range(min = 0, max = Integer.MAX_VALUE)
    long loops;

    @Option(names = "--burst-ms", paramLabel = "N", defaultValue = "100",
            description = "Send what is due every N ms, 1-1000 (default: ${DEFAULT-VALUE}).")
    @Cli.Range(min = 1, max = 1000)
    long burstMillis;

    @Option(names = "--bitrate", paramLabel = "BPS", defaultValue = "1500000",
            description = "UDP pace when the stream carries no PCR, 10000-1000000000 (default: ${DEFAULT-VALUE}).")
    @Cli.Range(min = 10_000, max = 1_000_000_000)
    long bitRate;

    @Option(names = "--mp4", paramLabel = "FILE", description = "Serve this MP4 instead of the embedded clip.")
    Path mp4;

    @Option(names = "--ts", paramLabel = "FILE", description = "Serve this MPEG-TS instead of the embedded clip.")
    Path ts;

    @Option(names = "--seconds", paramLabel = "S",
            description = "Stop after S seconds, 0.001-31536000 (default: run until interrupted).")
    @Cli.Range(min = 0.001, max = 31_536_000)
    double seconds;

    /** Parses {@code args} (tests); throws a {@link picocli.CommandLine.ParameterException} on bad input. */
    static VideoOptions parse(String... args) {
        return Cli.parse(new VideoOptions(), args);
    }

    @Override
    public void validate(CommandLine commandLine) {
        for (InetSocketAddress g : multicast) {
            if (!g.getAddress().isMulticastAddress()) {
                throw Cli.invalid(commandLine, "--multicast", g.getAddress().getHostAddress()
                        + " is not a multicast group (expected 224.0.0.0/4 or ff00::/8)");
            }
        }
        if (multicastIf != null && multicastInterface() == null) {
            throw Cli.invalid(commandLine, "--multicast-if", "no interface " + multicastIf);
        }
        uso = usoSwitch == Cli.OnOff.ON;
        if (noHttp) {
            http = null;
        }
        if (noH3) {
            h3 = null;
        }
        if (noUdp) {
            udp.clear();
            multicast.clear();
        } else if (udp.isEmpty() && multicast.isEmpty()) {
            udp.add(new InetSocketAddress(InetAddress.getLoopbackAddress(), 5004));
        }
    }

    /** The {@code --multicast-if} interface, or null when not given or not found. */
    NetworkInterface multicastInterface() {
        if (multicastIf == null) {
            return null;
        }
        try {
            return NetworkInterface.getByName(multicastIf);
        } catch (SocketException e) {
            return null;
        }
    }

    /** The unicast and multicast destinations of the UDP stream. */
    List<InetSocketAddress> udpTargets() {
        List<InetSocketAddress> all = new ArrayList<>(udp);
        all.addAll(multicast);
        return all;
    }
}
