package dev.nettyoffload.gso;

import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.InternetChecksum;
import dev.nettyoffload.core.packet.Ipv4Header;
import dev.nettyoffload.core.packet.Ipv4IdMode;
import dev.nettyoffload.core.packet.Ipv6Header;
import dev.nettyoffload.core.packet.PacketLayout;
import dev.nettyoffload.core.packet.PacketMemory;
import dev.nettyoffload.core.packet.PacketOffloadException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.util.ReferenceCountUtil;

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
 * Copy (the default, {@link PacketSegmenterConfig#copyPayload()}): all segments, headers and payload, are written
 * one after the other into one pooled direct buffer per input packet, and each output packet is a plain slice of it
 * holding one of the references taken at once for all segments (release each one once; its {@code refCnt()} is the
 * shared buffer's). The payload is copied memory to memory and, in {@link ChecksumMode#FULL} mode, summed from the
 * source just before it is copied (the copy then reads from the cache). No composite, no per-segment retain, one
 * contiguous packet per write; about 15-30% less CPU per segment than zero copy (see {@code PacketSegmentCpuTime}
 * and its {@code --slices}). Header fields are written straight to memory in both modes when the buffer has a
 * memory address ({@link PacketMemory}: on JDK 24+ too, where Netty 4.2 has no Unsafe, given native access for the
 * core module).
 * <p>
 * Block ({@link #segmentBlock}): the copy form without alignment gaps and with a headroom in front of every
 * segment, returned as one {@link SegmentBlock}, for a tunnel endpoint that sends the segments inside its own
 * encapsulation as one USO send.
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
    /** Largest headroom of {@link #segmentBlock}: room for any encapsulation header. */
    public static final int MAX_HEADROOM = 255;
    /** The cache line size that copied payloads are aligned to, relative to their source. */
    private static final int ALIGN = 64;
    private final PacketSegmenterConfig config;
    private final boolean fullChecksum;
    private final boolean copy;
    private final PacketLayout scratch = new PacketLayout();
    private final SegmentHeaders fields = new SegmentHeaders();
    /** The block {@link #segment0} made for {@link #segmentBlock}, handed over at once. */
    private ByteBuf block;
    private int blockStride;

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
        if (out == null) {
            throw new IllegalArgumentException("out: null");
        }
        return segment0(packet, alloc, out, -1);
    }

    /**
     * Segments {@code packet} into one new buffer laid out for a single USO send of the segments inside an
     * encapsulation: each segment preceded by {@code headroom} bytes that the caller fills (a VXLAN header, say),
     * all back to back, so that datagram {@code k} is the {@link SegmentBlock#stride()} bytes at
     * {@code k * stride} (the last one may be shorter). The payload is always copied, whatever
     * {@link PacketSegmenterConfig#copyPayload()} says, and the headroom bytes are not written. Ownership as with
     * {@link #segment(GsoPacket, ByteBufAllocator, List)}: the caller still owns {@code packet} and releases it,
     * and owns the returned block.
     *
     * @param headroom bytes in front of each segment, 0 to {@value #MAX_HEADROOM}
     * @throws PacketOffloadException as {@link #segment(GsoPacket, ByteBufAllocator, List)} does
     */
    public SegmentBlock segmentBlock(GsoPacket packet, ByteBufAllocator alloc, int headroom) {
        if (headroom < 0 || headroom > MAX_HEADROOM) {
            throw new IllegalArgumentException("headroom: " + headroom + " (expected: 0.." + MAX_HEADROOM + ")");
        }
        int n = segment0(packet, alloc, null, headroom);
        ByteBuf block = this.block;
        this.block = null;
        return new SegmentBlock(block, headroom, blockStride, n);
    }

    /**
     * {@link #segment} into {@code out} when {@code headroom < 0}, else {@link #segmentBlock} into {@link #block}
     * and {@link #blockStride}; returns the number of segments.
     */
    private int segment0(GsoPacket packet, ByteBufAllocator alloc, List<Object> out, int headroom) {
        if (packet == null) {
            throw new IllegalArgumentException("packet: null");
        }
        if (alloc == null) {
            throw new IllegalArgumentException("alloc: null");
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
        final SegmentHeaders fields = this.fields;
        fields.prepare(in, base, l, packet, n, fullChecksum);

        final boolean toBlock = headroom >= 0;
        final int start = toBlock ? 0 : out.size();
        // All headers of this packet (zero copy) or all its segments (copy) go into one buffer; each segment holds
        // a slice of it. One pooled allocation per packet instead of one per segment (a slice costs about a third
        // of a small allocation). A block has no alignment gaps: its datagrams must be back to back.
        final boolean copy = this.copy || toBlock;
        final int copyLength = toBlock ? n * (headroom + hdrOut) + payload : n * hdrOut + payload + n * (ALIGN - 1);
        final ByteBuf headers = copy ? alloc.directBuffer(copyLength, copyLength)
                : alloc.buffer(n * hdrOut, n * hdrOut);
        // Header fields are written straight to memory when the header buffer has an address, copies go from
        // memory to memory when both have one: the ranges were checked once by the parse and the allocation,
        // and both buffers are held for the whole call.
        // PacketMemory, not Netty's accessors: on JDK 24+ Netty 4.2 has no Unsafe and each accessor goes through
        // a ByteBuffer.
        final long hAddress = PacketMemory.writableAddress(headers);
        final long inAddress = hAddress != 0 ? PacketMemory.address(in) : 0;
        final boolean rawCopy = inAddress != 0;
        final boolean rawSum = rawCopy && PacketMemory.isCopyAndSumSupported();
        ByteBuf pending = null;
        boolean success = false;
        int unreleased = 1;
        try {
            if (copy && !toBlock) {
                // One reference per segment taken at once; each segment is a plain slice that gives one back.
                headers.retain(n);
                unreleased += n;
            }
            int payloadIndex = base + hdrIn;
            for (int i = 0, hb = toBlock ? headroom : 0; i < n; i++, payloadIndex += gso) {
                final int p = i == n - 1 ? payload - i * gso : gso;
                final int segLength = hdrOut + p;
                final ByteBuf h = headers;
                if (copy && rawCopy && !toBlock) {
                    // A gap of 0-63 bytes before the segment puts its payload at the same offset within a cache
                    // line as its source: the copy's loads and stores then cross lines at the same points
                    // (GSO 54.3 -> 51.4 ns per segment with partial checksums, 100 -> 98.8 ns with full ones).
                    hb += (int) ((inAddress + payloadIndex - (hAddress + hb + hdrOut)) & (ALIGN - 1));
                }
                int payloadSum = 0;
                if (copy) {
                    if (fullChecksum) {
                        // Summed and copied in one call: the copy reads what the sum brought into the cache.
                        payloadSum = rawSum
                                ? PacketMemory.copyAndSum(inAddress + payloadIndex, hAddress + hb + hdrOut, p)
                                : InternetChecksum.copyAndSum(in, payloadIndex, h, hb + hdrOut, p);
                    } else if (rawCopy) {
                        PacketMemory.copy(inAddress + payloadIndex, hAddress + hb + hdrOut, p);
                    } else {
                        h.setBytes(hb + hdrOut, in, payloadIndex, p);
                    }
                } else if (fullChecksum) {
                    payloadSum = InternetChecksum.sum(in, payloadIndex, p);
                }
                if (rawCopy) {
                    PacketMemory.copy(inAddress + base, hAddress + hb, stripAt);
                    if (stripAt != hdrIn) {
                        PacketMemory.copy(inAddress + base + stripAt + strip, hAddress + hb + stripAt,
                                hdrIn - stripAt - strip);
                    }
                } else {
                    h.setBytes(hb, in, base, stripAt);
                    if (stripAt != hdrIn) {
                        h.setBytes(hb + stripAt, in, base + stripAt + strip, hdrIn - stripAt - strip);
                    }
                }
                fields.write(h, hAddress, hb, i, p, segLength, payloadSum);

                if (toBlock) {
                    hb += segLength + headroom;
                } else if (copy) {
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
            if (toBlock) {
                headers.writerIndex(copyLength);
                block = headers;
                blockStride = headroom + hdrOut + Math.min(gso, payload);
                unreleased = 0;
            }
            success = true;
            return n;
        } finally {
            if (unreleased > 0) {
                headers.release(unreleased);
            }
            if (!success && !toBlock) {
                ReferenceCountUtil.release(pending);
                for (int i = out.size() - 1; i >= start; i--) {
                    ReferenceCountUtil.release(out.remove(i));
                }
            }
        }
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
