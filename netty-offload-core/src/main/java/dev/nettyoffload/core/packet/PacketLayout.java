package dev.nettyoffload.core.packet;

import io.netty.buffer.ByteBuf;

/**
 * Where the headers of one packet are: outer and inner L2/L3/L4 offsets, tunnel, lengths and the IPv6 details
 * that segmentation must know (final destination for the pseudo-header, a jumbo payload option to strip).
 * <p>
 * A mutable, reusable object: {@link #parse} fills it in place, so a segmenter or aggregator can keep one per
 * event loop and parse without allocating. All offsets are relative to the first byte of the packet (the
 * buffer's reader index when parsed); {@link #ABSENT} marks a header that is not there. Parsing validates what
 * segmentation relies on and throws {@link PacketOffloadException} naming the first problem.
 * <p>
 * Why one file of some 600 lines: the parser is the only writer of the twenty offsets and lengths the accessors
 * below return, and each step (tags, tunnel, IP, the IPv6 extension-header walk, L4) fills several of them at
 * once and reads what the previous step left (the jumbo option decides the UDP length check, the tunnel where
 * the inner header starts). Moving a step into a helper class would mean either returning several values at
 * once, which allocates on a per-packet path, or letting the helper write this object's fields, which spreads
 * who sets an offset across files. About 200 of the lines are the fields, their reset and the documented
 * accessors of the public API.
 */
public final class PacketLayout {
    /** Offset value of a header that is not present. */
    public static final int ABSENT = -1;

    private LinkType linkType;
    private TunnelType tunnelType;
    private int length;
    private int outerL3;
    private int outerL3Version;
    private int outerL3HeaderLength;
    private int outerPseudoDestination;
    private int tunnelL4;
    private int tunnelHeaderLength;
    private int innerL2;
    private int l3;
    private int l3Version;
    private int l3HeaderLength;
    private int pseudoDestination;
    private int l4;
    private int l4Protocol;
    private int l4HeaderLength;
    private int hopByHop;
    private int jumboOption;
    private int strippedLength;

    // Results of the last parseIp call, kept in fields so that parsing allocates nothing.
    private int ipVersion;
    private int ipHeaderLength;
    private int ipProtocol;
    private int ipPseudoDestination;

    /** Creates an empty layout; call {@link #parse} before reading it. */
    public PacketLayout() {
        clear();
    }

    private void clear() {
        linkType = null;
        tunnelType = TunnelType.NONE;
        length = 0;
        outerL3 = ABSENT;
        outerL3Version = 0;
        outerL3HeaderLength = 0;
        outerPseudoDestination = ABSENT;
        tunnelL4 = ABSENT;
        tunnelHeaderLength = 0;
        innerL2 = ABSENT;
        l3 = ABSENT;
        l3Version = 0;
        l3HeaderLength = 0;
        pseudoDestination = ABSENT;
        l4 = ABSENT;
        l4Protocol = 0;
        l4HeaderLength = 0;
        hopByHop = ABSENT;
        jumboOption = ABSENT;
        strippedLength = 0;
    }

    /**
     * Parses the readable bytes of {@code buf} as one packet of {@code linkType} whose innermost transport is TCP
     * or UDP behind {@code tunnelType}, checks it against {@code gsoType} (null to skip that check) and returns
     * this layout.
     *
     * @throws PacketOffloadException if the headers are truncated or inconsistent, a length field disagrees with
     *         the buffer, the packet is a fragment or carries AH/ESP, or the headers contradict the types
     */
    public PacketLayout parse(ByteBuf buf, LinkType linkType, TunnelType tunnelType, GsoType gsoType) {
        if (linkType == null) {
            throw new IllegalArgumentException("linkType: null");
        }
        if (tunnelType == null) {
            throw new IllegalArgumentException("tunnelType: null");
        }
        clear();
        this.linkType = linkType;
        this.tunnelType = tunnelType;
        final int base = buf.readerIndex();
        final int end = buf.readableBytes();
        this.length = end;
        int off = 0;
        int version;
        if (linkType == LinkType.ETHERNET) {
            int etherType = etherTypeAfterTags(buf, base, 0, end, "outer");
            off = lastL2End;
            version = versionOfEtherType(etherType, "outer Ethernet");
        } else {
            require(buf, base, 0, 1, end, "IP header");
            version = buf.getUnsignedByte(base) >>> 4;
        }
        parseIp(buf, base, off, end, version, tunnelType == TunnelType.NONE ? "" : "outer ");
        if (tunnelType == TunnelType.NONE) {
            setInnerL3(off);
        } else {
            if (jumboOption != ABSENT) {
                throw new PacketOffloadException("IPv6 jumbogram in the outer header of a " + tunnelType
                        + " tunnel is not supported (only without a tunnel)");
            }
            outerL3 = off;
            outerL3Version = ipVersion;
            outerL3HeaderLength = ipHeaderLength;
            outerPseudoDestination = ipPseudoDestination;
            int next = off + ipHeaderLength;
            int innerVersion = parseTunnel(buf, base, next, end, ipProtocol);
            int innerOff = innerL2 == ABSENT ? next + tunnelHeaderLength : lastL2End;
            parseIp(buf, base, innerOff, end, innerVersion, "inner ");
            if (jumboOption != ABSENT) {
                // Linux has no BIG TCP across tunnels either: its GRO inserts the jumbo option only for plain IPv6.
                throw new PacketOffloadException("IPv6 jumbogram inside a " + tunnelType + " tunnel is not supported "
                        + "(only without a tunnel)");
            }
            setInnerL3(innerOff);
        }
        parseL4(buf, base, end);
        if (gsoType != null) {
            checkGsoType(gsoType);
        }
        return this;
    }

