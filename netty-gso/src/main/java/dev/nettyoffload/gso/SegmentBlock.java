package dev.nettyoffload.gso;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

/**
 * The segments of one packet in one buffer, each behind a headroom the caller fills, back to back: what
 * {@link PacketSegmenter#segmentBlock} returns. Slot {@code k} (0 to {@link #count()} - 1) is the
 * {@link #stride()} bytes at {@code k * stride}, the last one possibly shorter: {@link #headroom()} bytes left for
 * the caller, then the segment from its link header. The content's readable bytes are all slots, so that a
 * {@code SegmentedDatagramPacket} of the content (or of a slice of whole slots) with segment size {@code stride}
 * sends one datagram per slot: a tunnel endpoint writes its encapsulation header into each headroom and sends
 * the lot as one USO send, without a composite or a copy per datagram. Release it once.
 */
public final class SegmentBlock extends DefaultByteBufHolder {
    private final int headroom;
    private final int stride;
    private final int count;

    SegmentBlock(ByteBuf content, int headroom, int stride, int count) {
        super(content);
        this.headroom = headroom;
        this.stride = stride;
        this.count = count;
    }

    /**
     * A block of one slot: {@code content}'s readable bytes are {@code headroom} bytes and then one packet, for
     * a caller that sends single packets and segmented ones the same way. Takes over {@code content}.
     */
    public static SegmentBlock of(ByteBuf content, int headroom) {
        if (content == null) {
            throw new IllegalArgumentException("content: null");
        }
        if (headroom < 0 || headroom > content.readableBytes()) {
            throw new IllegalArgumentException("headroom: " + headroom + " (expected: 0.." + content.readableBytes()
                    + ")");
        }
        return new SegmentBlock(content, headroom, content.readableBytes(), 1);
    }

    /** Bytes in front of each segment, not written by the segmenter. */
    public int headroom() {
        return headroom;
    }

    /** Bytes from one slot to the next: the headroom plus a full segment. */
    public int stride() {
        return stride;
    }

    /** Segments (slots) in the block. */
    public int count() {
        return count;
    }

    /** Index in the content of slot {@code k}'s first byte (its headroom). */
    public int slotIndex(int k) {
        if (k < 0 || k >= count) {
            throw new IndexOutOfBoundsException("slot " + k + " of " + count);
        }
        return content().readerIndex() + k * stride;
    }

    @Override
    public SegmentBlock replace(ByteBuf content) {
        return new SegmentBlock(content, headroom, stride, count);
    }

    @Override
    public SegmentBlock retain() {
        super.retain();
        return this;
    }

    @Override
    public SegmentBlock retain(int increment) {
        super.retain(increment);
        return this;
    }

    @Override
    public SegmentBlock touch() {
        super.touch();
        return this;
    }

    @Override
    public SegmentBlock touch(Object hint) {
        super.touch(hint);
        return this;
    }

    @Override
    public String toString() {
        // content() would throw on a released block; say so instead.
        return "SegmentBlock(" + count + " slots, stride " + stride + ", headroom " + headroom
                + (refCnt() > 0 ? ", " + content().readableBytes() + " bytes)" : ", released)");
    }
}
