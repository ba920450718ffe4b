package dev.nettyoffload.core.packet;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

/**
 * One large IP packet plus its segmentation offload metadata, like the gso fields of a Linux skb, VPP's
 * buffer metadata or a {@code virtio_net_hdr}: the L4 payload bytes per segment ({@code segmentSize}), the
 * transport and tunnel, the IPv4 ID mode and optionally the expected segment count.
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
    private final int segmentCount;
    private PacketLayout layout;

    /** A packet without tunnel, incrementing IPv4 IDs and no declared segment count. */
    public GsoPacket(ByteBuf content, GsoType gsoType, int segmentSize) {
        this(content, gsoType, TunnelType.NONE, segmentSize, Ipv4IdMode.INCREMENTING, 0);
    }

    /**
     * A packet with all metadata.
     *
     * @param content      the packet, starting at the link header of the {@link LinkType} it is used with
     * @param gsoType      the (inner) transport to segment
     * @param tunnelType   the one level of encapsulation, or {@link TunnelType#NONE}
     * @param segmentSize      L4 payload bytes per segment, 1 to {@value #MAX_SEGMENT_SIZE}; the last may be shorter
     * @param ipv4IdMode   how IPv4 IDs change across segments (ignored for IPv6)
     * @param segmentCount the expected number of segments, checked against the payload; 0 when not declared
     */
    public GsoPacket(ByteBuf content, GsoType gsoType, TunnelType tunnelType, int segmentSize, Ipv4IdMode ipv4IdMode,
                     int segmentCount) {
        super(checkNotNull(content, "content"));
        this.gsoType = checkNotNull(gsoType, "gsoType");
        this.tunnelType = checkNotNull(tunnelType, "tunnelType");
        this.ipv4IdMode = checkNotNull(ipv4IdMode, "ipv4IdMode");
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

    /** How IPv4 IDs change from segment to segment. */
    public Ipv4IdMode ipv4IdMode() {
        return ipv4IdMode;
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
     * @throws PacketOffloadException if the headers are invalid or contradict the metadata, or the declared
     *         segment count disagrees with the payload
     */
    public PacketLayout layout(LinkType linkType) {
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
        return new GsoPacket(content, gsoType, tunnelType, segmentSize, ipv4IdMode, segmentCount);
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

    @Override
    public String toString() {
        return "GsoPacket(" + gsoType + (tunnelType == TunnelType.NONE ? "" : " in " + tunnelType) + ", segmentSize "
                + segmentSize + ", " + ipv4IdMode + ", segmentCount " + segmentCount + ", " + content().readableBytes()
                + " bytes)";
    }
}
