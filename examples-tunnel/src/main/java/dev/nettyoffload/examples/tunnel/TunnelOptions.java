package dev.nettyoffload.examples.tunnel;

import java.net.InetSocketAddress;
import java.util.HexFormat;

/**
 * The command line of a {@link TunnelEndpoint}:
 * <pre>
 * --tun NAME            TUN interface to create (default tun0)
 * --tun-cidr A/N        address for it, added with ip (repeatable: IPv4 and IPv6)
 * --mtu N               TUN MTU (default 1420: a 1500-byte underlay minus IPv4, UDP, header and AEAD)
 * --local IP:PORT       UDP address to bind
 * --peer IP:PORT        the other endpoint
 * --tun-offloads on|off ask TUN for checksum/TSO/USO offload (default on)
 * --udp-offloads on|off UDP_SEGMENT sends, UDP_GRO batch reads and raw-packet GRO (default on)
 * --key HEX             64 hex digits: seal every datagram with ChaCha20-Poly1305 (default: plain)
 * --inner-checksums partial|complete
 *                       TCP/UDP checksums of the carried packets, see InnerChecksums (default partial; complete
 *                       when TUN offloads are off, as TUN then hands over complete checksums only)
 * --segment-copy on|off PacketSegmenter copies each segment (on) or hands out header + payload slices (off), which
 *                       the encapsulator copies into the batch either way (default on)
 * </pre>
 */
final class TunnelOptions {
    String tun = "tun0";
    final java.util.List<String> tunCidrs = new java.util.ArrayList<>();
    int mtu = 1420;
    InetSocketAddress local;
    InetSocketAddress peer;
    boolean tunOffloads = true;
    boolean udpOffloads = true;
    byte[] key;
    InnerChecksums.Mode innerChecksums = InnerChecksums.Mode.PARTIAL;
    boolean segmentCopy = true;

    static TunnelOptions parse(String... args) {
        TunnelOptions o = new TunnelOptions();
        for (int i = 0; i < args.length; i++) {
            String name = args[i];
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(name + ": missing value");
            }
            String value = args[++i];
            switch (name) {
                case "--tun" -> o.tun = value;
                case "--tun-cidr" -> o.tunCidrs.add(value);
                case "--mtu" -> o.mtu = Integer.parseInt(value);
                case "--local" -> o.local = address(value);
                case "--peer" -> o.peer = address(value);
                case "--tun-offloads" -> o.tunOffloads = onOff(name, value);
                case "--udp-offloads" -> o.udpOffloads = onOff(name, value);
                case "--key" -> o.key = value.equals("none") ? null : HexFormat.of().parseHex(value);
                case "--inner-checksums" -> o.innerChecksums = switch (value) {
                    case "partial" -> InnerChecksums.Mode.PARTIAL;
                    case "complete" -> InnerChecksums.Mode.COMPLETE;
                    default -> throw new IllegalArgumentException(name + ": " + value
                            + " (expected: partial or complete)");
                };
                case "--segment-copy" -> o.segmentCopy = onOff(name, value);
                default -> throw new IllegalArgumentException("unknown option " + name);
            }
        }
        if (o.local == null || o.peer == null) {
            throw new IllegalArgumentException("--local and --peer are required");
        }
        if (!o.tunOffloads) {
            o.innerChecksums = InnerChecksums.Mode.COMPLETE;
        }
        return o;
    }

    private static boolean onOff(String name, String value) {
        return switch (value) {
            case "on" -> true;
            case "off" -> false;
            default -> throw new IllegalArgumentException(name + ": " + value + " (expected: on or off)");
        };
    }

    private static InetSocketAddress address(String value) {
        int colon = value.lastIndexOf(':');
        String host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return new InetSocketAddress(host, Integer.parseInt(value.substring(colon + 1)));
    }
}
