package dev.nettyoffload.core.packet;

/**
 * The transport a large packet is segmented for, after Linux's {@code SKB_GSO_TCPV4}, {@code SKB_GSO_TCPV6}
 * and {@code SKB_GSO_UDP_L4}; for a tunnelled packet it names the inner (innermost) transport.
 */
public enum GsoType {
    /** TCP over IPv4: segments get consecutive sequence numbers (TSO). */
    TCPV4,
    /** TCP over IPv6: segments get consecutive sequence numbers (TSO). */
    TCPV6,
    /** UDP over IPv4 or IPv6: each segment is one datagram of {@code segmentSize} payload bytes (USO). */
    UDP_L4
}
