package dev.nettyoffload.core;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * Size limits of UDP datagrams and of segmented (UDP_SEGMENT) sends, from the Linux kernel and the RFCs.
 */
public final class UdpLimits {
    /** Largest UDP payload over IPv4: 65535 - 20 (IPv4 header) - 8 (UDP header). */
    public static final int MAX_IPV4_PAYLOAD = 65507;
    /** Largest UDP payload over IPv6 without a jumbogram: 65535 - 8 (UDP header). */
    public static final int MAX_IPV6_PAYLOAD = 65527;
    /** UDP_MAX_SEGMENTS before Linux 6.9 (include/linux/udp.h: {@code 1 << 6}). */
    public static final int LEGACY_MAX_SEGMENTS = 64;
    /** UDP_MAX_SEGMENTS since Linux 6.9 (include/linux/udp.h: {@code 1 << 7}). */
    public static final int MODERN_MAX_SEGMENTS = 128;
    /** UDP header length in bytes. */
    public static final int UDP_HEADER_LENGTH = 8;
    /** IPv4 header length without options. */
    public static final int IPV4_HEADER_LENGTH = 20;
    /** IPv6 fixed header length. */
    public static final int IPV6_HEADER_LENGTH = 40;
    /** Ethernet header length: what a device (veth, NIC, also loopback) adds in front of the IP packet. */
    public static final int ETHERNET_HEADER_LENGTH = 14;
    /**
     * A device's default {@code gso_max_size} ({@code GSO_LEGACY_MAX_SIZE}, include/linux/netdevice.h). The kernel
     * segments a GSO packet in software before the device when the frame is not smaller than this
     * ({@code gso_features_check}), so a UDP_SEGMENT send must stay below it to reach a USO device or a
     * UDP_GRO receiver whole.
     */
    public static final int DEFAULT_GSO_MAX_SIZE = 65536;

    private UdpLimits() {
    }

    /** The largest UDP payload one datagram can carry to {@code recipient}'s address family. */
    public static int maxPayload(InetSocketAddress recipient) {
        return maxPayload(recipient.getAddress());
    }

    /** The largest UDP payload one datagram can carry to {@code address}'s family. */
    public static int maxPayload(InetAddress address) {
        // Java already turns IPv4-mapped IPv6 addresses into Inet4Address.
        return address instanceof Inet6Address ? MAX_IPV6_PAYLOAD : MAX_IPV4_PAYLOAD;
    }

    /**
     * The largest payload of one UDP_SEGMENT send to {@code address}'s family that a device passes on whole:
     * 65493 bytes over IPv4 and 65473 over IPv6, so that Ethernet, IP and UDP headers plus payload stay below
     * {@value #DEFAULT_GSO_MAX_SIZE}. A send up to {@link #maxPayload} bytes is accepted too, but then leaves the
     * host as separate datagrams, cut by the kernel's software GSO.
     */
    public static int maxSegmentedPayload(InetAddress address) {
        int ipHeader = address instanceof Inet6Address ? IPV6_HEADER_LENGTH : IPV4_HEADER_LENGTH;
        return DEFAULT_GSO_MAX_SIZE - 1 - ETHERNET_HEADER_LENGTH - ipHeader - UDP_HEADER_LENGTH;
    }

    /** The largest UDP payload for one segment on a path of {@code mtu} bytes to {@code address}'s family. */
    public static int maxSegmentSizeForMtu(int mtu, InetAddress address) {
        int ipHeader = address instanceof Inet6Address ? IPV6_HEADER_LENGTH : IPV4_HEADER_LENGTH;
        return mtu - ipHeader - UDP_HEADER_LENGTH;
    }
}
