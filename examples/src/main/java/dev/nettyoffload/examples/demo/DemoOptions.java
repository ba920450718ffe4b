package dev.nettyoffload.examples.demo;

import dev.nettyoffload.core.Transport;

/** Command line of {@link OffloadDemo}. */
final class DemoOptions {
    Transport transport = Transport.best();
    double seconds = 1.5;
    int rounds = 3;
    int segmentSize = 1400;

    static DemoOptions parse(String[] args) {
        DemoOptions o = new DemoOptions();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--help":
                case "-h":
                    System.out.println("usage: OffloadDemo [--transport epoll|io_uring|nio] [--seconds S]"
                            + " [--rounds N] [--segment-size BYTES]\n"
                            + "Prints this machine's offload capabilities, then streams 64 KiB writes over"
                            + " loopback with and without GsoEncoder.");
                    return null;
                case "--transport":
                    o.transport = Transport.fromName(value(args, ++i, a));
                    break;
                case "--seconds":
                    o.seconds = Double.parseDouble(value(args, ++i, a));
                    break;
                case "--rounds":
                    o.rounds = Integer.parseInt(value(args, ++i, a));
                    break;
                case "--segment-size":
                    o.segmentSize = Integer.parseInt(value(args, ++i, a));
                    break;
                default:
                    throw new IllegalArgumentException("unknown option " + a + " (try --help)");
            }
        }
        if (o.seconds <= 0 || o.seconds > 60 || o.rounds < 1 || o.rounds > 20
                || o.segmentSize < 1 || o.segmentSize > 65507) {
            throw new IllegalArgumentException("out of range: --seconds 0-60, --rounds 1-20, --segment-size 1-65507");
        }
        return o;
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }
}
