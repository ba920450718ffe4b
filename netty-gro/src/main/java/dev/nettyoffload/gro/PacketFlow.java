package dev.nettyoffload.gro;

import dev.nettyoffload.core.packet.Ipv4Header;
import dev.nettyoffload.core.packet.PacketLayout;
import dev.nettyoffload.core.packet.TcpHeader;
import dev.nettyoffload.core.packet.TunnelType;
import dev.nettyoffload.core.packet.UdpHeader;
import io.netty.buffer.ByteBuf;

import java.util.Arrays;

/**
 * One slot of the {@link PacketFlowTable}: the packets held for one flow and what the merge rules need to know
 * about the run (the first packet's header offsets, segment size, next sequence number, IPv4 ID sequence,
 * accumulated payload checksum). Allocated once with the table and reused; a copy of the first held packet's
 * headers is the flow key, compared byte for byte with each new packet's copy ({@link PacketKey#headers}).
 */
final class PacketFlow {
    /** Packets a run's first array holds; it doubles up to {@link #maxSegments} as the run grows. */
    private static final int FIRST_CAPACITY = 8;

    private final int maxSegments;
    /**
     * The run's packets (the first {@link #count}). A new array per run rather than one reused array: storing a
     * young buffer into an old array costs G1 a card-marking barrier with a StoreLoad fence per packet, while
     * stores into a young array are filtered out at once.
     */
    ByteBuf[] packets;
    int count;
    /** The first packet's headers ({@link #headerLength} bytes), the flow key every later packet is compared with. */
    byte[] headers = new byte[128];

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
    /** {@link PacketKey#hash} of the flow. */
    int hash;
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
        this.maxSegments = maxSegments;
    }

    /** Makes this empty slot the flow of {@code k}, which {@link #append} adds next. */
    void start(PacketKey k, int maxIpLength, boolean owned) {
        count = 0;
        packets = new ByteBuf[Math.min(FIRST_CAPACITY, maxSegments)];
        tunnel = k.tunnel;
        outerL3 = k.outerL3;
        firstL3 = outerL3 != PacketLayout.ABSENT ? outerL3 : k.l3;
        outerVersion = k.outerL3Version;
        outerHeaderLength = k.outerL3HeaderLength;
        tunnelL4 = k.tunnelL4;
        innerL2 = k.innerL2;
        l3 = k.l3;
        l3Version = k.l3Version;
        l3HeaderLength = k.l3HeaderLength;
        pseudoDestination = k.pseudoDestination;
        outerPseudoDestination = k.outerPseudoDestination;
        l4 = k.l4;
        l4HeaderLength = k.l4HeaderLength;
        tcp = k.tcp;
        headerLength = k.headerLength;
        if (headers.length < headerLength) {
            headers = new byte[Math.max(headerLength, headers.length * 2)];
        }
        segmentSize = k.payload;
        payloadTotal = 0;
        payloadSum = 0;
        idSequence = IdSequence.UNDECIDED;
        outerIdSequence = IdSequence.UNDECIDED;
        heldBytes = 0;
        hash = k.hash;
        address = k.address;
        ports = k.ports;
        this.maxIpLength = maxIpLength;
        this.owned = owned;
    }

    /**
     * Adds packet {@code k} to the run, taking over its buffer {@code buf}: the first records the fields later
     * packets must match, a later one the {@link IdSequence}s (inner or only header, outer header) it was found to
     * follow.
     */
    void append(PacketKey k, ByteBuf buf, IdSequence ids, IdSequence outerIds) {
        if (count == 0) {
            first(k);
        } else if (idSequence != ids || outerIdSequence != outerIds) {
            // Stored only when changed (at the second packet): each reference store costs G1 a fenced barrier.
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
        if (count == packets.length) {
            packets = Arrays.copyOf(packets, Math.min(count * 2, maxSegments));
        }
        packets[count++] = buf;
        heldBytes += k.length;
    }

    /**
     * Records the fields of the run's first packet that later packets must match. Apart from {@link #append} so
     * that the per-packet part stays small enough for the JIT to inline.
     */
    private void first(PacketKey k) {
        final byte[] h = k.headers;
        System.arraycopy(h, 0, headers, 0, headerLength);
        if (l3Version == 4) {
            firstId = HeaderBytes.unsignedShort(h, l3 + Ipv4Header.ID_OFFSET);
        }
        if (tunnel != TunnelType.NONE && outerVersion == 4) {
            firstOuterId = HeaderBytes.unsignedShort(h, outerL3 + Ipv4Header.ID_OFFSET);
        }
        outerUdpChecksum = tunnel == TunnelType.VXLAN
                && HeaderBytes.unsignedShort(h, tunnelL4 + UdpHeader.CHECKSUM_OFFSET) != 0;
        ipFields = PacketRules.ipFields(h, l3, l3Version);
        if (tunnel != TunnelType.NONE) {
            outerIpFields = PacketRules.ipFields(h, outerL3, outerVersion);
        }
        if (tcp) {
            int t = l4;
            nextSeq = HeaderBytes.unsignedInt(h, t + TcpHeader.SEQUENCE_OFFSET);
            tcpWord = HeaderBytes.getInt(h, t + TcpHeader.DATA_OFFSET_OFFSET);
            tcpAck = HeaderBytes.getInt(h, t + TcpHeader.ACK_OFFSET);
            tcpUrgent = HeaderBytes.getShort(h, t + PacketRules.TCP_URGENT_OFFSET);
        }
    }

    /** Bytes of the merged IP datagram (from the outermost IP header) if {@code payload} more bytes joined. */
    int ipLengthWith(int payload) {
        return headerLength - firstL3 + payloadTotal + payload;
    }

    void clear() {
        packets = null;
        count = 0;
        heldBytes = 0;
    }
}
