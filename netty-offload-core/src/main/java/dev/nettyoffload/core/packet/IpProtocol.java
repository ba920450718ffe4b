package dev.nettyoffload.core.packet;

/**
 * IP protocol / IPv6 next-header numbers used here, from the IANA "Assigned Internet Protocol Numbers".
 */
public final class IpProtocol {
    /** IPv6 Hop-by-Hop Options (RFC 8200). */
    public static final int HOP_BY_HOP = 0;
    /** IPv4 encapsulation (RFC 2003). */
    public static final int IPIP = 4;
    /** TCP (RFC 9293). */
    public static final int TCP = 6;
    /** UDP (RFC 768). */
    public static final int UDP = 17;
    /** IPv6 encapsulation (RFC 2473, RFC 4213). */
    public static final int IPV6 = 41;
    /** IPv6 Routing header (RFC 8200). */
    public static final int ROUTING = 43;
    /** IPv6 Fragment header (RFC 8200). */
    public static final int FRAGMENT = 44;
    /** GRE (RFC 2784). */
    public static final int GRE = 47;
    /** Encapsulating Security Payload (RFC 4303). */
    public static final int ESP = 50;
    /** Authentication Header (RFC 4302). */
    public static final int AH = 51;
    /** IPv6 No Next Header (RFC 8200). */
    public static final int NO_NEXT_HEADER = 59;
    /** IPv6 Destination Options (RFC 8200). */
    public static final int DESTINATION_OPTIONS = 60;

    private IpProtocol() {
    }
}
