package dev.nettyoffload.gso;

import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.PacketOffloadException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.EncoderException;
import io.netty.handler.codec.MessageToMessageEncoder;

import java.util.List;

/**
 * Cuts each {@link GsoPacket} (one large raw IP packet with offload metadata) into the packets a NIC doing
 * TSO/USO would put on the wire, plain {@link ByteBuf}s in wire order, with a {@link PacketSegmenter}. Anything
 * else passes through untouched.
 * <p>
 * On a channel that also has a {@link GsoEncoder}, put this handler after it, further from the channel:
 * <pre>{@code
 * pipeline.addLast(new GsoEncoder(), new PacketGsoEncoder());
 * }</pre>
 * Its segments then still pass through {@code GsoEncoder}, which keeps them in order behind a held kernel send
 * and spaces them when pacing is on.
 * <p>
 * The {@code GsoPacket} is released once segmented (each segment holds its own reference to the payload), and
 * the write's promise completes when every segment is written. A packet the segmenter refuses is released and
 * fails its promise with the {@link PacketOffloadException} (so does a packet whose content was already
 * released); a packet that yields no segment completes its promise at once.
 * <p>
 * Not {@code @Sharable}: the segmenter reuses scratch state and the counters belong to one channel.
 *
 * @see <a href="https://docs.kernel.org/networking/segmentation-offloads.html">Segmentation Offloads</a>
 */
public class PacketGsoEncoder extends MessageToMessageEncoder<GsoPacket> {
    private final PacketSegmenter segmenter;
    private final PacketGsoCounters counters = new PacketGsoCounters();
    /** Set by {@link #encode} when the segmenter added nothing, so that {@link #write} completes the promise. */
    private boolean emptyResult;

    /** An encoder with {@link PacketSegmenterConfig#DEFAULT}. */
    public PacketGsoEncoder() {
        this(PacketSegmenterConfig.DEFAULT);
    }

    /** An encoder whose segmenter uses {@code config}. */
    public PacketGsoEncoder(PacketSegmenterConfig config) {
        super(GsoPacket.class);
        if (config == null) {
            throw new IllegalArgumentException("config: null");
        }
        this.segmenter = new PacketSegmenter(config);
    }

    /** The segmenter's configuration. */
    public PacketSegmenterConfig config() {
        return segmenter.config();
    }

    /** What this encoder did so far. */
    public PacketGsoCounters counters() {
        return counters;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
        if (msg instanceof GsoPacket && ((GsoPacket) msg).refCnt() <= 0) {
            // MessageToMessageEncoder would release it once more and report only that ("refCnt: 0, decrement:
            // 1"); there is nothing to release, so fail the write with what went wrong.
            counters.refused();
            promise.setFailure(new PacketOffloadException(msg + ": the content was already released"));
            return;
        }
        try {
            super.write(ctx, msg, promise);
        } catch (EncoderException e) {
            if (!emptyResult) {
                throw e;
            }
            // MessageToMessageEncoder refuses an empty result after releasing the packet; nothing is left to send.
            emptyResult = false;
            promise.trySuccess();
        }
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, GsoPacket packet, List<Object> out) {
        int n;
        try {
            n = segmenter.segment(packet, ctx.alloc(), out);
        } catch (PacketOffloadException e) {
            counters.refused();
            throw e;
        } catch (RuntimeException e) {
            // Anything else is still this packet's fault: it fails this write rather than the pipeline.
            counters.refused();
            throw new GsoException("cannot segment " + packet + ": " + e, e);
        }
        counters.segmented(n);
        emptyResult = n == 0;
    }
}
