package dev.nettyoffload.core.packet;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

/**
 * One large IP packet plus its segmentation offload metadata, like the gso fields of a Linux skb, VPP's
 * buffer metadata or a {@code virtio_net_hdr}: the L4 payload bytes per segment ({@code segmentSize}), the
 * transport and tunnel, the IPv4 ID mode of each IPv4 header (the tunnel's outer header apart from the inner one,
 * as Linux's {@code SKB_GSO_TCP_FIXEDID} and {@code SKB_GSO_TCP_FIXEDID_INNER}), whether TCP's CWR flag stays on
 * every segment (Linux's {@code SKB_GSO_TCP_ACCECN}) and optionally the expected segment count.
 * <p>
 * The constructor checks the metadata on its own ({@link IllegalArgumentException} naming the parameter);
 * {@link #layout(LinkType)} parses and checks the headers against it once and caches the result
 * ({@link PacketOffloadException}). The cached offsets are relative to the content's reader index; do not
 * change the content after parsing. Like any {@link io.netty.buffer.ByteBufHolder}, the packet owns one
 * reference to its content.
 */
public final class GsoPacket extends DefaultByteBufHolder {
    /** Largest {@code segmentSize}: a segment's length fields are 16 bits. */
    public static final int MAX_SEGMENT_SIZE = 65535;

    private final GsoType gsoType;
    private final TunnelType tunnelType;
    private final int segmentSize;
    private final Ipv4IdMode ipv4IdMode;
    private final Ipv4IdMode outerIpv4IdMode;
    private final boolean cwrOnEverySegment;
    private final int segmentCount;
    private PacketLayout layout;

    /** A packet without tunnel, incrementing IPv4 IDs and no declared segment count. */
    public GsoPacket(ByteBuf content, GsoType gsoType, int segmentSize) {
        this(content, gsoType, TunnelType.NONE, segmentSize, Ipv4IdMode.INCREMENTING, 0);
    }

    /**
     * A packet whose IPv4 headers (inner and outer alike) follow {@code ipv4IdMode} and whose CWR flag, if set,
     * stays on the first segment only.
     *
     * @param content      the packet, starting at the link header of the {@link LinkType} it is used with
     * @param gsoType      the (inner) transport to segment
     * @param tunnelType   the one level of encapsulation, or {@link TunnelType#NONE}
     * @param segmentSize  L4 payload bytes per segment, 1 to {@value #MAX_SEGMENT_SIZE}; the last may be shorter
     * @param ipv4IdMode   how IPv4 IDs change across segments, in every IPv4 header (ignored for IPv6)
     * @param segmentCount the expected number of segments, checked against the payload; 0 when not declared
     */
    public GsoPacket(ByteBuf content, GsoType gsoType, TunnelType tunnelType, int segmentSize, Ipv4IdMode ipv4IdMode,
                     int segmentCount) {
        this(content, gsoType, tunnelType, segmentSize, ipv4IdMode, ipv4IdMode, false, segmentCount);
    }

    /**
     * A packet with all metadata.
     *
     * @param content           the packet, starting at the link header of the {@link LinkType} it is used with
     * @param gsoType           the (inner) transport to segment
     * @param tunnelType        the one level of encapsulation, or {@link TunnelType#NONE}
     * @param segmentSize       L4 payload bytes per segment, 1 to {@value #MAX_SEGMENT_SIZE}; the last may be
     *                          shorter
     * @param ipv4IdMode        how the IPv4 ID of the header in front of the transport (the inner one in a tunnel)
     *                          changes across segments; ignored for IPv6
     * @param outerIpv4IdMode   how the IPv4 ID of a tunnel's outer header changes; ignored without a tunnel or
     *                          with an IPv6 outer header
     * @param cwrOnEverySegment whether a TCP CWR flag stays on every segment (AccECN, where CWR is part of the ACE
     *                          counter) instead of the first only (RFC 3168); must be false for UDP
     * @param segmentCount      the expected number of segments, checked against the payload; 0 when not declared
     */
    public GsoPacket(ByteBuf content, GsoType gsoType, TunnelType tunnelType, int segmentSize, Ipv4IdMode ipv4IdMode,
                     Ipv4IdMode outerIpv4IdMode, boolean cwrOnEverySegment, int segmentCount) {
        super(checkNotNull(content, "content"));
        this.gsoType = checkNotNull(gsoType, "gsoType");
        this.tunnelType = checkNotNull(tunnelType, "tunnelType");
        this.ipv4IdMode = checkNotNull(ipv4IdMode, "ipv4IdMode");
        this.outerIpv4IdMode = checkNotNull(outerIpv4IdMode, "outerIpv4IdMode");
        if (cwrOnEverySegment && gsoType == GsoType.UDP_L4) {
            throw new IllegalArgumentException("cwrOnEverySegment: true for gsoType UDP_L4 (expected: false, CWR is "
                    + "a TCP flag)");
        }
        this.cwrOnEverySegment = cwrOnEverySegment;
        if (segmentSize < 1 || segmentSize > MAX_SEGMENT_SIZE) {
            throw new IllegalArgumentException("segmentSize: " + segmentSize + " (expected: 1.." + MAX_SEGMENT_SIZE + ")");
        }
        if (segmentCount < 0) {
            throw new IllegalArgumentException("segmentCount: " + segmentCount + " (expected: >= 0, 0 = undeclared)");
        }
        this.segmentSize = segmentSize;
        this.segmentCount = segmentCount;
    }

