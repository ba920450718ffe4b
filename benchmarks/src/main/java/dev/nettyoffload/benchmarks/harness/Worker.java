package dev.nettyoffload.benchmarks.harness;

import dev.nettyoffload.core.Transport;

import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A child JVM of the harness that sends or receives, one run at a time, as its parent asks on stdin.
 * <p>
 * Requests: {@code RECV transport= mode= bind= flows= warmup= window= timeout=}, answered by
 * {@code READY port= ports=} (one port per flow) and
 * then {@code RESULT ...}; {@code SEND transport= mode= host= ports= segment= batch= writesPerFlush= warmup=
 * window= maxTail=}, answered by {@code RESULT ...} once its window is over and {@code STOP} has arrived (or
 * the maximum tail has passed); {@code QUIT}. A failed run answers {@code RESULT error=...}. Only these lines go
 * to stdout; everything else (Netty's logging) goes to stderr.
 */
public final class Worker {
    private Worker() {
    }

    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        // Keep stray prints of libraries away from the protocol.
        System.setOut(System.err);
        AtomicBoolean stop = new AtomicBoolean();
        BlockingQueue<String> requests = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    line = line.trim();
                    if (line.equals("STOP")) {
                        stop.set(true);
                    } else if (!line.isEmpty()) {
                        requests.add(line);
                    }
                }
            } catch (IOException e) {
                // The parent is gone: quit below.
            } finally {
                stop.set(true);
                requests.add("QUIT");
            }
        }, "worker-stdin");
        reader.setDaemon(true);
        reader.start();
        while (true) {
            String line = requests.take();
            if (line.equals("QUIT")) {
                break;
            }
            Map<String, String> kv = KeyValues.parse(line);
            Side side;
            try {
                Transport transport = Transport.fromName(String.valueOf(kv.get("transport")));
                if (line.startsWith("RECV ")) {
                    int flows = kv.containsKey("flows") ? Integer.parseInt(kv.get("flows")) : 1;
                    side = JavaReceiver.run(transport, kv.get("mode"),
                            new InetSocketAddress(kv.get("bind"), 0), flows,
                            KeyValues.number(kv, "warmup"), KeyValues.number(kv, "window"),
                            KeyValues.number(kv, "timeout"), ports -> out.println("READY port=" + ports.get(0)
                                    + " ports=" + ports.stream().map(String::valueOf)
                                    .collect(java.util.stream.Collectors.joining(","))));
                } else if (line.startsWith("SEND ")) {
                    stop.set(false);
                    java.util.List<InetSocketAddress> targets = new java.util.ArrayList<>();
                    for (String port : kv.getOrDefault("ports", kv.get("port")).split(",")) {
                        targets.add(new InetSocketAddress(kv.get("host"), Integer.parseInt(port)));
                    }
                    side = JavaSender.run(transport, kv.get("mode"), targets,
                            Integer.parseInt(kv.get("segment")), Integer.parseInt(kv.get("batch")),
                            Integer.parseInt(kv.get("writesPerFlush")), KeyValues.number(kv, "warmup"),
                            KeyValues.number(kv, "window"), KeyValues.number(kv, "maxTail"), stop);
                } else {
                    throw new IllegalArgumentException("unknown request: " + line);
                }
            } catch (Exception | LinkageError e) {
                String message = e.getMessage() == null ? e.toString() : e.getMessage();
                out.println("RESULT error=" + message.replaceAll("\\s+", "_"));
                continue;
            }
            out.println(KeyValues.format("RESULT", side.toMap()));
        }
    }
}
