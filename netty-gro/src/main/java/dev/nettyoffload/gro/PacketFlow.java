package dev.nettyoffload.gro;

import dev.nettyoffload.core.packet.Ipv4Header;
import dev.nettyoffload.core.packet.PacketLayout;
import dev.nettyoffload.core.packet.TcpHeader;
import dev.nettyoffload.core.packet.TunnelType;
import dev.nettyoffload.core.packet.UdpHeader;
import io.netty.buffer.ByteBuf;

/**
 * One slot of the {@link PacketFlowTable}: the packets held for one flow and what the merge rules need to know
 * about the run (the first packet's header offsets, segment size, next sequence number, IPv4 ID sequence,
 * accumulated payload checksum). Allocated once with the table and reused; the first held packet is the flow
 * key, compared byte for byte with each new packet.
 */
final class PacketFlow {
    final ByteBuf[] packets;
    int count;

    // Header offsets of the first packet, relative to its reader index.
    TunnelType tunnel;
    int firstL3;
    int outerL3;
    int outerVersion;
    int outerHeaderLength;
    int tunnelL4;
    int innerL2;
    int l3;
    int l3Version;
    int l3HeaderLength;
    int pseudoDestination;
    int outerPseudoDestination;
    int l4;
    int l4HeaderLength;
    int headerLength;
    boolean tcp;
    boolean outerUdpChecksum;

    int segmentSize;
    int payloadTotal;
    long nextSeq;
    /** Ones-complement sum of all payloads in order, unfolded. */
    long payloadSum;
    /** IPv4 ID sequence of the header in front of the transport (the inner one of a tunnel). */
    IdSequence idSequence;
    /** IPv4 ID sequence of a tunnel's outer header, decided apart from the inner one. */
    IdSequence outerIdSequence;
    int firstId;
    int firstOuterId;
    int heldBytes;
    /** IPv4 source and destination addresses (inner header), and the ports: the flow key's hot part. */
    long address;
    int ports;
    // The first packet's fields that every later packet must match, read once (TCP offset/flags/window word,
    // ACK number, urgent pointer; IP TOS/TTL/flags or traffic class/hop limit, inner and outer).
    int tcpWord;
    int tcpAck;
    short tcpUrgent;
    int ipFields;
    int outerIpFields;
    /** Largest IP datagram this run may grow to: 65535, or the BIG TCP size for eligible IPv6 TCP flows. */
    int maxIpLength;
    /** The first packet was unshared when held: its headers may be rewritten in place. */
    boolean owned;

    PacketFlow(int maxSegments) {
        packets = new ByteBuf[maxSegments];
    }

    /** Makes this empty slot the flow of {@code k}, which {@link #append} adds next. */
    void start(PacketKey k, int maxIpLength, boolean owned) {
        final PacketLayout l = k.layout;
        count = 0;
        tunnel = l.tunnelType();
        outerL3 = l.outerL3();
        firstL3 = outerL3 != PacketLayout.ABSENT ? outerL3 : l.l3();
        outerVersion = l.outerL3Version();
        outerHeaderLength = l.outerL3HeaderLength();
        tunnelL4 = l.tunnelL4();
        innerL2 = l.innerL2();
        l3 = l.l3();
        l3Version = l.l3Version();
        l3HeaderLength = l.l3HeaderLength();
        pseudoDestination = l.pseudoDestination();
        outerPseudoDestination = l.outerPseudoDestination();
        l4 = l.l4();
        l4HeaderLength = l.l4HeaderLength();
        tcp = k.tcp;
        headerLength = l.headerLength();
        segmentSize = k.payload;
        payloadTotal = 0;
        payloadSum = 0;
        idSequence = IdSequence.UNDECIDED;
        outerIdSequence = IdSequence.UNDECIDED;
        heldBytes = 0;
        address = k.address;
        ports = k.ports;
        this.maxIpLength = maxIpLength;
        this.owned = owned;
    }

    /**
     * Adds packet {@code k} to the run (taking over its buffer): the first records the fields later packets must
     * match, a later one the {@link IdSequence}s (inner or only header, outer header) it was found to follow.
     */
    void append(PacketKey k, IdSequence ids, IdSequence outerIds) {
        final ByteBuf buf = k.buf;
        final int b = k.base;
        if (count == 0) {
            if (l3Version == 4) {
                firstId = buf.getUnsignedShort(b + l3 + Ipv4Header.ID_OFFSET);
            }
            if (tunnel != TunnelType.NONE && outerVersion == 4) {
                firstOuterId = buf.getUnsignedShort(b + outerL3 + Ipv4Header.ID_OFFSET);
            }
            outerUdpChecksum = tunnel == TunnelType.VXLAN
                    && buf.getUnsignedShort(b + tunnelL4 + UdpHeader.CHECKSUM_OFFSET) != 0;
            ipFields = PacketRules.ipFields(buf, b + l3, l3Version);
            if (tunnel != TunnelType.NONE) {
                outerIpFields = PacketRules.ipFields(buf, b + outerL3, outerVersion);
            }
            if (tcp) {
                int t = b + l4;
                nextSeq = buf.getUnsignedInt(t + TcpHeader.SEQUENCE_OFFSET);
                tcpWord = buf.getInt(t + TcpHeader.DATA_OFFSET_OFFSET);
                tcpAck = buf.getInt(t + TcpHeader.ACK_OFFSET);
                tcpUrgent = buf.getShort(t + PacketRules.TCP_URGENT_OFFSET);
            }
        } else {
            idSequence = ids;
            outerIdSequence = outerIds;
        }
        int sum = k.payloadSum;
        // A payload starting at an odd offset of the merged payload contributes its sum byte-swapped.
        payloadSum += (payloadTotal & 1) == 0 ? sum : ((sum & 0xFF) << 8) | (sum >>> 8);
        payloadTotal += k.payload;
        if (tcp) {
            nextSeq = (nextSeq + k.payload) & 0xFFFFFFFFL;
        }
        packets[count++] = buf;
        heldBytes += k.length;
    }

    ByteBuf head() {
        return packets[0];
    }

    /** Bytes of the merged IP datagram (from the outermost IP header) if {@code payload} more bytes joined. */
    int ipLengthWith(int payload) {
        return headerLength - firstL3 + payloadTotal + payload;
    }

    void clear() {
        for (int i = 0; i < count; i++) {
            packets[i] = null;
        }
        count = 0;
        heldBytes = 0;
    }
}
