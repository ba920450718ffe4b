package dev.nettyoffload.gro;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import io.netty.util.ReferenceCountUtil;

import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/** Test sink after a {@link GroAggregator}: keeps every received byte in order and checks each batch's shape. */
final class BatchCollector extends ChannelInboundHandlerAdapter {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final List<String> problems = new ArrayList<>();
    private long messages;
    private long batches;
    private long datagrams;
    private long maxSegments;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (!(msg instanceof DatagramPacket)) {
                problems.add("unexpected message " + msg);
                return;
            }
            DatagramPacket p = (DatagramPacket) msg;
            ByteBuf c = p.content();
            int length = c.readableBytes();
            byte[] a = new byte[length];
            c.getBytes(c.readerIndex(), a);
            InetSocketAddress recipient = p.recipient();
            if (p.sender() == null || recipient == null) {
                problems.add("missing address " + p);
            }
            synchronized (this) {
                bytes.writeBytes(a);
                messages++;
                if (msg instanceof SegmentedDatagramPacket) {
                    int seg = ((SegmentedDatagramPacket) msg).segmentSize();
                    int segments = (length + seg - 1) / seg;
                    if (segments < 2 || segments > GroConfig.DEFAULT_MAX_SEGMENTS_PER_BATCH || length > 65527) {
                        problems.add("bad batch: " + length + " bytes in segments of " + seg);
                    }
                    batches++;
                    datagrams += segments;
                    maxSegments = Math.max(maxSegments, segments);
                } else {
                    datagrams++;
                }
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    synchronized int size() {
        return bytes.size();
    }

    synchronized byte[] bytes() {
        return bytes.toByteArray();
    }

    synchronized List<String> problems() {
        return new ArrayList<>(problems);
    }

    synchronized long messages() {
        return messages;
    }

    synchronized long batches() {
        return batches;
    }

    synchronized long datagrams() {
        return datagrams;
    }

    synchronized long maxSegments() {
        return maxSegments;
    }
}
