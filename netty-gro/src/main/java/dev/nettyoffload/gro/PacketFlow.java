package dev.nettyoffload.gro;

import dev.nettyoffload.core.packet.Ipv4Header;
import dev.nettyoffload.core.packet.PacketLayout;
import dev.nettyoffload.core.packet.PacketMemory;
import dev.nettyoffload.core.packet.TcpHeader;
import dev.nettyoffload.core.packet.TunnelType;
import dev.nettyoffload.core.packet.UdpHeader;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * One slot of the {@link PacketFlowTable}: the packets held for one flow and what the merge rules need to know
 * about the run (the first packet's header offsets, segment size, next sequence number, IPv4 ID sequence,
 * accumulated payload checksum). Allocated once with the table and reused; a copy of the first held packet's
 * headers is the flow key, compared byte for byte with each new packet's copy ({@link PacketKey#headers}).
 * <p>
 * A run is held as its first packet's own buffer until a second packet joins. Then the run moves into one
 * buffer of the largest size it may reach ({@link #run}): the first packet whole, then each joining packet's
 * payload, copied right after its checksum was validated (so it is read from the L1 cache), and each input is
 * released at once. The merged packet is that buffer with its headers rewritten: one contiguous buffer, not a
 * composite of the inputs. A composite cost more than the copy (in a JVM that has seen several buffer classes,
 * its per-component bookkeeping and the release of every component are megamorphic calls), and an input
 * buffer, which may be a receive buffer the kernel wants back, is not kept for the life of the merged packet.
 */
final class PacketFlow {
    /**
     * Free bytes in front of the first packet in {@link #run}: room for the jumbo payload Hop-by-Hop header that
     * a BIG TCP run inserts after its IPv6 header.
     */
    static final int SPARE = PacketRules.JUMBO_HOP_BY_HOP_LENGTH;

    private final int maxSegments;
    /** The run's only packet while {@link #count} is 1 and {@link #run} is null; else null. */
    ByteBuf first;
    /**
     * From the second packet on: {@link #SPARE} bytes, the first packet, then the payload of every later packet
     * ({@link #headerLength} + {@link #payloadTotal} bytes after the spare). Null until then.
     */
    ByteBuf run;
    /** Raw address of {@link #run}'s index 0, or 0 when it is copied into through the buffer. */
    private long runAddress;
    private int runCapacity;
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
    /** TCP flags of the packet held last (its FIN and PSH go to the merged packet). */
    int lastTcpFlags;

    PacketFlow(int maxSegments) {
        this.maxSegments = maxSegments;
    }

    /** Makes this empty slot the flow of {@code k}, which {@link #append} adds next. */
    void start(PacketKey k, int maxIpLength) {
        count = 0;
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
    }

    /**
     * Adds packet {@code k} to the run's state: the first records the fields later packets must match, a later
     * one the {@link IdSequence}s (inner or only header, outer header) it was found to follow. The caller has
     * stored the packet itself ({@link #first}, or {@link #copyPayload}).
     */
    void append(PacketKey k, IdSequence ids, IdSequence outerIds) {
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
            lastTcpFlags = k.tcpFlags;
        }
        count++;
        heldBytes += k.length;
    }

    /**
     * Copies the payload of packet {@code k} (in {@code buf}, which stays the caller's) to the end of the run,
     * moving the run into {@link #run} first if this is its second packet. On failure nothing of the run is lost:
     * a failed allocation leaves the first packet where it was.
     */
    void copyPayload(PacketKey k, ByteBuf buf, ByteBufAllocator alloc) {
        if (run == null) {
            startRun(alloc);
        }
        final int at = SPARE + headerLength + payloadTotal;
        final int from = k.base + k.headerLength;
        if (at + k.payload > runCapacity) {
            // The rules bound a run by maxIpLength and maxSegments: a raw copy past the buffer would corrupt memory.
            throw new IllegalStateException("run of " + count + " packets outgrew its buffer (" + (at + k.payload)
                    + " > " + runCapacity + " bytes)");
        }
        if (runAddress != 0 && k.memory != 0) {
            PacketMemory.copy(k.memory + from, runAddress + at, k.payload);
        } else {
            run.setBytes(at, buf, from, k.payload);
        }
    }

    /**
     * Allocates {@link #run} for the largest packet the run may grow to and moves the first packet into it. The
     * capacity is allocated up front: growing it would copy the run again.
     */
    private void startRun(ByteBufAllocator alloc) {
        final ByteBuf p = first;
        final int maxPayload = Math.min(maxIpLength - (headerLength - firstL3), maxSegments * segmentSize);
        final int length = headerLength + payloadTotal;
        final ByteBuf r = alloc.directBuffer(SPARE + headerLength + Math.max(maxPayload, payloadTotal));
        try {
            final long address = PacketMemory.writableAddress(r);
            final long src = PacketMemory.address(p);
            if (address != 0 && src != 0) {
                PacketMemory.copy(src + p.readerIndex(), address + SPARE, length);
            } else {
                r.setBytes(SPARE, p, p.readerIndex(), length);
            }
            runAddress = address;
            runCapacity = r.capacity();
        } catch (RuntimeException e) {
            r.release();
            throw e;
        }
        run = r;
        first = null;
        p.release();
    }

    /**
     * The run's only packet, which the caller takes over: the buffer it came in, or its copy in {@link #run}
     * when a second packet's copy started the run and then failed.
     */
    ByteBuf takeOnly() {
        ByteBuf only = first != null ? first : run.setIndex(SPARE, SPARE + headerLength + payloadTotal);
        first = null;
        run = null;
        return only;
    }

    /** The held buffer ({@link #first} or {@link #run}), which the caller takes over to release. */
    ByteBuf takeHeld() {
        ByteBuf held = first != null ? first : run;
        first = null;
        run = null;
        return held;
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
        first = null;
        run = null;
        runAddress = 0;
        runCapacity = 0;
        count = 0;
        heldBytes = 0;
    }
}
