package dev.nettyoffload.core.packet;

/**
 * How the IPv4 identification field changes from segment to segment, after Linux's
 * {@code SKB_GSO_TCP_FIXEDID}.
 */
public enum Ipv4IdMode {
    /** Segment {@code i} carries the original ID plus {@code i}, modulo 2^16 (the kernel's default). */
    INCREMENTING,
    /** Every segment carries the original ID unchanged (allowed for DF packets by RFC 6864). */
    FIXED
}
