package dev.nettyoffload.examples.vxlan;

import dev.nettyoffload.core.packet.EthernetHeader;
import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.GsoType;
import dev.nettyoffload.core.packet.Ipv4IdMode;
import dev.nettyoffload.core.packet.LinkType;
import dev.nettyoffload.core.packet.PacketLayout;
import dev.nettyoffload.core.packet.PacketOffloadException;
import dev.nettyoffload.core.packet.TunnelType;
import dev.nettyoffload.core.UdpLimits;
import dev.nettyoffload.core.packet.VxlanHeader;
import dev.nettyoffload.gso.ChecksumMode;
import dev.nettyoffload.gso.PacketSegmenter;
import dev.nettyoffload.gso.PacketSegmenterConfig;
import dev.nettyoffload.gso.SegmentBlock;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import io.netty.util.ReferenceCountUtil;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * One side's egress: re-segments merged runs to this side's MTU with the packet segmenter (the engine of
 * {@code PacketGsoEncoder}), puts a VXLAN header in front of every inner frame and writes the outer datagrams to the
 * side's channel, where the datagram {@code GsoEncoder} sends them. The segmenter writes the segments of a run
 * into one buffer, each behind room for its VXLAN header ({@link PacketSegmenter#segmentBlock}), so that with
 * offload on the outer datagrams of a run leave as slices of that buffer, each one {@link SegmentedDatagramPacket}
 * (one USO send) of as many datagrams as the send limits allow; with offload off, every frame is its own
 * {@link DatagramPacket}. A single frame is copied behind its header. No composite buffers: Netty's io_uring
 * channel copies a composite into one buffer before sending it, and a composite of a header and a frame per
 * datagram cost two small allocations per frame.
 * <p>
 * The segmenter is called directly rather than through a {@code PacketGsoEncoder} in the pipeline because the
 * destination VTEP of each frame must travel with it, and {@code PacketGsoEncoder} emits bare frames. Writes are
 * flushed once per event-loop task. Used by the other side's event loop only (the one that reads the frames this
 * egress sends): the writes and flushes it makes are handed to this side's channel by Netty.
 */
final class VxlanEgress {
    /** Ethernet header in front of the inner IP packet; the overlay MTU counts from the IP header. */
    private static final int INNER_L2 = EthernetHeader.LENGTH;
    private static final int IP_PROTOCOL_TCP = 6;
    /**
     * Unflushed bytes that are flushed at once instead of at the end of the loop's task: about half of a full
     * USO send. Tried on io_uring (iperf3, 5 rounds, 1500/1500): a flush per write (one per USO send) took the
     * offload path from 3.06 to 3.20 Gbit/s, but cost the offload-off path 8%, a wakeup per frame; with the
     * threshold the first gain stays (3.23) and the second cost goes.
     */
    private static final int EAGER_FLUSH_BYTES = 32 * 1024;

    private final VxlanSegment segment;
    private final boolean offload;
    /** Most frames in one outer USO send. */
    private final int maxSegmentsPerSend;
    private final DropLog drops;
    private final PacketSegmenter segmenter = new PacketSegmenter(PacketSegmenterConfig.newBuilder()
            .linkType(LinkType.ETHERNET).checksumMode(ChecksumMode.FULL).build());
    private final PacketLayout scratch = new PacketLayout();
    private final ChannelFutureListener sendListener = this::sent;
    private final Runnable flushTask = this::flush;
    private Channel channel;
    /** Where the flush task runs: the calling event loop, so that {@link #flushScheduled} stays on one thread. */
    private Executor flushExecutor;
    private boolean flushScheduled;
    /** Bytes written since the last flush. */
    private int unflushedBytes;

    private long packetsIn;
    private long resegmented;
    private long framesOut;
    private long segmentsOut;
    private long outerDatagrams;
    private long outerWrites;

    VxlanEgress(VxlanSegment segment, boolean offload, int maxSegmentsPerSend, DropLog drops) {
        this.segment = segment;
        this.offload = offload;
        this.maxSegmentsPerSend = maxSegmentsPerSend;
        this.drops = drops;
    }

    /** The channel to write to; flushes are scheduled on its own event loop. */
    void channel(Channel channel) {
        channel(channel, channel.eventLoop());
    }

    /** The channel to write to, and the event loop that calls {@link #send} (it runs the flush task). */
    void channel(Channel channel, Executor flushExecutor) {
        this.channel = channel;
        this.flushExecutor = flushExecutor;
    }

    /**
     * Sends a frame ({@link ByteBuf}) or merged run ({@link GsoPacket}) to {@code vtep}, or to all remote VTEPs of
     * this side when {@code vtep} is null. Takes ownership of {@code msg}.
     */
    void send(Object msg, InetSocketAddress vtep) {
        packetsIn++;
        if (channel == null || !channel.isActive()) {
            drops.drop(VxlanDropReason.SEND_FAILED, "egress channel not active");
            ReferenceCountUtil.release(msg);
            return;
        }
        if (!channel.isWritable()) {
            drops.drop(VxlanDropReason.EGRESS_FULL, segment.name());
            ReferenceCountUtil.release(msg);
            return;
        }
        ByteBufAllocator alloc = channel.alloc();
        SegmentBlock block;
        if (msg instanceof GsoPacket) {
            block = segment(adjust((GsoPacket) msg), alloc);
        } else {
            ByteBuf frame = (ByteBuf) msg;
            block = frame.readableBytes() - INNER_L2 <= segment.mtu()
                    ? encapsulate(frame, alloc) : segment(wrapOversize(frame), alloc);
        }
        if (block == null) {
            return;
        }
        try {
            framesOut += block.count();
            int vni = segment.vni();
            ByteBuf c = block.content();
            for (int k = 0; k < block.count(); k++) {
                VxlanDecoder.setHeader(c, block.slotIndex(k), vni);
            }
            if (vtep != null) {
                write(block, vtep);
            } else {
                List<InetSocketAddress> remotes = segment.remotes();
                for (int i = 0; i < remotes.size(); i++) {
                    write(block, remotes.get(i));
                }
            }
        } finally {
            block.release();
        }
        if (unflushedBytes >= EAGER_FLUSH_BYTES) {
            // Hand a full send's worth over now (a flush wakes the channel's loop) rather than at the end of
            // this loop's task, so that the channel's loop sends while this one goes on reading.
            unflushedBytes = 0;
            channel.flush();
        } else if (!flushScheduled) {
            flushScheduled = true;
            flushExecutor.execute(flushTask);
        }
    }

    /**
     * A merged TCP run whose segments would exceed this side's MTU gets the MSS this side allows; UDP datagram
     * boundaries are the application's and cannot change, so a run of too-large datagrams is dropped (counted).
     * Ownership moves to the returned packet (null when dropped).
     */
    private GsoPacket adjust(GsoPacket packet) {
        PacketLayout layout;
        try {
            layout = packet.layout(LinkType.ETHERNET);
        } catch (PacketOffloadException e) {
            drops.drop(VxlanDropReason.UNSEGMENTABLE, e.getMessage());
            packet.release();
            return null;
        }
        int headers = layout.headerLength() - layout.l3();
        int allowed = segment.mtu() - headers;
        if (packet.segmentSize() <= allowed) {
            return packet;
        }
        if (packet.gsoType() == GsoType.UDP_L4 || allowed < 1) {
            drops.drop(VxlanDropReason.TOO_BIG, packet.segmentSize() + " payload bytes per datagram, MTU " + segment.mtu());
            packet.release();
            return null;
        }
        resegmented++;
        return new GsoPacket(packet.content(), packet.gsoType(), packet.tunnelType(), allowed,
                packet.ipv4IdMode(), packet.outerIpv4IdMode(), packet.cwrOnEverySegment(), 0);
    }

    /** A single TCP segment larger than this side's MTU (from a jumbo side) as a packet to segment; else null. */
    private GsoPacket wrapOversize(ByteBuf frame) {
        try {
            PacketLayout l = scratch.parse(frame, LinkType.ETHERNET, TunnelType.NONE, null);
            if (l.l4Protocol() == IP_PROTOCOL_TCP && l.payloadLength() > 0) {
                int mss = segment.mtu() - (l.headerLength() - l.l3());
                if (mss > 0) {
                    resegmented++;
                    return new GsoPacket(frame, l.l3Version() == 4 ? GsoType.TCPV4 : GsoType.TCPV6,
                            TunnelType.NONE, mss, Ipv4IdMode.INCREMENTING, 0);
                }
            }
        } catch (PacketOffloadException e) {
            // not TCP or UDP: fall through to the drop
        }
        drops.drop(VxlanDropReason.TOO_BIG, (frame.readableBytes() - INNER_L2) + " bytes, MTU " + segment.mtu());
        frame.release();
        return null;
    }

    /**
     * The packet's segments, each behind room for its VXLAN header and back to back, or null when the packet is
     * null or refused (counted). Releases the packet.
     */
    private SegmentBlock segment(GsoPacket packet, ByteBufAllocator alloc) {
        if (packet == null) {
            return null;
        }
        try {
            SegmentBlock block = segmenter.segmentBlock(packet, alloc, VxlanHeader.LENGTH);
            segmentsOut += block.count();
            return block;
        } catch (PacketOffloadException e) {
            drops.drop(VxlanDropReason.UNSEGMENTABLE, e.getMessage());
            return null;
        } finally {
            packet.release();
        }
    }

    /**
     * One frame behind room for its VXLAN header, copied: cheaper than a composite of a header buffer and the
     * frame, which io_uring would copy into one buffer again before sending. Releases the frame.
     */
    private static SegmentBlock encapsulate(ByteBuf frame, ByteBufAllocator alloc) {
        ByteBuf out = null;
        try {
            int length = VxlanHeader.LENGTH + frame.readableBytes();
            out = alloc.directBuffer(length, length);
            out.writerIndex(VxlanHeader.LENGTH).writeBytes(frame, frame.readerIndex(), frame.readableBytes());
            SegmentBlock block = SegmentBlock.of(out, VxlanHeader.LENGTH);
            out = null;
            return block;
        } finally {
            if (out != null) {
                out.release();
            }
            frame.release();
        }
    }

    /**
     * Writes the block's outer datagrams to {@code vtep}: with offload, as few USO sends as the segment and size
     * limits allow; without, one datagram each. Takes references of its own; the caller keeps its reference.
     */
    private void write(SegmentBlock block, InetSocketAddress vtep) {
        int stride = block.stride();
        int perSend = offload
                ? Math.max(1, Math.min(maxSegmentsPerSend, UdpLimits.maxPayload(vtep.getAddress()) / stride)) : 1;
        ByteBuf c = block.content();
        int count = block.count();
        for (int k = 0; k < count; k += perSend) {
            int slots = Math.min(perSend, count - k);
            int from = block.slotIndex(k);
            int to = k + slots == count ? c.writerIndex() : from + slots * stride;
            ByteBuf payload = c.retainedSlice(from, to - from);
            Object out = slots > 1
                    ? new SegmentedDatagramPacket(payload, stride, vtep, segment.local())
                    : new DatagramPacket(payload, vtep, segment.local());
            outerDatagrams += slots;
            outerWrites++;
            channel.write(out).addListener(sendListener);
            unflushedBytes += to - from;
        }
    }

    private void sent(ChannelFuture future) {
        if (!future.isSuccess()) {
            drops.drop(VxlanDropReason.SEND_FAILED, future.cause());
        }
    }

    private void flush() {
        flushScheduled = false;
        if (unflushedBytes > 0) {
            unflushedBytes = 0;
            channel.flush();
        }
    }

    long packetsIn() {
        return packetsIn;
    }

    long resegmented() {
        return resegmented;
    }

    long framesOut() {
        return framesOut;
    }

    long segmentsOut() {
        return segmentsOut;
    }

    long outerDatagrams() {
        return outerDatagrams;
    }

    long outerWrites() {
        return outerWrites;
    }
}
