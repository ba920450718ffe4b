package dev.nettyoffload.gso;

import dev.nettyoffload.core.packet.GreHeader;
import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.InternetChecksum;
import dev.nettyoffload.core.packet.Ipv4Header;
import dev.nettyoffload.core.packet.Ipv4IdMode;
import dev.nettyoffload.core.packet.Ipv6Header;
import dev.nettyoffload.core.packet.IpProtocol;
import dev.nettyoffload.core.packet.PacketLayout;
import dev.nettyoffload.core.packet.PacketOffloadException;
import dev.nettyoffload.core.packet.TcpHeader;
import dev.nettyoffload.core.packet.TunnelType;
import dev.nettyoffload.core.packet.UdpHeader;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.internal.PlatformDependent;

import java.nio.ByteOrder;
import java.util.List;

/**
 * Cuts one large {@link GsoPacket} into the packets a NIC doing TSO/USO would put on the wire, following the
 * Linux kernel ({@code tcp_gso_segment}, {@code __udp_gso_segment}, {@code inet_gso_segment},
 * {@code ipv6_gso_segment}, {@code skb_udp_tunnel_segment}, {@code gre_gso_segment}).
 * <p>
 * Each segment gets a copy of all headers with: TCP sequence number advanced by {@code segmentSize} per segment,
 * FIN and PSH only on the last segment and CWR only on the first (on every segment when
 * {@link GsoPacket#cwrOnEverySegment()}, as {@code SKB_GSO_TCP_ACCECN}); IPv4 total length, identification (per
 * {@link Ipv4IdMode}) and header checksum; IPv6 payload length (a jumbo payload option is removed); UDP
 * length; TCP/UDP checksum per {@link ChecksumMode}; and for a tunnel the outer IP lengths, ID and checksum,
 * the outer UDP length and checksum (VXLAN; kept zero when the original is zero) and the GRE checksum (when the
 * C bit is set).
 * <p>
 * Zero copy ({@code copyPayload(false)}): each output packet is a {@link CompositeByteBuf} of two components, a slice of one
 * header buffer allocated per input packet (all segment headers back to back) and a retained slice of the
 * original payload. Only headers are written, payload bytes are read once for the checksum in
 * {@link ChecksumMode#FULL} mode and not at all in {@link ChecksumMode#PARTIAL} mode.
 * <p>
 * Copy (the default, {@link PacketSegmenterConfig#copyPayload()}): all segments, headers and payload, are written back to back
 * into one pooled direct buffer per input packet, and each output packet is a plain slice of it holding one of
 * the references taken at once for all segments (release each one once; its {@code refCnt()} is the shared
 * buffer's). The payload is copied memory to memory and, in {@link ChecksumMode#FULL} mode, summed from the
 * copy while it is in the cache. No composite, no per-segment retain, one contiguous packet per write; about
 * 15-30% less CPU per segment than zero copy (see {@code PacketSegmentCpuTime} and its {@code --slices}). Header fields are
 * written straight to memory in both modes when the buffer has a memory address.
 * <p>
 * With {@link ChecksumMode#PARTIAL} the egress completes the TCP/UDP checksum of each segment from
 * {@link PacketLayout#segmentL4()} (checksum start) to the end, the field being at offset 16 (TCP) or 6 (UDP)
 * from there, like {@code virtio_net_hdr}'s {@code csum_start}/{@code csum_offset}.
 * <p>
 * For a tunnel, the outer IPv4 ID follows {@link GsoPacket#outerIpv4IdMode()} and the inner one
 * {@link GsoPacket#ipv4IdMode()}, each on its own ({@code SKB_GSO_TCP_FIXEDID}, {@code SKB_GSO_TCP_FIXEDID_INNER}).
 * A packet whose payload fits in one segment is sent as it is (lengths and checksums rewritten), whatever its
 * {@code segmentSize}, as Linux does.
 * <p>
 * Checked byte for byte against the kernel's own software segmentation (plain TCP/UDP over IPv4 and IPv6, and
 * inside VXLAN and GRE, complete and partial checksums). Where it differs from the kernel, on purpose:
 * <ul>
 * <li>AH, ESP, fragments and GRE with sequence numbers are refused ({@link PacketOffloadException}); the kernel
 *     has ESP offload and turns GSO off for GRE sequence numbers.</li>
 * <li>An IPv6 jumbogram is segmented without a tunnel only and refused inside one, like Linux BIG TCP, which
 *     inserts the jumbo option for plain IPv6 TCP only.</li>
 * <li>A declared {@link GsoPacket#segmentCount()} is checked against the payload; the kernel recomputes
 *     {@code gso_segs} for untrusted packets.</li>
 * </ul>
 * <p>
 * Not thread-safe: keep one per channel or event loop (it reuses a {@link PacketLayout}).
 */