    private void setInnerL3(int off) {
        l3 = off;
        l3Version = ipVersion;
        l3HeaderLength = ipHeaderLength;
        pseudoDestination = ipPseudoDestination;
        l4 = off + ipHeaderLength;
        l4Protocol = ipProtocol;
    }

    private void checkGsoType(GsoType gsoType) {
        boolean ok;
        switch (gsoType) {
            case TCPV4:
                ok = l4Protocol == IpProtocol.TCP && l3Version == 4;
                break;
            case TCPV6:
                ok = l4Protocol == IpProtocol.TCP && l3Version == 6;
                break;
            default:
                ok = l4Protocol == IpProtocol.UDP;
                break;
        }
        if (!ok) {
            throw new PacketOffloadException("gsoType " + gsoType + " contradicts the headers: "
                    + (tunnelType == TunnelType.NONE ? "" : "inner ") + "IPv" + l3Version + " carrying "
                    + protocolName(l4Protocol));
        }
    }

    private static String protocolName(int protocol) {
        switch (protocol) {
            case IpProtocol.TCP: return "TCP";
            case IpProtocol.UDP: return "UDP";
            default: return "protocol " + protocol;
        }
    }

    private int lastL2End;

    /** Walks an Ethernet header and up to two VLAN tags at {@code off}; sets lastL2End and returns the EtherType. */
    private int etherTypeAfterTags(ByteBuf buf, int base, int off, int end, String which) {
        require(buf, base, off, EthernetHeader.LENGTH, end, which + " Ethernet header");
        int typeAt = off + EthernetHeader.ETHERTYPE_OFFSET;
        int etherType = buf.getUnsignedShort(base + typeAt);
        int tags = 0;
        while (etherType == EthernetHeader.ETHERTYPE_VLAN || etherType == EthernetHeader.ETHERTYPE_QINQ) {
            if (++tags > EthernetHeader.MAX_VLAN_TAGS) {
                throw new PacketOffloadException(which + " Ethernet header has more than "
                        + EthernetHeader.MAX_VLAN_TAGS + " VLAN tags");
            }
            typeAt += EthernetHeader.VLAN_TAG_LENGTH;
            require(buf, base, typeAt, 2, end, which + " VLAN tag");
            etherType = buf.getUnsignedShort(base + typeAt);
        }
        lastL2End = typeAt + 2;
        return etherType;
    }

    private static int versionOfEtherType(int etherType, String where) {
        if (etherType == EthernetHeader.ETHERTYPE_IPV4) {
            return 4;
        }
        if (etherType == EthernetHeader.ETHERTYPE_IPV6) {
            return 6;
        }
        throw new PacketOffloadException(where + " EtherType 0x" + Integer.toHexString(etherType)
                + " is neither IPv4 (0x0800) nor IPv6 (0x86dd)");
    }

