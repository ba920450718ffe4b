package dev.nettyoffload.core.packet;

/**
 * The one level of encapsulation in front of the segmented transport, after Linux's
 * {@code SKB_GSO_UDP_TUNNEL}, {@code SKB_GSO_IPXIP4}/{@code SKB_GSO_IPXIP6} and {@code SKB_GSO_GRE}.
 * Whether an outer checksum is computed follows the headers: a VXLAN outer UDP checksum of zero stays zero,
 * a GRE header with the C bit gets its checksum.
 */
public enum TunnelType {
    /** No tunnel: the IP header in front of TCP/UDP is the only one. */
    NONE,
    /** VXLAN (RFC 7348): outer IP, UDP, 8-byte VXLAN header, inner Ethernet, inner IP. */
    VXLAN,
    /** IP in IP: IPIP (4 in 4), SIT (6 in 4), IPv6-in-IPv6 and 4 in 6 (RFC 2003, RFC 4213, RFC 2473). */
    IPIP,
    /** GRE (RFC 2784, RFC 2890) without sequence numbers, carrying IPv4, IPv6 or Ethernet (TEB). */
    GRE
}