public final class PacketSegmenter {
    /** Flags only the last segment keeps (tcp_gso_segment clears them on all others). */
    private static final int TCP_LAST_ONLY = TcpHeader.FIN | TcpHeader.PSH;

    private final PacketSegmenterConfig config;
    private final boolean fullChecksum;
    private final boolean copy;
    private static final boolean LITTLE = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
    private final PacketLayout scratch = new PacketLayout();

    /** A segmenter with {@link PacketSegmenterConfig#DEFAULT}. */
    public PacketSegmenter() {
        this(PacketSegmenterConfig.DEFAULT);
    }

    /** A segmenter with {@code config}. */
    public PacketSegmenter(PacketSegmenterConfig config) {
        if (config == null) {
            throw new IllegalArgumentException("config: null");
        }
        this.config = config;
        this.fullChecksum = config.checksumMode() == ChecksumMode.FULL;
        this.copy = config.copyPayload();
    }

    /** The configuration. */
    public PacketSegmenterConfig config() {
        return config;
    }

    /**
     * Segments {@code packet} and adds the resulting packets, plain {@link ByteBuf}s starting at the link header,
     * to {@code out} in wire order; returns how many were added.
     * <p>
     * Ownership: {@code packet} is neither released nor retained as a whole (the caller still owns it and
     * releases it, as {@link io.netty.handler.codec.MessageToMessageEncoder} does); every added buffer holds its
     * own reference to the payload and must be released by whoever consumes it. On an exception nothing is
     * added to {@code out} and nothing leaks.
     *
     * @throws PacketOffloadException if the packet cannot be segmented: invalid or contradictory headers, no
     *         payload, a segment too long for its length fields, or more than
     *         {@link PacketSegmenterConfig#maxSegmentsPerPacket()} segments
     */
    public int segment(GsoPacket packet, ByteBufAllocator alloc, List<Object> out) {
        if (packet == null) {
            throw new IllegalArgumentException("packet: null");
        }
        if (alloc == null) {
            throw new IllegalArgumentException("alloc: null");
        }
        if (out == null) {
            throw new IllegalArgumentException("out: null");
        }
        if (packet.refCnt() <= 0) {
            // content() would throw Netty's bare "refCnt: 0"; name the packet instead.
            throw new PacketOffloadException(packet + ": the content was already released");
        }
        final ByteBuf in = packet.content();
        PacketLayout l = packet.parsedLayout();
        if (l == null || l.linkType() != config.linkType()) {
            l = scratch.parse(in, config.linkType(), packet.tunnelType(), packet.gsoType());
            packet.checkSegmentCount(l.payloadLength());
        }
        final int gso = packet.segmentSize();
        final int payload = l.payloadLength();
        if (payload <= 0) {
            throw new PacketOffloadException("no L4 payload to segment: " + l.length() + " bytes are all headers");
        }
        final int n = packet.segmentsFor(payload);
        if (n > config.maxSegmentsPerPacket()) {
            throw new PacketOffloadException(payload + " payload bytes / segmentSize " + gso + " = " + n
                    + " segments, more than maxSegmentsPerPacket " + config.maxSegmentsPerPacket());
        }
        final int strip = l.strippedLength();
        final int stripAt = strip == 0 ? l.headerLength() : l.hopByHop();
        final int hdrIn = l.headerLength();
        final int hdrOut = hdrIn - strip;
        checkSegmentFits(l, gso, payload, hdrOut);

        final int base = in.readerIndex();
        final boolean fixedId = packet.ipv4IdMode() == Ipv4IdMode.FIXED;
        final boolean outerFixedId = packet.outerIpv4IdMode() == Ipv4IdMode.FIXED;
        // RFC 3168 CWR belongs to the first segment only; with AccECN it is a counter bit that every segment keeps.
        final int cwrClears = packet.cwrOnEverySegment() ? 0 : TcpHeader.CWR;
        final int middleClears = TCP_LAST_ONLY | cwrClears;
        final int l3 = l.l3();
        final int oL4 = l.l4() - strip;  // the only stripped header (Hop-by-Hop) sits between L3 and L4
        final boolean tcp = l.l4Protocol() == IpProtocol.TCP;
        final int l4HeaderLength = l.l4HeaderLength();

        // Per-packet constant parts of the checksums: each field that changes per segment is removed here
        // (added as its ones-complement negation) and its new value added per segment.
        final boolean innerV4 = l.l3Version() == 4;
        long ipBase = 0;
        int id0 = 0;
        long pseudoBase;
        if (innerV4) {
            id0 = in.getUnsignedShort(base + l3 + Ipv4Header.ID_OFFSET);
            ipBase = withoutIpv4VariableFields(in, base + l3, l.l3HeaderLength());
            pseudoBase = InternetChecksum.pseudoHeaderIpv4(in, base + l3, l.l4Protocol(), 0);
        } else {
            pseudoBase = InternetChecksum.pseudoHeaderIpv6(in, base + l3 + Ipv6Header.SOURCE_OFFSET,
                    base + l.pseudoDestination(), l.l4Protocol(), 0);
        }
        final int l4In = base + l.l4();
        final long seq0 = tcp ? in.getUnsignedInt(l4In + TcpHeader.SEQUENCE_OFFSET) : 0;
        final int flags0 = tcp ? in.getUnsignedByte(l4In + TcpHeader.FLAGS_OFFSET) : 0;
        final int doffHigh = tcp ? in.getUnsignedByte(l4In + TcpHeader.DATA_OFFSET_OFFSET) << 8 : 0;
        long l4Base = InternetChecksum.sum(in, l4In, l4HeaderLength);
        if (tcp) {
            l4Base += InternetChecksum.negate((int) (seq0 >>> 16)) + InternetChecksum.negate((int) (seq0 & 0xFFFF))
                    + InternetChecksum.negate(doffHigh | flags0)
                    + InternetChecksum.negate(in.getUnsignedShort(l4In + TcpHeader.CHECKSUM_OFFSET));
        } else {
            l4Base += InternetChecksum.negate(in.getUnsignedShort(l4In + UdpHeader.LENGTH_OFFSET))
                    + InternetChecksum.negate(in.getUnsignedShort(l4In + UdpHeader.CHECKSUM_OFFSET));
        }

        final TunnelType tunnel = l.tunnelType();
        final int outerL3 = l.outerL3();
        final boolean outerV4 = tunnel != TunnelType.NONE && l.outerL3Version() == 4;
        final int tunnelL4 = l.tunnelL4();
        long outerIpBase = 0;
        int outerId0 = 0;
        long outerPseudoBase = 0;
        boolean outerUdpChecksum = false;
        boolean greChecksum = false;
        if (outerV4) {
            outerId0 = in.getUnsignedShort(base + outerL3 + Ipv4Header.ID_OFFSET);
            outerIpBase = withoutIpv4VariableFields(in, base + outerL3, l.outerL3HeaderLength());
        }
        if (tunnel == TunnelType.VXLAN) {
            outerUdpChecksum = in.getUnsignedShort(base + tunnelL4 + UdpHeader.CHECKSUM_OFFSET) != 0;
            outerPseudoBase = outerV4
                    ? InternetChecksum.pseudoHeaderIpv4(in, base + outerL3, IpProtocol.UDP, 0)
                    : InternetChecksum.pseudoHeaderIpv6(in, base + outerL3 + Ipv6Header.SOURCE_OFFSET,
                    base + l.outerPseudoDestination(), IpProtocol.UDP, 0);
        } else if (tunnel == TunnelType.GRE) {
            greChecksum = (in.getUnsignedShort(base + tunnelL4) & GreHeader.FLAG_C) != 0;
        }
        final int jumboOption = l.jumboOption();

        final int start = out.size();
        // All headers of this packet (zero copy) or all its segments (copy) go into one buffer; each segment holds
        // a slice of it. One pooled allocation per packet instead of one per segment (a slice costs about a third
        // of a small allocation).
        final boolean copy = this.copy;
        final int copyLength = n * hdrOut + payload;
        final ByteBuf headers = copy ? alloc.directBuffer(copyLength, copyLength)
                : alloc.buffer(n * hdrOut, n * hdrOut);
        // Header fields are written straight to memory when the header buffer has an address, copies go from
        // memory to memory when both have one: the ranges were checked once by the parse and the allocation,
        // and both buffers are held for the whole call.
        final boolean unsafe = PlatformDependent.hasUnsafe();
        final long hAddress = unsafe && headers.hasMemoryAddress() ? headers.memoryAddress() : 0;
        final boolean rawCopy = hAddress != 0 && in.hasMemoryAddress();
        final long inAddress = rawCopy ? in.memoryAddress() : 0;
        ByteBuf pending = null;
        boolean success = false;
        int unreleased = 1;
        try {
            if (copy) {
                // One reference per segment taken at once; each segment is a plain slice that gives one back.
                headers.retain(n);
                unreleased += n;
            }
            int payloadIndex = base + hdrIn;
            for (int i = 0, hb = 0; i < n; i++, payloadIndex += gso) {
                final int p = i == n - 1 ? payload - i * gso : gso;
                final int segLength = hdrOut + p;
                final int l4Length = l4HeaderLength + p;
                final ByteBuf h = headers;
                int payloadSum = 0;
                if (copy) {
                    if (rawCopy) {
                        PlatformDependent.copyMemory(inAddress + payloadIndex, hAddress + hb + hdrOut, p);
                    } else {
                        h.setBytes(hb + hdrOut, in, payloadIndex, p);
                    }
                    if (fullChecksum) {
                        // Summed from the copy, which is in the cache now.
                        payloadSum = InternetChecksum.sum(h, hb + hdrOut, p);
                    }
                } else if (fullChecksum) {
                    payloadSum = InternetChecksum.sum(in, payloadIndex, p);
                }
                if (rawCopy) {
                    PlatformDependent.copyMemory(inAddress + base, hAddress + hb, stripAt);
                    if (stripAt != hdrIn) {
                        PlatformDependent.copyMemory(inAddress + base + stripAt + strip, hAddress + hb + stripAt,
                                hdrIn - stripAt - strip);
                    }
                } else {
                    h.setBytes(hb, in, base, stripAt);
                    if (stripAt != hdrIn) {
                        h.setBytes(hb + stripAt, in, base + stripAt + strip, hdrIn - stripAt - strip);
                    }
                }
                if (jumboOption != PacketLayout.ABSENT) {
                    if (strip != 0) {
                        put8(h, hAddress, hb + l3 + Ipv6Header.NEXT_HEADER_OFFSET, in.getByte(base + stripAt));
                    } else {
                        // PadN of the same size keeps the other Hop-by-Hop options where they were.
                        put16(h, hAddress, hb + jumboOption,
                                (Ipv6Header.OPTION_PADN << 8) | Ipv6Header.OPTION_JUMBO_DATA_LENGTH);
                        put32(h, hAddress, hb + jumboOption + 2, 0);
                    }
                }

                // Inner IP header.
                if (innerV4) {
                    int total = segLength - l3;
                    int id = fixedId ? id0 : (id0 + i) & 0xFFFF;
                    put16(h, hAddress, hb + l3 + Ipv4Header.TOTAL_LENGTH_OFFSET, total);
                    put16(h, hAddress, hb + l3 + Ipv4Header.ID_OFFSET, id);
                    put16(h, hAddress, hb + l3 + Ipv4Header.CHECKSUM_OFFSET,
                            InternetChecksum.finish(ipBase + total + id));
                } else {
                    put16(h, hAddress, hb + l3 + Ipv6Header.PAYLOAD_LENGTH_OFFSET, segLength - l3 - Ipv6Header.LENGTH);
                }

                // TCP or UDP header and checksum.
                final long pseudo = pseudoBase + l4Length;
                int check;
                if (tcp) {
                    long seq = (seq0 + (long) i * gso) & 0xFFFFFFFFL;
                    int flags = n == 1 ? flags0
                            : flags0 & ~(i == 0 ? TCP_LAST_ONLY : i == n - 1 ? cwrClears : middleClears);
                    put32(h, hAddress, hb + oL4 + TcpHeader.SEQUENCE_OFFSET, (int) seq);
                    put8(h, hAddress, hb + oL4 + TcpHeader.FLAGS_OFFSET, flags);
                    if (fullChecksum) {
                        long sum = pseudo + l4Base + (seq >>> 16) + (seq & 0xFFFF) + (doffHigh | flags)
                                + payloadSum;
                        check = InternetChecksum.finish(sum);
                    } else {
                        check = InternetChecksum.fold(pseudo);
                    }
                    put16(h, hAddress, hb + oL4 + TcpHeader.CHECKSUM_OFFSET, check);
                } else {
                    put16(h, hAddress, hb + oL4 + UdpHeader.LENGTH_OFFSET, l4Length);
                    if (fullChecksum) {
                        long sum = pseudo + l4Base + l4Length + payloadSum;
                        check = InternetChecksum.finish(sum);
                        if (check == 0) {
                            check = UdpHeader.ZERO_CHECKSUM_REPLACEMENT;
                        }
                    } else {
                        check = InternetChecksum.fold(pseudo);
                    }
                    put16(h, hAddress, hb + oL4 + UdpHeader.CHECKSUM_OFFSET, check);
                }

                if (tunnel != TunnelType.NONE) {
                    // Once the inner checksum is complete, the inner L4 segment sums to the negated pseudo-header
                    // sum, so outer checksums need only the headers (local checksum offload).
                    final int innerL4Sum = InternetChecksum.negate(InternetChecksum.fold(pseudo));
                    if (outerV4) {
                        int total = segLength - outerL3;
                        int id = outerFixedId ? outerId0 : (outerId0 + i) & 0xFFFF;
                        put16(h, hAddress, hb + outerL3 + Ipv4Header.TOTAL_LENGTH_OFFSET, total);
                        put16(h, hAddress, hb + outerL3 + Ipv4Header.ID_OFFSET, id);
                        put16(h, hAddress, hb + outerL3 + Ipv4Header.CHECKSUM_OFFSET,
                                InternetChecksum.finish(outerIpBase + total + id));
                    } else {
                        put16(h, hAddress, hb + outerL3 + Ipv6Header.PAYLOAD_LENGTH_OFFSET,
                                segLength - outerL3 - Ipv6Header.LENGTH);
                    }
                    if (tunnel == TunnelType.VXLAN) {
                        int udpLength = segLength - tunnelL4;
                        put16(h, hAddress, hb + tunnelL4 + UdpHeader.LENGTH_OFFSET, udpLength);
                        if (outerUdpChecksum) {
                            put16(h, hAddress, hb + tunnelL4 + UdpHeader.CHECKSUM_OFFSET, 0);
                            long sum = outerPseudoBase + udpLength
                                    + InternetChecksum.sum(h, hb + tunnelL4, oL4 - tunnelL4) + innerL4Sum;
                            int c = InternetChecksum.finish(sum);
                            put16(h, hAddress, hb + tunnelL4 + UdpHeader.CHECKSUM_OFFSET,
                                    c == 0 ? UdpHeader.ZERO_CHECKSUM_REPLACEMENT : c);
                        }
                    } else if (greChecksum) {
                        put16(h, hAddress, hb + tunnelL4 + GreHeader.CHECKSUM_OFFSET, 0);
                        long sum = InternetChecksum.sum(h, hb + tunnelL4, oL4 - tunnelL4) + innerL4Sum;
                        put16(h, hAddress, hb + tunnelL4 + GreHeader.CHECKSUM_OFFSET, InternetChecksum.finish(sum));
                    }
                }

                if (copy) {
                    out.add(headers.slice(hb, segLength));
                    unreleased--;
                    hb += segLength;
                } else {
                    CompositeByteBuf segment = alloc.compositeBuffer(2);
                    pending = segment;
                    segment.addComponent(true, headers.retainedSlice(hb, hdrOut));
                    segment.addComponent(true, in.retainedSlice(payloadIndex, p));
                    out.add(segment);
                    hb += hdrOut;
                }
                pending = null;
            }
            success = true;
            return n;
        } finally {
            headers.release(unreleased);
            if (!success) {
                ReferenceCountUtil.release(pending);
                for (int i = out.size() - 1; i >= start; i--) {
                    ReferenceCountUtil.release(out.remove(i));
                }
            }
        }
    }