    /** Parses the tunnel header at {@code off} after an outer IP header with {@code protocol}; returns the inner IP version. */
    private int parseTunnel(ByteBuf buf, int base, int off, int end, int protocol) {
        switch (tunnelType) {
            case VXLAN: {
                if (protocol != IpProtocol.UDP) {
                    throw new PacketOffloadException("tunnelType VXLAN contradicts the headers: outer IP carries "
                            + protocolName(protocol) + ", not UDP");
                }
                require(buf, base, off, UdpHeader.LENGTH + VxlanHeader.LENGTH, end, "outer UDP and VXLAN headers");
                int udpLength = buf.getUnsignedShort(base + off + UdpHeader.LENGTH_OFFSET);
                if (udpLength != end - off) {
                    throw new PacketOffloadException("outer UDP length " + udpLength + " disagrees with the buffer: "
                            + (end - off) + " bytes from the outer UDP header");
                }
                int flags = buf.getUnsignedByte(base + off + UdpHeader.LENGTH);
                if ((flags & VxlanHeader.FLAG_I) == 0) {
                    throw new PacketOffloadException("VXLAN flags 0x" + Integer.toHexString(flags)
                            + " lack the I flag (0x08) required by RFC 7348");
                }
                tunnelL4 = off;
                tunnelHeaderLength = UdpHeader.LENGTH + VxlanHeader.LENGTH;
                innerL2 = off + tunnelHeaderLength;
                return versionOfEtherType(etherTypeAfterTags(buf, base, innerL2, end, "inner"), "inner Ethernet");
            }
            case IPIP:
                if (protocol == IpProtocol.IPIP) {
                    return 4;
                }
                if (protocol == IpProtocol.IPV6) {
                    return 6;
                }
                throw new PacketOffloadException("tunnelType IPIP contradicts the headers: outer IP carries "
                        + protocolName(protocol) + ", not IPv4 (4) or IPv6 (41)");
            case GRE: {
                if (protocol != IpProtocol.GRE) {
                    throw new PacketOffloadException("tunnelType GRE contradicts the headers: outer IP carries "
                            + protocolName(protocol) + ", not GRE (47)");
                }
                require(buf, base, off, GreHeader.BASE_LENGTH, end, "GRE header");
                int flags = buf.getUnsignedShort(base + off);
                if ((flags & GreHeader.VERSION_MASK) != 0) {
                    throw new PacketOffloadException("GRE version " + (flags & GreHeader.VERSION_MASK)
                            + " is not supported (only 0)");
                }
                if ((flags & GreHeader.FLAG_R) != 0) {
                    throw new PacketOffloadException("GRE routing (R flag) is not supported");
                }
                if ((flags & GreHeader.FLAG_S) != 0) {
                    // Linux turns GSO off on GRE devices that send sequence numbers: each segment would need its own.
                    throw new PacketOffloadException("GRE with sequence numbers (S flag) cannot be segmented");
                }
                int greLength = GreHeader.BASE_LENGTH + ((flags & GreHeader.FLAG_C) != 0 ? 4 : 0)
                        + ((flags & GreHeader.FLAG_K) != 0 ? 4 : 0);
                require(buf, base, off, greLength, end, "GRE header");
                tunnelL4 = off;
                tunnelHeaderLength = greLength;
                int type = buf.getUnsignedShort(base + off + GreHeader.PROTOCOL_OFFSET);
                if (type == EthernetHeader.ETHERTYPE_TEB) {
                    innerL2 = off + greLength;
                    return versionOfEtherType(etherTypeAfterTags(buf, base, innerL2, end, "inner"),
                            "inner Ethernet");
                }
                return versionOfEtherType(type, "GRE protocol type");
            }
            default:
                throw new IllegalStateException("unexpected tunnel " + tunnelType);
        }
    }

    /** Parses an IP header (with IPv6 extension headers) at {@code off}; results go to the ip* fields. */
    private void parseIp(ByteBuf buf, int base, int off, int end, int version, String which) {
        require(buf, base, off, 1, end, which + "IP header");
        int actualVersion = buf.getUnsignedByte(base + off) >>> 4;
        if (actualVersion != 4 && actualVersion != 6) {
            throw new PacketOffloadException(which + "IP version " + actualVersion + " is neither 4 nor 6");
        }
        if (actualVersion != version) {
            throw new PacketOffloadException(which + "IP version " + actualVersion + " where IPv" + version
                    + " was expected");
        }
        if (version == 4) {
            parseIpv4(buf, base, off, end, which);
        } else {
            parseIpv6(buf, base, off, end, which);
        }
    }

