package dev.nettyoffload.core;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * A TCP sink that a test starts inside a network namespace: listens on the given port, prints
 * {@code listening}, then for each connection reads to end of stream and prints {@code received N}.
 * Exits after the given number of connections or 60 s.
 */
public final class TcpSinkMain {
    private TcpSinkMain() {
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        int connections = Integer.parseInt(args[1]);
        try (ServerSocket server = new ServerSocket()) {
            server.bind(new InetSocketAddress(port));
            server.setSoTimeout(60_000);
            System.out.println("listening");
            System.out.flush();
            byte[] buf = new byte[65536];
            for (int i = 0; i < connections; i++) {
                try (Socket s = server.accept(); InputStream in = s.getInputStream()) {
                    long total = 0;
                    for (int n; (n = in.read(buf)) > 0; ) {
                        total += n;
                    }
                    System.out.println("received " + total);
                    System.out.flush();
                }
            }
        }
    }
}
