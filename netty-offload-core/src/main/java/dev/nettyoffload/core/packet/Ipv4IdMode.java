package dev.nettyoffload.core.packet;

/**
 * How the IPv4 identification field of one IPv4 header changes from segment to segment, after Linux's
 * {@code SKB_GSO_TCP_FIXEDID} (and {@code SKB_GSO_TCP_FIXEDID_INNER} for the inner header of a tunnel).
 */
public enum Ipv4IdMode {
    /** Segment {@code i} carries the original ID plus {@code i}, modulo 2^16 (the kernel's default). */
    INCREMENTING,
    /**
     * Every segment carries the original ID unchanged. RFC 6864 allows it for atomic (DF) datagrams; Linux GRO
     * merges and GSO restores such runs whether DF is set or not, since the merged packet is cut back into the
     * same datagrams before any fragmentation.
     */
    FIXED
}