    private void parseIpv4(ByteBuf buf, int base, int off, int end, String which) {
        require(buf, base, off, Ipv4Header.MIN_LENGTH, end, which + "IPv4 header");
        int ihl = (buf.getUnsignedByte(base + off) & 0x0F) * 4;
        if (ihl < Ipv4Header.MIN_LENGTH) {
            throw new PacketOffloadException(which + "IPv4 header length " + ihl + " is below 20");
        }
        require(buf, base, off, ihl, end, which + "IPv4 header with options");
        int total = buf.getUnsignedShort(base + off + Ipv4Header.TOTAL_LENGTH_OFFSET);
        if (total != end - off) {
            throw new PacketOffloadException(which + "IPv4 total length " + total + " disagrees with the buffer: "
                    + (end - off) + " bytes from the IPv4 header");
        }
        int frag = buf.getUnsignedShort(base + off + Ipv4Header.FRAGMENT_OFFSET);
        if ((frag & (Ipv4Header.MORE_FRAGMENTS | Ipv4Header.FRAGMENT_OFFSET_MASK)) != 0) {
            throw new PacketOffloadException(which + "IPv4 fragment (flags/offset 0x" + Integer.toHexString(frag)
                    + ") cannot be segmented");
        }
        ipVersion = 4;
        ipHeaderLength = ihl;
        ipProtocol = buf.getUnsignedByte(base + off + Ipv4Header.PROTOCOL_OFFSET);
        ipPseudoDestination = off + Ipv4Header.DESTINATION_OFFSET;
    }

    private void parseIpv6(ByteBuf buf, int base, int off, int end, String which) {
        require(buf, base, off, Ipv6Header.LENGTH, end, which + "IPv6 header");
        int payloadLength = buf.getUnsignedShort(base + off + Ipv6Header.PAYLOAD_LENGTH_OFFSET);
        int actualPayload = end - off - Ipv6Header.LENGTH;
        if (payloadLength != actualPayload && payloadLength != 0) {
            throw new PacketOffloadException(which + "IPv6 payload length " + payloadLength
                    + " disagrees with the buffer: " + actualPayload + " bytes after the IPv6 header");
        }
        int next = buf.getUnsignedByte(base + off + Ipv6Header.NEXT_HEADER_OFFSET);
        int at = off + Ipv6Header.LENGTH;
        int pseudoDst = off + Ipv6Header.DESTINATION_OFFSET;
        long jumboLength = -1;
        boolean first = true;
        for (;;) {
            switch (next) {
                case IpProtocol.HOP_BY_HOP:
                    if (!first) {
                        throw new PacketOffloadException(which + "IPv6 Hop-by-Hop header not directly after the "
                                + "IPv6 header (RFC 8200 section 4.3)");
                    }
                    // fall through
                case IpProtocol.DESTINATION_OPTIONS:
                case IpProtocol.ROUTING: {
                    require(buf, base, at, 8, end, which + "IPv6 extension header " + next);
                    int extLength = (buf.getUnsignedByte(base + at + 1) + 1) * 8;
                    require(buf, base, at, extLength, end, which + "IPv6 extension header " + next);
                    if (next == IpProtocol.HOP_BY_HOP) {
                        jumboLength = scanHopByHop(buf, base, at, extLength, which);
                    } else if (next == IpProtocol.ROUTING) {
                        pseudoDst = routingFinalDestination(buf, base, at, extLength, pseudoDst, which);
                    }
                    next = buf.getUnsignedByte(base + at);
                    at += extLength;
                    first = false;
                    break;
                }
                case IpProtocol.FRAGMENT:
                    throw new PacketOffloadException(which + "IPv6 Fragment header: fragments cannot be segmented");
                case IpProtocol.AH:
                    throw new PacketOffloadException(which + "IPv6 Authentication Header (AH) is not supported");
                case IpProtocol.ESP:
                    throw new PacketOffloadException(which + "IPv6 ESP header is not supported");
                case IpProtocol.NO_NEXT_HEADER:
                    throw new PacketOffloadException(which + "IPv6 has no next header (59): nothing to segment");
                default:
                    if (payloadLength == 0) {
                        if (jumboLength < 0) {
                            throw new PacketOffloadException(which + "IPv6 payload length 0 without a jumbo payload "
                                    + "option; the buffer holds " + actualPayload + " bytes after the IPv6 header");
                        }
                        if (jumboLength != actualPayload) {
                            throw new PacketOffloadException(which + "IPv6 jumbo payload length " + jumboLength
                                    + " disagrees with the buffer: " + actualPayload + " bytes after the IPv6 header");
                        }
                    } else if (jumboLength >= 0) {
                        throw new PacketOffloadException(which + "IPv6 jumbo payload option with a non-zero payload "
                                + "length " + payloadLength + " (RFC 2675 requires 0)");
                    }
                    ipVersion = 6;
                    ipHeaderLength = at - off;
                    ipProtocol = next;
                    ipPseudoDestination = pseudoDst;
                    return;
            }
        }
    }

