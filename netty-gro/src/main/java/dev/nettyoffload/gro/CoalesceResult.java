package dev.nettyoffload.gro;

/** What {@link PacketRules#canCoalesce} decided for a packet of a held flow (W's {@code canCoalesce} result). */
enum CoalesceResult {
    /** The packet may join the run. */
    COALESCE,
    /** The packet differs from the run in a field that must match, or does not continue it. */
    MISMATCH,
    /** The run cannot grow: segment, component, 65535-byte or held-bytes limit. */
    FULL
}
