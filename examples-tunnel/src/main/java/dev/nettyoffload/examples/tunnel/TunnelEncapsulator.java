package dev.nettyoffload.examples.tunnel;

import dev.nettyoffload.core.UdpLimits;
import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.PacketOffloadException;
import dev.nettyoffload.gso.ChecksumMode;
import dev.nettyoffload.gso.PacketSegmenter;
import dev.nettyoffload.gso.PacketSegmenterConfig;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import io.netty.util.ReferenceCountUtil;

import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;

/**
 * The send side, last in the TUN channel's pipeline: each packet read from TUN (a {@link GsoPacket} is first cut
 * by a {@link PacketSegmenter} into packets of its segment size, which the TUN MTU keeps within the tunnel MTU,
 * their TCP/UDP checksums partial or complete per {@link InnerChecksums}) is put behind a {@link TunnelHeader}
 * and written to the UDP channel. With batching on, consecutive datagrams of
 * one size (a shorter one ends the run; at most 64, and few enough that the frame stays below the device's
 * {@code gso_max_size}, see {@link #maxBatchBytes}) are built back to back in one buffer and written as one
 * {@link SegmentedDatagramPacket}, which the UDP channel's {@code GsoEncoder} sends with {@code UDP_SEGMENT}: one
 * system call per run instead of one per packet. Written at {@code channelReadComplete}, flushed with it.
 */
final class TunnelEncapsulator extends ChannelInboundHandlerAdapter {
    private final Channel udp;
    private final InetSocketAddress peer;
    private final boolean batching;
    private final TunnelCipher cipher;
    private final TunnelCounters counters;
    /** The most payload bytes one batch may carry so the kernel keeps it one GSO skb through the device. */
    private final int maxBatchBytes;
    private final PacketSegmenter segmenter;
    /** {@link TunnelHeader#FLAG_PARTIAL_CHECKSUM} on the segments of super-packets, or 0 (COMPLETE). */
    private final int segmentFlags;
    private final List<Object> segments = new ArrayList<>();

    private ByteBuf batch;
    private int batchSegmentSize;
    private int batchCount;
    private int batchMaxCount;
    private boolean batchEnded;

    TunnelEncapsulator(Channel udp, InetSocketAddress peer, boolean batching, TunnelCipher cipher,
                       InnerChecksums.Mode checksums, boolean segmentCopy, TunnelCounters counters) {
        this.udp = udp;
        boolean partial = checksums == InnerChecksums.Mode.PARTIAL;
        // PARTIAL: no payload byte is summed; see InnerChecksums for why the peer may trust such segments.
        this.segmenter = new PacketSegmenter(PacketSegmenterConfig.newBuilder()
                .checksumMode(partial ? ChecksumMode.PARTIAL : ChecksumMode.FULL).copyPayload(segmentCopy).build());
        this.segmentFlags = partial ? TunnelHeader.FLAG_PARTIAL_CHECKSUM : 0;
        this.peer = peer;
        this.batching = batching;
        this.cipher = cipher;
        this.counters = counters;
        this.maxBatchBytes = maxBatchBytes(peer);
    }

    /**
     * The payload bytes of a batch to {@code peer} whose frame stays below the device's {@code gso_max_size}
     * ({@link UdpLimits#maxSegmentedPayload}): a larger batch is cut into single datagrams before the device, and
     * the peer's {@code UDP_GRO} socket then reads it one datagram at a time (46 x 1424 is, 45 x 1424 is not).
     */
    static int maxBatchBytes(InetSocketAddress peer) {
        return UdpLimits.maxSegmentedPayload(peer.getAddress());
    }