    /** Scans Hop-by-Hop options for a jumbo payload option; returns its length or -1, and records where it is. */
    private long scanHopByHop(ByteBuf buf, int base, int at, int extLength, String which) {
        int i = at + 2;
        int stop = at + extLength;
        long jumbo = -1;
        boolean onlyPadding = true;
        while (i < stop) {
            int type = buf.getUnsignedByte(base + i);
            if (type == Ipv6Header.OPTION_PAD1) {
                i++;
                continue;
            }
            if (i + 2 > stop) {
                throw new PacketOffloadException(which + "IPv6 Hop-by-Hop option at offset " + i + " is truncated");
            }
            int dataLength = buf.getUnsignedByte(base + i + 1);
            if (i + 2 + dataLength > stop) {
                throw new PacketOffloadException(which + "IPv6 Hop-by-Hop option " + type + " of " + dataLength
                        + " bytes overruns its header");
            }
            if (type == Ipv6Header.OPTION_JUMBO) {
                if (dataLength != Ipv6Header.OPTION_JUMBO_DATA_LENGTH) {
                    throw new PacketOffloadException(which + "IPv6 jumbo payload option data length " + dataLength
                            + " (RFC 2675 requires 4)");
                }
                jumbo = buf.getUnsignedInt(base + i + 2);
                jumboOption = i;
            } else if (type != Ipv6Header.OPTION_PADN) {
                onlyPadding = false;
            }
            i += 2 + dataLength;
        }
        if (jumbo >= 0) {
            hopByHop = at;
            // Like Linux BIG TCP (ipv6_hopopt_jumbo_remove): a Hop-by-Hop header that only carried the jumbo
            // option disappears from the segments; otherwise the option becomes padding of the same size.
            strippedLength = onlyPadding ? extLength : 0;
        }
        return jumbo;
    }

    private static int routingFinalDestination(ByteBuf buf, int base, int at, int extLength, int current,
                                               String which) {
        int type = buf.getUnsignedByte(base + at + 2);
        int segmentsLeft = buf.getUnsignedByte(base + at + 3);
        if (segmentsLeft == 0) {
            return current;
        }
        switch (type) {
            case Ipv6Header.ROUTING_TYPE_0:
            case Ipv6Header.ROUTING_TYPE_2:
            case Ipv6Header.ROUTING_TYPE_SRH:
                if (extLength < 8 + Ipv6Header.ADDRESS_LENGTH) {
                    throw new PacketOffloadException(which + "IPv6 routing header type " + type + " of " + extLength
                            + " bytes holds no address");
                }
                return type == Ipv6Header.ROUTING_TYPE_0 ? at + extLength - Ipv6Header.ADDRESS_LENGTH : at + 8;
            default:
                throw new PacketOffloadException(which + "IPv6 routing header type " + type + " with "
                        + segmentsLeft + " segments left: unknown final destination for the pseudo-header");
        }
    }

    private void parseL4(ByteBuf buf, int base, int end) {
        if (l4Protocol == IpProtocol.TCP) {
            require(buf, base, l4, TcpHeader.MIN_LENGTH, end, "TCP header");
            int doff = (buf.getUnsignedByte(base + l4 + TcpHeader.DATA_OFFSET_OFFSET) >>> 4) * 4;
            if (doff < TcpHeader.MIN_LENGTH) {
                throw new PacketOffloadException("TCP data offset " + doff + " is below 20");
            }
            require(buf, base, l4, doff, end, "TCP header with options");
            l4HeaderLength = doff;
        } else if (l4Protocol == IpProtocol.UDP) {
            require(buf, base, l4, UdpHeader.LENGTH, end, "UDP header");
            int udpLength = buf.getUnsignedShort(base + l4 + UdpHeader.LENGTH_OFFSET);
            int actual = end - l4;
            boolean jumbo = udpLength == 0 && jumboOption != ABSENT && actual > Ipv6Header.MAX_PAYLOAD_LENGTH;
            if (udpLength != actual && !jumbo) {
                throw new PacketOffloadException("UDP length " + udpLength + " disagrees with the buffer: " + actual
                        + " bytes from the UDP header");
            }
            l4HeaderLength = UdpHeader.LENGTH;
        } else {
            throw new PacketOffloadException((tunnelType == TunnelType.NONE ? "" : "inner ") + "IPv" + ipVersion
                    + " carries " + protocolName(l4Protocol) + ", not TCP or UDP"
                    + (tunnelType == TunnelType.NONE ? " (tunnelType is NONE)" : ""));
        }
    }

