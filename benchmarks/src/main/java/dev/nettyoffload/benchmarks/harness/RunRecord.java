package dev.nettyoffload.benchmarks.harness;

/** One run of one configuration: what both sides measured, or why it failed. */
final class RunRecord {
    final Config config;
    final int round;
    final Side receiver;
    final Side sender;
    final String error;

    RunRecord(Config config, int round, Side receiver, Side sender, String error) {
        this.config = config;
        this.round = round;
        this.receiver = receiver;
        this.sender = sender;
        this.error = error;
    }

    boolean ok() {
        return error == null;
    }
}