    /**
     * Writes a big-endian 16-bit {@code value} at {@code index} of {@code h}: straight to memory at {@code address}
     * (the address of index 0, range already checked) unless it is 0, else through {@link ByteBuf#setShort}.
     */
    private static void put16(ByteBuf h, long address, int index, int value) {
        if (address != 0) {
            PlatformDependent.putShort(address + index, LITTLE ? Short.reverseBytes((short) value) : (short) value);
        } else {
            h.setShort(index, value);
        }
    }

    /** Like {@link #put16} for 32 bits. */
    private static void put32(ByteBuf h, long address, int index, int value) {
        if (address != 0) {
            PlatformDependent.putInt(address + index, LITTLE ? Integer.reverseBytes(value) : value);
        } else {
            h.setInt(index, value);
        }
    }

    /** Like {@link #put16} for one byte. */
    private static void put8(ByteBuf h, long address, int index, int value) {
        if (address != 0) {
            PlatformDependent.putByte(address + index, (byte) value);
        } else {
            h.setByte(index, value);
        }
    }

    /** The header sum of an IPv4 header without its total length, identification and checksum. */
    private static long withoutIpv4VariableFields(ByteBuf in, int index, int headerLength) {
        return InternetChecksum.sum(in, index, headerLength)
                + InternetChecksum.negate(in.getUnsignedShort(index + Ipv4Header.TOTAL_LENGTH_OFFSET))
                + InternetChecksum.negate(in.getUnsignedShort(index + Ipv4Header.ID_OFFSET))
                + InternetChecksum.negate(in.getUnsignedShort(index + Ipv4Header.CHECKSUM_OFFSET));
    }