    private static void require(ByteBuf buf, int base, int off, int need, int end, String what) {
        if (off + need > end) {
            throw new PacketOffloadException("truncated " + what + ": needs " + need + " bytes at offset " + off
                    + ", the packet has " + end);
        }
    }

    /** The link type the packet was parsed with. */
    public LinkType linkType() {
        return linkType;
    }

    /** The tunnel the packet was parsed with. */
    public TunnelType tunnelType() {
        return tunnelType;
    }

    /** Length of the whole packet in bytes. */
    public int length() {
        return length;
    }

    /** Offset of the outer IP header of a tunnel, or {@link #ABSENT}. */
    public int outerL3() {
        return outerL3;
    }

    /** IP version (4 or 6) of the outer header of a tunnel, or 0. */
    public int outerL3Version() {
        return outerL3Version;
    }

    /** Length of the outer IP header with options and extension headers, or 0. */
    public int outerL3HeaderLength() {
        return outerL3HeaderLength;
    }

    /** Offset of the outer IPv4 destination or IPv6 final destination used in the outer pseudo-header. */
    public int outerPseudoDestination() {
        return outerPseudoDestination;
    }

    /** Offset of the outer UDP header (VXLAN) or the GRE header, or {@link #ABSENT}. */
    public int tunnelL4() {
        return tunnelL4;
    }

    /** Length of UDP + VXLAN or of the GRE header, or 0. */
    public int tunnelHeaderLength() {
        return tunnelHeaderLength;
    }

    /** Offset of the inner Ethernet header (VXLAN, GRE TEB), or {@link #ABSENT}. */
    public int innerL2() {
        return innerL2;
    }

    /** Offset of the IP header in front of TCP/UDP (the inner one in a tunnel). */
    public int l3() {
        return l3;
    }

    /** Version (4 or 6) of the IP header in front of TCP/UDP. */
    public int l3Version() {
        return l3Version;
    }

    /** Length of that IP header with options and extension headers. */
    public int l3HeaderLength() {
        return l3HeaderLength;
    }

    /** Offset of the IPv4 destination or IPv6 final destination for the TCP/UDP pseudo-header. */
    public int pseudoDestination() {
        return pseudoDestination;
    }

    /** Offset of the TCP or UDP header. */
    public int l4() {
        return l4;
    }

    /** {@link IpProtocol#TCP} or {@link IpProtocol#UDP}. */
    public int l4Protocol() {
        return l4Protocol;
    }

    /** TCP header length with options, or 8 for UDP. */
    public int l4HeaderLength() {
        return l4HeaderLength;
    }

    /** Length of all headers, i.e. the offset of the L4 payload. */
    public int headerLength() {
        return l4 + l4HeaderLength;
    }

    /**
     * Offset of the TCP or UDP header in each segment: {@link #l4()} less a stripped Hop-by-Hop header. With
     * partial checksums this is the checksum start ({@code csum_start}) the egress needs.
     */
    public int segmentL4() {
        return l4 - strippedLength;
    }

    /** Length of the L4 payload. */
    public int payloadLength() {
        return length - headerLength();
    }

    /** Offset of the IPv6 Hop-by-Hop header holding a jumbo payload option, or {@link #ABSENT}. */
    public int hopByHop() {
        return hopByHop;
    }

    /** Offset of the IPv6 jumbo payload option, or {@link #ABSENT}. */
    public int jumboOption() {
        return jumboOption;
    }

    /** Bytes of Hop-by-Hop header (at {@link #hopByHop()}) that segments leave out: 0, or its whole length. */
    public int strippedLength() {
        return strippedLength;
    }

    @Override
    public String toString() {
        return "PacketLayout(" + linkType + ", " + tunnelType + ", length " + length + ", outerL3 " + outerL3
                + ", tunnelL4 " + tunnelL4 + ", innerL2 " + innerL2 + ", l3 " + l3 + " v" + l3Version + ", l4 " + l4
                + " proto " + l4Protocol + ", header " + (l4 + l4HeaderLength) + ")";
    }
}
