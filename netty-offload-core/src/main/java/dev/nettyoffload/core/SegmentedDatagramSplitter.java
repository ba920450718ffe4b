package dev.nettyoffload.core;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;

import java.net.InetSocketAddress;

/**
 * Hands the handlers after it one {@link DatagramPacket} per datagram of each received
 * {@link SegmentedDatagramPacket}: retained slices of the batch's buffer (no copy), with the batch's sender and
 * recipient, in order; then it releases the batch. Everything else passes through untouched.
 * <p>
 * Put it under a codec that reads one packet per datagram (Netty's QUIC codec: a QUIC packet with a short
 * header has no length field) on a channel whose reader delivers kernel batches
 * ({@link DatagramReader#deliversBatches()}): the codec then takes a whole batch per read and flushes once, at
 * the read-complete that follows it. {@code QuicUso} installs it. Stateless, so {@link #INSTANCE} is shared.
 */
@ChannelHandler.Sharable
public final class SegmentedDatagramSplitter extends ChannelInboundHandlerAdapter {
    /** The shared instance. */
    public static final SegmentedDatagramSplitter INSTANCE = new SegmentedDatagramSplitter();

    private SegmentedDatagramSplitter() {
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof SegmentedDatagramPacket)) {
            ctx.fireChannelRead(msg);
            return;
        }
        SegmentedDatagramPacket batch = (SegmentedDatagramPacket) msg;
        ByteBuf content = batch.content();
        int segmentSize = batch.segmentSize();
        int length = content.readableBytes();
        if (segmentSize <= 0 || length <= segmentSize) {
            // One datagram (or a size the kernel would never report): as a plain packet, same buffer.
            ctx.fireChannelRead(new DatagramPacket(content, batch.recipient(), batch.sender()));
            return;
        }
        InetSocketAddress recipient = batch.recipient();
        InetSocketAddress sender = batch.sender();
        int index = content.readerIndex();
        int end = index + length;
        try {
            while (index < end) {
                int n = Math.min(segmentSize, end - index);
                ctx.fireChannelRead(new DatagramPacket(content.retainedSlice(index, n), recipient, sender));
                index += n;
            }
        } finally {
            batch.release();
        }
    }

    /** Datagrams in {@code batch}: its length over its segment size, rounded up (1 for a plain datagram). */
    public static int segmentCount(DatagramPacket batch) {
        int length = batch.content().readableBytes();
        if (!(batch instanceof SegmentedDatagramPacket)) {
            return 1;
        }
        int size = ((SegmentedDatagramPacket) batch).segmentSize();
        return size <= 0 || length <= size ? 1 : (length + size - 1) / size;
    }
}