    /**
     * Refuses a packet whose largest segment would overflow a 16-bit IP or UDP length field. The largest segment
     * carries {@code segmentSize} bytes, or the whole payload when that is smaller (such a packet goes out as one
     * segment, as Linux sends it unchanged), so only a jumbogram can fail here.
     */
    private static void checkSegmentFits(PacketLayout l, int gso, int payload, int hdrOut) {
        int first = l.outerL3() != PacketLayout.ABSENT ? l.outerL3() : l.l3();
        int version = l.outerL3() != PacketLayout.ABSENT ? l.outerL3Version() : l.l3Version();
        long fromL3 = (long) hdrOut - first + Math.min(gso, payload);
        long limit = version == 4 ? Ipv4Header.MAX_TOTAL_LENGTH : Ipv6Header.LENGTH + Ipv6Header.MAX_PAYLOAD_LENGTH;
        if (fromL3 > limit) {
            throw new PacketOffloadException((gso < payload ? "segmentSize " + gso
                    : "a single segment of " + payload + " payload bytes (segmentSize " + gso + ")")
                    + " too large for the headers: a full segment would be " + fromL3 + " bytes from the " + (l.outerL3() != PacketLayout.ABSENT ? "outer " : "") + "IPv"
                    + version + " header, limit " + limit);
        }
    }
}
