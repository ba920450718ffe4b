package dev.nettyoffload.benchmarks.harness;

/**
 * The transfers the harness compares. Java paths run once per Netty transport; C paths once per network, as
 * the kernel's reference on this machine.
 */
enum BenchPath {
    /** Path 1: plain Netty, one {@code DatagramPacket} per datagram, many writes per flush. */
    PLAIN("1", "plain Netty", false, "plain", "plain", null),
    /** Path 2: {@code GsoEncoder} sender (USO), plain receiver. */
    GSO("2", "GsoEncoder -> plain", false, "gso", "plain", null),
    /** Path 3: {@code GsoEncoder} sender, UDP_GRO + {@code GroAggregator} receiver. */
    GSO_GRO("3", "GsoEncoder -> GroAggregator", false, "gso", "gro", null),
    /** C reference of path 1: sendmmsg, recvmmsg. */
    C_MMSG("C1", "C sendmmsg -> recvmmsg", true, "mmsg", "0", PLAIN),
    /** C reference of path 2: UDP_SEGMENT, recvmmsg. */
    C_GSO("C2", "C UDP_SEGMENT -> recvmmsg", true, "gso", "0", GSO),
    /** C reference of path 3: UDP_SEGMENT, UDP_GRO. */
    C_GSO_GRO("C3", "C UDP_SEGMENT -> UDP_GRO", true, "gso", "1", GSO_GRO);

    final String label;
    final String description;
    final boolean c;
    /** The sender's mode: {@code plain}/{@code gso} for Java, {@code mmsg}/{@code gso} for udpbench. */
    final String senderMode;
    /** The receiver's mode: {@code plain}/{@code gro} for Java, the {@code --gro} flag for udpbench. */
    final String receiverMode;
    /** The Java path this C path is the reference for. */
    final BenchPath javaCounterpart;

    BenchPath(String label, String description, boolean c, String senderMode, String receiverMode,
              BenchPath javaCounterpart) {
        this.label = label;
        this.description = description;
        this.c = c;
        this.senderMode = senderMode;
        this.receiverMode = receiverMode;
        this.javaCounterpart = javaCounterpart;
    }

    /** Parses {@code 1}, {@code 2}, {@code 3}, {@code c} (all C paths) or a label such as {@code C3}. */
    static BenchPath[] fromName(String name) {
        if (name.equalsIgnoreCase("c")) {
            return new BenchPath[] {C_MMSG, C_GSO, C_GSO_GRO};
        }
        for (BenchPath p : values()) {
            if (p.label.equalsIgnoreCase(name) || p.name().equalsIgnoreCase(name)) {
                return new BenchPath[] {p};
            }
        }
        throw new IllegalArgumentException("unknown path: " + name + " (expected 1, 2, 3, c, C1, C2 or C3)");
    }
}
