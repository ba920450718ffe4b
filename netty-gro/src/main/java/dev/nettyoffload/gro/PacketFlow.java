package dev.nettyoffload.gro;

import dev.nettyoffload.core.packet.IpProtocol;
import dev.nettyoffload.core.packet.PacketLayout;
import dev.nettyoffload.core.packet.TunnelType;
import io.netty.buffer.ByteBuf;

/**
 * One slot of the {@link PacketCoalescer} flow table: the packets held for one flow and what the merge rules
 * need to know about the run (the first packet's header offsets, segment size, next sequence number, IPv4 ID
 * mode, accumulated payload checksum). Allocated once with the table and reused; the first held packet is
 * the flow key, compared byte for byte with each new packet.
 */
final class PacketFlow {
    /** IPv4 ID mode not decided yet (one packet held). */
    static final int ID_UNDECIDED = 0;
    static final int ID_INCREMENTING = 1;
    static final int ID_FIXED = 2;

    final ByteBuf[] packets;
    int count;
    int hash;

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
    int idMode;
    int firstId;
    int firstOuterId;
    int heldBytes;
    // The first packet's fields that every later packet must match, read once (TCP offset/flags/window word,
    // ACK number, urgent pointer; IP TOS/TTL/flags or traffic class/hop limit, inner and outer).
    /** IPv4 source and destination addresses (inner header), and the ports: the flow key's hot part. */
    long address;
    int ports;
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

    void start(PacketLayout l, int hash) {
        this.hash = hash;
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
        tcp = l.l4Protocol() == IpProtocol.TCP;
        headerLength = l.headerLength();
        segmentSize = l.payloadLength();
        payloadTotal = 0;
        payloadSum = 0;
        idMode = ID_UNDECIDED;
        heldBytes = 0;
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
