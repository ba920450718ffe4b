package dev.nettyoffload.examples.demo;

import dev.nettyoffload.core.OffloadCapabilities;
import dev.nettyoffload.core.linux.OffloadReport;
import dev.nettyoffload.core.Transport;
import dev.nettyoffload.examples.Cli;
import dev.nettyoffload.gso.GsoCounters;
import dev.nettyoffload.gso.GsoEncoder;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The project's main job: prints what this machine offers for offload, then moves the same stream of
 * 64 KiB application writes over loopback without offload (one datagram per write call) and with
 * {@link GsoEncoder}, and prints datagram counts, kernel send operations and throughput side by side.
 */
public final class OffloadDemo {
    private OffloadDemo() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the demo with {@code args}; returns the exit status (2 for bad input, with nothing done). */
    static int run(String... args) {
        DemoOptions options = new DemoOptions();
        return Cli.execute(options, () -> demo(options), args);
    }

    private static int demo(DemoOptions options) throws Exception {
        System.out.println(OffloadCapabilities.get());
        System.out.println();
        Transport transport = options.transport;
        if (!transport.isAvailable()) {
            System.out.println("transport " + transport + " is not available here: "
                    + transport.unavailabilityCause() + "; using nio");
            transport = Transport.NIO;
        }
        System.out.println(OffloadReport.forDestination(InetAddress.getLoopbackAddress(), transport));
        System.out.println();
        System.out.printf(Locale.ROOT, "Loopback stream on %s: %d-byte datagrams, 64 KiB writes, %d rounds of"
                + " %.1f s per mode, interleaved%n%n", transport, options.segmentSize, options.rounds,
                options.seconds);
        List<LoopbackStream.Result> plain = new ArrayList<>();
        List<LoopbackStream.Result> gso = new ArrayList<>();
        for (int round = 0; round < options.rounds; round++) {
            plain.add(LoopbackStream.run(transport, false, options.segmentSize, options.seconds));
            gso.add(LoopbackStream.run(transport, true, options.segmentSize, options.seconds));
        }
        System.out.println(LoopbackStream.Result.header());
        LoopbackStream.Result p = LoopbackStream.Result.median(plain);
        LoopbackStream.Result g = LoopbackStream.Result.median(gso);
        System.out.println(p.row("plain (1 datagram/write)"));
        System.out.println(g.row("GsoEncoder (64 KiB/write)"));
        System.out.println();
        System.out.printf(Locale.ROOT, "GsoEncoder sent %.1fx the bytes per second of plain writes and handed"
                + " the kernel %.1fx fewer send operations per MB (medians of %d rounds).%n",
                g.sentGbps() / Math.max(1e-9, p.sentGbps()),
                p.sendOpsPerMb() / Math.max(1e-9, g.sendOpsPerMb()), options.rounds);
        GsoCounters.Snapshot last = gso.get(gso.size() - 1).counters;
        if (last != null) {
            System.out.println("Last GsoEncoder run: " + last);
        }
        return Cli.OK;
    }
}
