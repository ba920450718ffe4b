package dev.nettyoffload.examples.demo;

import dev.nettyoffload.core.OffloadCapabilities;
import dev.nettyoffload.core.linux.OffloadReport;
import dev.nettyoffload.core.Transport;
import dev.nettyoffload.examples.Cli;
import dev.nettyoffload.gro.GroAggregator;
import dev.nettyoffload.gso.GsoEncoder;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The project's main job: prints what this machine offers for offload, then moves the same stream of
 * 64 KiB application writes over loopback without offload (one datagram per write call), with
 * {@link GsoEncoder}, and with {@link GsoEncoder} to a {@link GroAggregator} receiver, and prints side by side
 * what each delivered: payload received per second, datagrams sent, received and lost, and the operations each
 * side needed. Bytes sent but lost count for nothing.
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
        Map<LoopbackStream.Mode, List<LoopbackStream.Result>> runs = new EnumMap<>(LoopbackStream.Mode.class);
        for (int round = 0; round < options.rounds; round++) {
            for (LoopbackStream.Mode mode : LoopbackStream.Mode.values()) {
                runs.computeIfAbsent(mode, m -> new ArrayList<>())
                        .add(LoopbackStream.run(transport, mode, options.segmentSize, options.seconds));
            }
        }
        Map<LoopbackStream.Mode, ModeSummary> summaries = new EnumMap<>(LoopbackStream.Mode.class);
        System.out.println(ModeSummary.header());
        for (LoopbackStream.Mode mode : LoopbackStream.Mode.values()) {
            ModeSummary summary = new ModeSummary(runs.get(mode));
            summaries.put(mode, summary);
            System.out.println(summary.row(mode.label));
        }
        System.out.println();
        ModeSummary plain = summaries.get(LoopbackStream.Mode.PLAIN);
        ModeSummary gso = summaries.get(LoopbackStream.Mode.GSO);
        ModeSummary gsoGro = summaries.get(LoopbackStream.Mode.GSO_GRO);
        System.out.printf(Locale.ROOT, "Delivered payload per second (what the receiver got; medians of %d rounds):"
                + " %s %.1fx, %s %.1fx the rate of %s.%n", options.rounds,
                LoopbackStream.Mode.GSO_GRO.label, gsoGro.deliveredRatio(plain),
                LoopbackStream.Mode.GSO.label, gso.deliveredRatio(plain), LoopbackStream.Mode.PLAIN.label);
        System.out.printf(Locale.ROOT, "Lost datagrams: %.1f%%, %.1f%% and %.1f%% in the order above.%s%n",
                plain.lostPercent(), gso.lostPercent(), gsoGro.lostPercent(),
                Math.max(plain.lostPercent(), Math.max(gso.lostPercent(), gsoGro.lostPercent())) >= 1
                        ? " Loopback drops a datagram only when the receiving socket's buffer is full: UDP has no"
                        + " flow control, and a sender that writes faster than its receiver reads loses the"
                        + " difference. Only received bytes count as delivered."
                        : "");
        System.out.printf(Locale.ROOT, "Send operations per MB: %.1fx fewer with GsoEncoder. Messages the receiving"
                + " application handled per MB: %.1fx fewer with GroAggregator.%n",
                plain.sendOpsPerMb() / Math.max(1e-9, gso.sendOpsPerMb()),
                gso.receivedMessagesPerMb() / Math.max(1e-9, gsoGro.receivedMessagesPerMb()));
        List<LoopbackStream.Result> last = runs.get(LoopbackStream.Mode.GSO_GRO);
        LoopbackStream.Result lastRun = last.get(last.size() - 1);
        System.out.println("Last GsoEncoder -> GroAggregator run: " + lastRun.gsoCounters);
        System.out.println("  " + lastRun.groCounters);
        return Cli.OK;
    }
}
