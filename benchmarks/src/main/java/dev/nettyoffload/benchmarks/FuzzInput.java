package dev.nettyoffload.benchmarks;

/** One input packet of a {@link PacketFuzz} iteration: its bytes and its flow, -1 for a mutated one. */
final class FuzzInput {
    final byte[] bytes;
    final int flow;

    FuzzInput(byte[] bytes, int flow) {
        this.bytes = bytes;
        this.flow = flow;
    }
}
