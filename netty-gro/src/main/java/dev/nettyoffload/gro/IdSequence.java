package dev.nettyoffload.gro;

/**
 * How the IPv4 IDs of a run follow each other (inner and outer header alike), as {@link PacketRules#idSequence}
 * finds it for the next packet. Decided at the second packet of a run.
 */
enum IdSequence {
    /** One packet held, or no IPv4 header in the flow: nothing to decide. */
    UNDECIDED,
    /** Each ID is the previous one plus one. */
    INCREMENTING,
    /** Every ID equals the first, on atomic datagrams only (DF set, RFC 6864). */
    FIXED,
    /** The packet's ID continues neither way: it cannot join. */
    BROKEN
}
