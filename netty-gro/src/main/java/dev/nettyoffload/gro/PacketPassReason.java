package dev.nettyoffload.gro;

/** Why {@link PacketGroAggregator} forwarded a packet unchanged instead of holding it for merging. */
public enum PacketPassReason {
    /** The headers could not be parsed: truncated, inconsistent lengths, not TCP/UDP, fragments, AH/ESP. */
    UNPARSEABLE,
    /** An IPv4 header (inner or outer) carries options. */
    IP_OPTIONS,
    /** An IPv6 jumbogram (payload length 0 with a jumbo payload option). */
    JUMBOGRAM,
    /** An IPv4 header, TCP, UDP or outer UDP checksum did not verify. */
    BAD_CHECKSUM,
    /** A UDP datagram without checksum (zero), which the kernel never merges. */
    UDP_ZERO_CHECKSUM,
    /** No L4 payload: a pure ACK or an empty datagram. */
    NO_PAYLOAD,
    /** TCP with SYN, RST or URG, which are never merged. */
    TCP_FLAGS,
    /** A TCP segment with PSH or FIN that could not join a held run: it would be flushed at once. */
    PSH_FIN,
    /**
     * A packet larger than {@link PacketGroConfig#maxHeldBytes()} on its own (an Ethernet frame around a
     * 65535-byte datagram with a bound of 65536): holding it would break the bound.
     */
    LARGER_THAN_HELD_BYTES
}
