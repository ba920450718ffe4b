package dev.nettyoffload.examples.relay;

import io.netty.channel.Channel;
import io.netty.channel.unix.UnixChannel;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Datagrams the kernel dropped on one UDP socket (receive buffer full, bad checksum, filtered), read from the
 * {@code drops} column of {@code /proc/net/udp} and {@code /proc/net/udp6}. Netty exposes neither
 * {@code SO_RXQ_OVFL} nor the socket's drop counter, so without this such losses would go unseen.
 * <p>
 * The socket is found by its inode (from {@code /proc/self/fd}) on native transports, else by its local port.
 */
final class UdpSocketDrops {
    /** Column of the inode and of the drop counter in {@code /proc/net/udp[6]} ({@code udp4_format_sock}). */
    private static final int INODE_COLUMN = 9;
    private static final int DROPS_COLUMN = 12;
    private static final List<Path> TABLES = List.of(Path.of("/proc/net/udp"), Path.of("/proc/net/udp6"));

    private final String inode;
    private final int port;

    private UdpSocketDrops(String inode, int port) {
        this.inode = inode;
        this.port = port;
    }

    /** The drop counter of {@code channel}'s socket; call once the channel is bound. */
    static UdpSocketDrops of(Channel channel) {
        String inode = null;
        if (channel instanceof UnixChannel) {
            try {
                String link = Files.readSymbolicLink(Path.of("/proc/self/fd",
                        Integer.toString(((UnixChannel) channel).fd().intValue()))).toString();
                if (link.startsWith("socket:[") && link.endsWith("]")) {
                    inode = link.substring("socket:[".length(), link.length() - 1);
                }
            } catch (IOException | UnsupportedOperationException e) {
                // Not Linux, or no /proc: fall back to the port.
            }
        }
        return new UdpSocketDrops(inode, ((InetSocketAddress) channel.localAddress()).getPort());
    }

    /** Datagrams dropped so far, or -1 when the socket's line is not found (no /proc, not Linux). */
    long read() {
        for (Path table : TABLES) {
            List<String> lines;
            try {
                lines = Files.readAllLines(table);
            } catch (IOException e) {
                continue;
            }
            for (int i = 1; i < lines.size(); i++) {
                String[] f = lines.get(i).trim().split("\\s+");
                if (f.length <= DROPS_COLUMN) {
                    continue;
                }
                boolean match = inode != null ? f[INODE_COLUMN].equals(inode) : localPort(f[1]) == port;
                if (match) {
                    return Long.parseLong(f[DROPS_COLUMN]);
                }
            }
        }
        return -1;
    }

    /** The port of a {@code /proc/net/udp} local address: {@code 0100007F:1F90} is port 8080. */
    private static int localPort(String address) {
        int colon = address.lastIndexOf(':');
        return colon < 0 ? -1 : Integer.parseInt(address.substring(colon + 1), 16);
    }
}
