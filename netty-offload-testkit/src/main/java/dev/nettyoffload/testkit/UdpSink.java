package dev.nettyoffload.testkit;

import java.io.IOException;
import java.io.PrintStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * A plain JDK UDP receiver (no GRO, no Netty) that records what arrives: the datagram sizes in order and
 * a SHA-256 of their concatenation. Used in-process, or as a main class inside a network namespace:
 * {@code UdpSink ADDRESS PORT IDLE_MILLIS MAX_MILLIS} prints {@code READY}, then the summary lines of
 * {@link Summary#toString()} when no datagram came for IDLE_MILLIS (after the first) or MAX_MILLIS passed.
 */
public final class UdpSink implements AutoCloseable {
    private final DatagramSocket socket;

    public UdpSink(InetSocketAddress bind) throws IOException {
        socket = new DatagramSocket(null);
        socket.setReceiveBufferSize(8 << 20);
        socket.bind(bind);
    }

    public InetSocketAddress localAddress() {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    /** What arrived: sizes in order and the digest of all bytes in order. */
    public static final class Summary {
        public final List<Integer> sizes;
        public final String sha256;
        public final long bytes;

        Summary(List<Integer> sizes, String sha256, long bytes) {
            this.sizes = sizes;
            this.sha256 = sha256;
            this.bytes = bytes;
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder("DATAGRAMS ").append(sizes.size()).append('\n');
            sb.append("BYTES ").append(bytes).append('\n');
            sb.append("SIZES");
            for (int s : sizes) {
                sb.append(' ').append(s);
            }
            return sb.append("\nSHA256 ").append(sha256).toString();
        }

        /** Parses the output of {@link #toString()}, as printed by the main method. */
        public static Summary parse(String text) {
            List<Integer> sizes = new ArrayList<>();
            String sha = null;
            long bytes = -1;
            for (String line : text.split("\n")) {
                if (line.startsWith("SIZES")) {
                    for (String s : line.substring(5).trim().split(" ")) {
                        if (!s.isEmpty()) {
                            sizes.add(Integer.parseInt(s));
                        }
                    }
                } else if (line.startsWith("SHA256 ")) {
                    sha = line.substring(7).trim();
                } else if (line.startsWith("BYTES ")) {
                    bytes = Long.parseLong(line.substring(6).trim());
                }
            }
            if (sha == null) {
                throw new IllegalArgumentException("no summary in: " + text);
            }
            return new Summary(sizes, sha, bytes);
        }
    }

    /**
     * Receives until {@code idleMillis} pass without a datagram (once one came) or {@code maxMillis} in all.
     */
    public Summary receive(long idleMillis, long maxMillis) throws IOException {
        MessageDigest digest = sha256();
        List<Integer> sizes = new ArrayList<>();
        long bytes = 0;
        byte[] buf = new byte[65536];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        long deadline = System.nanoTime() + maxMillis * 1_000_000L;
        while (true) {
            long left = (deadline - System.nanoTime()) / 1_000_000L;
            if (left <= 0) {
                break;
            }
            socket.setSoTimeout((int) Math.max(1, sizes.isEmpty() ? left : Math.min(left, idleMillis)));
            try {
                p.setLength(buf.length);
                socket.receive(p);
            } catch (SocketTimeoutException e) {
                break;
            }
            sizes.add(p.getLength());
            bytes += p.getLength();
            digest.update(buf, 0, p.getLength());
        }
        return new Summary(sizes, HexFormat.of().formatHex(digest.digest()), bytes);
    }

    /** The SHA-256 of {@code bytes}, as {@link Summary#sha256} would report it. */
    public static String sha256Hex(byte[] bytes) {
        return HexFormat.of().formatHex(sha256().digest(bytes));
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        socket.close();
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 4) {
            System.err.println("usage: UdpSink ADDRESS PORT IDLE_MILLIS MAX_MILLIS");
            System.exit(2);
        }
        PrintStream out = System.out;
        try (UdpSink sink = new UdpSink(new InetSocketAddress(InetAddress.getByName(args[0]),
                Integer.parseInt(args[1])))) {
            out.println("READY");
            out.flush();
            out.println(sink.receive(Long.parseLong(args[2]), Long.parseLong(args[3])));
            out.flush();
        }
    }
}
