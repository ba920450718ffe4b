package dev.nettyoffload.core.packet;

/**
 * What a packet buffer starts with: the IP header itself (a TUN device, a VXLAN payload) or an Ethernet
 * header (a TAP device, an AF_PACKET socket, a pcap file of link type {@code EN10MB}).
 */
public enum LinkType {
    /** The buffer starts with an IPv4 or IPv6 header; the version nibble tells which. */
    RAW_IP,
    /** The buffer starts with an Ethernet II header, optionally followed by one or two VLAN tags. */
    ETHERNET
}