    private static <T> T checkNotNull(T value, String name) {
        if (value == null) {
            throw new IllegalArgumentException(name + ": null");
        }
        return value;
    }

    /** The (inner) transport to segment. */
    public GsoType gsoType() {
        return gsoType;
    }

    /** The encapsulation in front of the transport. */
    public TunnelType tunnelType() {
        return tunnelType;
    }

    /** L4 payload bytes per segment. */
    public int segmentSize() {
        return segmentSize;
    }

    /**
     * How the IPv4 ID of the header in front of the transport changes from segment to segment: the only IPv4
     * header, or the inner one of a tunnel (Linux: {@code SKB_GSO_TCP_FIXEDID}, or {@code SKB_GSO_TCP_FIXEDID_INNER}
     * in a tunnel).
     */
    public Ipv4IdMode ipv4IdMode() {
        return ipv4IdMode;
    }

    /**
     * How the IPv4 ID of a tunnel's outer header changes from segment to segment (Linux:
     * {@code SKB_GSO_TCP_FIXEDID} of an encapsulated packet). Without a tunnel it is not used.
     */
    public Ipv4IdMode outerIpv4IdMode() {
        return outerIpv4IdMode;
    }

    /**
     * Whether TCP's CWR flag, when set, stays on every segment (Linux: {@code SKB_GSO_TCP_ACCECN}, for AccECN
     * where CWR is a bit of the ACE counter) rather than on the first only (RFC 3168, {@code SKB_GSO_TCP_ECN}).
     */
    public boolean cwrOnEverySegment() {
        return cwrOnEverySegment;
    }

    /** The declared segment count, or 0 when not declared. */
    public int segmentCount() {
        return segmentCount;
    }

    /** The layout parsed by an earlier {@link #layout(LinkType)}, or null. */
    public PacketLayout parsedLayout() {
        return layout;
    }

    /**
     * Parses the headers for {@code linkType} (once; later calls with the same link type return the cached
     * layout), checks them against the metadata and returns them.
     *
     * @throws PacketOffloadException if the content was already released, the headers are invalid or contradict
     *         the metadata, or the declared segment count disagrees with the payload
     */
    public PacketLayout layout(LinkType linkType) {
        if (refCnt() <= 0) {
            throw new PacketOffloadException(this + ": the content was already released");
        }
        PacketLayout l = layout;
        if (l != null && l.linkType() == linkType) {
            return l;
        }
        l = new PacketLayout().parse(content(), linkType, tunnelType, gsoType);
        checkSegmentCount(l.payloadLength());
        layout = l;
        return l;
    }

    /** The number of segments for {@code payloadLength} bytes of L4 payload: ceil(payload / segmentSize). */
    public int segmentsFor(int payloadLength) {
        return payloadLength / segmentSize + (payloadLength % segmentSize == 0 ? 0 : 1);
    }

    /** Throws if a declared segment count disagrees with {@code payloadLength}. */
    public void checkSegmentCount(int payloadLength) {
        if (segmentCount != 0 && segmentCount != segmentsFor(payloadLength)) {
            throw new PacketOffloadException("segmentCount " + segmentCount + " disagrees with the payload: "
                    + payloadLength + " bytes / segmentSize " + segmentSize + " = " + segmentsFor(payloadLength)
                    + " segments");
        }
    }

    @Override
    public GsoPacket copy() {
        return replace(content().copy());
    }

    @Override
    public GsoPacket duplicate() {
        return replace(content().duplicate());
    }

    @Override
    public GsoPacket retainedDuplicate() {
        return replace(content().retainedDuplicate());
    }

    @Override
    public GsoPacket replace(ByteBuf content) {
        return new GsoPacket(content, gsoType, tunnelType, segmentSize, ipv4IdMode, outerIpv4IdMode,
                cwrOnEverySegment, segmentCount);
    }

    @Override
    public GsoPacket retain() {
        super.retain();
        return this;
    }

    @Override
    public GsoPacket retain(int increment) {
        super.retain(increment);
        return this;
    }

    @Override
    public GsoPacket touch() {
        super.touch();
        return this;
    }

    @Override
    public GsoPacket touch(Object hint) {
        super.touch(hint);
        return this;
    }

    /** Describes the metadata and the content's length; safe to call on a released packet. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("GsoPacket(").append(gsoType);
        if (tunnelType != TunnelType.NONE) {
            sb.append(" in ").append(tunnelType);
        }
        sb.append(", segmentSize ").append(segmentSize).append(", ").append(ipv4IdMode);
        if (tunnelType != TunnelType.NONE) {
            sb.append(", outer ").append(outerIpv4IdMode);
        }
        if (cwrOnEverySegment) {
            sb.append(", CWR on every segment");
        }
        sb.append(", segmentCount ").append(segmentCount).append(", ");
        // content() throws on a released buffer; a description must not.
        int refCnt = refCnt();
        if (refCnt > 0) {
            sb.append(content().readableBytes()).append(" bytes)");
        } else {
            sb.append("content released, refCnt ").append(refCnt).append(')');
        }
        return sb.toString();
    }
}
