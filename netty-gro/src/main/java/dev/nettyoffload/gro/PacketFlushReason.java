package dev.nettyoffload.gro;

/** Why a {@link PacketGroAggregator} (or a {@link PacketCoalescer}) emitted the packets it held for a flow. */
public enum PacketFlushReason {
    /** End of a read burst ({@code channelReadComplete}), like the end of a NAPI poll. */
    READ_COMPLETE,
    /** The flush timer fired without a {@code channelReadComplete}. */
    TIMER,
    /** The flow table was full: the oldest flow made room for a new one. */
    TABLE_FULL,
    /** The held bytes would have exceeded {@link PacketGroConfig#maxHeldBytes()}: the oldest flows went first. */
    BYTE_LIMIT,
    /** The run reached 65535 bytes of IP datagram or the segment limit. */
    FULL,
    /** A segment shorter than the first ended the run (it was merged). */
    SHORT_SEGMENT,
    /** A merged TCP segment carried PSH or FIN. */
    PSH_FIN,
    /** The next packet of the flow could not be merged (flags, ACK, options, TTL, TOS, ID, sequence, size). */
    MISMATCH,
    /** A packet of the flow had to pass through on its own (pure ACK, SYN/RST/URG, bad checksum, options). */
    PASS_THROUGH,
    /** A message that is not a packet ({@code ByteBuf}) arrived; held packets go first to keep the order. */
    OTHER_MESSAGE,
    /** The channel closed or disconnected, or the handler was removed. */
    CLOSE
}
