package dev.nettyoffload.testkit;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.SplittableRandom;

/**
 * A child process for tests in network namespaces (start it with {@link NetNs#javaProcess}), checking that a
 * path delivers exactly the bytes sent: {@code serve PORT} accepts one connection, reads to the end
 * and prints {@code bytes=N sha256=H}; {@code send HOST PORT BYTES [BYTES_PER_SECOND]} writes BYTES pseudo-random
 * bytes (no faster than BYTES_PER_SECOND if given, so that a test knows how long it lasts) and prints the same line
 * for what it sent.
 */
public final class TcpTransfer {
    private TcpTransfer() {
    }

    /** The command line that runs {@code TcpTransfer args} with this JVM and class path. */
    public static java.util.List<String> command(String... args) {
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of(
                System.getProperty("java.home") + "/bin/java", "-cp", System.getProperty("java.class.path"),
                TcpTransfer.class.getName()));
        cmd.addAll(java.util.List.of(args));
        return cmd;
    }

    public static void main(String[] args) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        long total = 0;
        if (args[0].equals("serve")) {
            try (ServerSocket server = new ServerSocket()) {
                server.bind(new InetSocketAddress(Integer.parseInt(args[1])));
                System.out.println("LISTENING");
                System.out.flush();
                try (Socket s = server.accept(); InputStream in = s.getInputStream()) {
                    byte[] buf = new byte[256 * 1024];
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        digest.update(buf, 0, n);
                        total += n;
                    }
                }
            }
        } else {
            long bytes = Long.parseLong(args[3]);
            long rate = args.length > 4 ? Long.parseLong(args[4]) : 0;
            long start = System.nanoTime();
            SplittableRandom random = new SplittableRandom(bytes);
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(args[1], Integer.parseInt(args[2])), 10_000);
                OutputStream out = s.getOutputStream();
                byte[] buf = new byte[256 * 1024];
                while (total < bytes) {
                    int n = (int) Math.min(buf.length, bytes - total);
                    for (int i = 0; i < n; i += 8) {
                        long r = random.nextLong();
                        for (int j = 0; j < 8 && i + j < n; j++) {
                            buf[i + j] = (byte) (r >>> (8 * j));
                        }
                    }
                    out.write(buf, 0, n);
                    digest.update(buf, 0, n);
                    total += n;
                    if (rate > 0) {
                        long ahead = total * 1_000_000_000L / rate - (System.nanoTime() - start);
                        if (ahead > 0) {
                            Thread.sleep(ahead / 1_000_000, (int) (ahead % 1_000_000));
                        }
                    }
                }
                s.shutdownOutput();
                s.getInputStream().read();
            }
        }
        System.out.println("bytes=" + total + " sha256=" + HexFormat.of().formatHex(digest.digest()));
    }
}
