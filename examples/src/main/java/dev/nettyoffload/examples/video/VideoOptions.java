package dev.nettyoffload.examples.video;

import dev.nettyoffload.core.Transport;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Command line of {@link VideoServer}. */
final class VideoOptions {
    static final String USAGE = "usage: VideoServer [options]\n"
            + "Streams a sample H.264 clip as UDP MPEG-TS (with USO), over HTTP/1.1 and over HTTP/3 (with USO).\n"
            + "  --transport epoll|io_uring|nio   event loop transport (default: the best available)\n"
            + "  --http ADDR:PORT     HTTP/1.1 listen address (default 127.0.0.1:8080; port 0 picks one)\n"
            + "  --h3 ADDR:PORT       HTTP/3 (QUIC) listen address (default 127.0.0.1:8443)\n"
            + "  --udp HOST:PORT      send the MPEG-TS stream to this unicast address (repeatable;\n"
            + "                       default 127.0.0.1:5004)\n"
            + "  --multicast GROUP:PORT  also send it to this multicast group (repeatable)\n"
            + "  --multicast-ttl N    TTL of multicast datagrams (default 1)\n"
            + "  --multicast-if NAME  interface for multicast datagrams (default: by the routing table)\n"
            + "  --udp-source ADDR:PORT  local address of the UDP stream (default: the wildcard address)\n"
            + "  --no-http, --no-h3, --no-udp     turn a path off\n"
            + "  --uso on|off         UDP segmentation offload for MPEG-TS and HTTP/3 (default on; off cuts\n"
            + "                       bursts in software)\n"
            + "  --loops N            passes over the clip on UDP, 0 for endless (default 0)\n"
            + "  --burst-ms N         send what is due every N ms (default 100)\n"
            + "  --bitrate BPS        UDP pace when the stream carries no PCR (default 1500000)\n"
            + "  --mp4 FILE, --ts FILE   serve these files instead of the embedded clip\n"
            + "  --seconds N          stop after N seconds (default: run until interrupted)\n"
            + "  --help               this text";

    Transport transport = Transport.best();
    InetSocketAddress http = new InetSocketAddress(InetAddress.getLoopbackAddress(), 8080);
    InetSocketAddress h3 = new InetSocketAddress(InetAddress.getLoopbackAddress(), 8443);
    final List<InetSocketAddress> udp = new ArrayList<>();
    final List<InetSocketAddress> multicast = new ArrayList<>();
    int multicastTtl = 1;
    String multicastIf;
    InetSocketAddress udpSource;
    boolean uso = true;
    long loops;
    long burstMillis = 100;
    long bitRate = 1_500_000;
    Path mp4;
    Path ts;
    double seconds;

    /** Parses {@code args}; null after printing the usage for {@code --help}. */
    static VideoOptions parse(String[] args) {
        VideoOptions o = new VideoOptions();
        boolean noUdp = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--help":
                case "-h":
                    System.out.println(USAGE);
                    return null;
                case "--transport":
                    o.transport = Transport.fromName(value(args, ++i, a));
                    break;
                case "--http":
                    o.http = address(value(args, ++i, a), a);
                    break;
                case "--h3":
                    o.h3 = address(value(args, ++i, a), a);
                    break;
                case "--udp":
                    o.udp.add(address(value(args, ++i, a), a));
                    break;
                case "--multicast": {
                    InetSocketAddress g = address(value(args, ++i, a), a);
                    if (!g.getAddress().isMulticastAddress()) {
                        throw new IllegalArgumentException("--multicast: " + g + " is not a multicast group");
                    }
                    o.multicast.add(g);
                    break;
                }
                case "--multicast-ttl":
                    o.multicastTtl = intIn(value(args, ++i, a), a, 0, 255);
                    break;
                case "--multicast-if":
                    o.multicastIf = value(args, ++i, a);
                    if (o.multicastInterface() == null) {
                        throw new IllegalArgumentException("--multicast-if: no interface " + o.multicastIf);
                    }
                    break;
                case "--udp-source":
                    o.udpSource = address(value(args, ++i, a), a);
                    break;
                case "--no-http":
                    o.http = null;
                    break;
                case "--no-h3":
                    o.h3 = null;
                    break;
                case "--no-udp":
                    noUdp = true;
                    break;
                case "--uso": {
                    String v = value(args, ++i, a);
                    if (!v.equals("on") && !v.equals("off")) {
                        throw new IllegalArgumentException("--uso: on or off, not " + v);
                    }
                    o.uso = v.equals("on");
                    break;
                }
                case "--loops":
                    o.loops = intIn(value(args, ++i, a), a, 0, Integer.MAX_VALUE);
                    break;
                case "--burst-ms":
                    o.burstMillis = intIn(value(args, ++i, a), a, 1, 1000);
                    break;
                case "--bitrate":
                    o.bitRate = intIn(value(args, ++i, a), a, 10_000, 1_000_000_000);
                    break;
                case "--mp4":
                    o.mp4 = Path.of(value(args, ++i, a));
                    break;
                case "--ts":
                    o.ts = Path.of(value(args, ++i, a));
                    break;
                case "--seconds":
                    o.seconds = Double.parseDouble(value(args, ++i, a));
                    if (!(o.seconds > 0)) {
                        throw new IllegalArgumentException("--seconds: a positive number");
                    }
                    break;
                default:
                    throw new IllegalArgumentException("unknown option " + a + " (try --help)");
            }
        }
        if (noUdp) {
            o.udp.clear();
            o.multicast.clear();
        } else if (o.udp.isEmpty() && o.multicast.isEmpty()) {
            o.udp.add(new InetSocketAddress(InetAddress.getLoopbackAddress(), 5004));
        }
        return o;
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

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }

    private static int intIn(String v, String option, int min, int max) {
        int n;
        try {
            n = Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + ": not a number: " + v);
        }
        if (n < min || n > max) {
            throw new IllegalArgumentException(option + ": " + n + " (expected " + min + "-" + max + ")");
        }
        return n;
    }

    /** {@code host:port}, {@code [v6]:port}. */
    static InetSocketAddress address(String v, String option) {
        int colon = v.lastIndexOf(':');
        if (colon <= 0 || colon == v.length() - 1) {
            throw new IllegalArgumentException(option + ": expected HOST:PORT, not " + v);
        }
        String host = v.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port = intIn(v.substring(colon + 1), option, 0, 65535);
        try {
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(option + ": unknown host " + host);
        }
    }
}
