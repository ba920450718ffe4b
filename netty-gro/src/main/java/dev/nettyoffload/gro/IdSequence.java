package dev.nettyoffload.gro;

/**
 * How the IPv4 IDs of one IPv4 header follow each other along a run, as {@link PacketRules#idSequence} finds it
 * for the next packet. Decided at the second packet of a run, for the inner and the outer header of a tunnel
 * apart (the kernel's two {@code ip_fixedid} bits).
 */
enum IdSequence {
    /** One packet held, or no such IPv4 header in the flow: nothing to decide. */
    UNDECIDED,
    /** Each ID is the previous one plus one. */
    INCREMENTING,
    /** Every ID equals the first, whether DF is set or not (the kernel no longer asks for DF). */
    FIXED,
    /** The packet's ID continues neither way: it cannot join. */
    BROKEN
}