    /** Datagrams of {@code size} bytes per batch: at most 64, and at most {@code maxBatchBytes} in all. */
    static int segmentsPerBatch(int size, int maxBatchBytes) {
        // UDP_MAX_SEGMENTS of every USO kernel (128 needs Linux 6.9).
        return Math.max(1, Math.min(UdpLimits.LEGACY_MAX_SEGMENTS, maxBatchBytes / size));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof GsoPacket packet) {
                counters.tunSuperPacketsIn++;
                segments.clear();
                try {
                    int n = segmenter.segment(packet, ctx.alloc(), segments);
                    counters.segmentsCut += n;
                    for (int i = 0; i < n; i++) {
                        send(ctx, (ByteBuf) segments.get(i), segmentFlags);
                    }
                } catch (PacketOffloadException e) {
                    counters.unsegmentable++;
                } finally {
                    for (int i = 0; i < segments.size(); i++) {
                        ReferenceCountUtil.release(segments.get(i));
                    }
                    segments.clear();
                }
            } else if (msg instanceof ByteBuf packet) {
                counters.tunPacketsIn++;
                send(ctx, packet, 0);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        writeBatch();
        udp.flush();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (batch != null) {
            batch.release();
            batch = null;
        }
    }

    private void send(ChannelHandlerContext ctx, ByteBuf inner, int flags) {
        if (!udp.isWritable()) {
            // The socket's queue is over its high-water mark: drop, as a router with a full queue does.
            counters.sendsDroppedUnwritable++;
            return;
        }
        int size = TunnelHeader.datagramLength(inner.readableBytes(), cipher != null);
        if (!batching) {
            ByteBuf datagram = ctx.alloc().directBuffer(size, size);
            if (encapsulate(inner, flags, datagram)) {
                counters.udpSends++;
                udp.write(new DatagramPacket(datagram, peer), udp.voidPromise());
            } else {
                datagram.release();
            }
            return;
        }
        if (batch != null && (batchEnded || size > batchSegmentSize || batchCount == batchMaxCount)) {
            writeBatch();
        }
        if (batch == null) {
            batchMaxCount = segmentsPerBatch(size, maxBatchBytes);
            int capacity = size * batchMaxCount;
            batch = ctx.alloc().directBuffer(capacity, capacity);
            batchSegmentSize = size;
        }
        if (!encapsulate(inner, flags, batch)) {
            return;
        }
        batchCount++;
        if (size < batchSegmentSize) {
            batchEnded = true;
        }
    }

    /** Writes the datagram for {@code inner} at the end of {@code out}; false when sealing failed. */
    private boolean encapsulate(ByteBuf inner, int flags, ByteBuf out) {
        if (cipher == null) {
            out.writeShort(TunnelHeader.MAGIC).writeByte(TunnelHeader.VERSION).writeByte(flags);
            // From the source's side: a segment is a composite (headers, payload slice), whose getBytes copies
            // component by component straight into out; out.writeBytes(composite) would first merge it into a
            // new heap ByteBuffer (CompositeByteBuf.nioBuffer) and copy twice.
            int length = inner.readableBytes();
            int at = out.writerIndex();
            out.ensureWritable(length);
            inner.getBytes(inner.readerIndex(), out, at, length);
            out.writerIndex(at + length);
        } else {
            int mark = out.writerIndex();
            try {
                cipher.seal(inner, flags, out);
            } catch (GeneralSecurityException e) {
                out.writerIndex(mark);
                counters.sealFailures++;
                return false;
            }
        }
        counters.innerPacketsSent++;
        if (flags != 0) {
            counters.partialChecksumsSent++;
        }
        return true;
    }

    private void writeBatch() {
        ByteBuf b = batch;
        if (b == null) {
            return;
        }
        batch = null;
        int count = batchCount;
        batchCount = 0;
        batchEnded = false;
        if (count == 0) {
            b.release();
            return;
        }
        counters.udpSends++;
        if (count == 1) {
            udp.write(new DatagramPacket(b, peer), udp.voidPromise());
        } else {
            counters.udpBatchSends++;
            udp.write(new SegmentedDatagramPacket(b, batchSegmentSize, peer), udp.voidPromise());
        }
    }
}
