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
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import io.netty.util.ReferenceCountUtil;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * One side's egress: re-segments merged runs to this side's MTU with the packet segmenter (the engine of
 * {@code PacketGsoEncoder}), puts a VXLAN header in front of every inner frame and writes the outer datagrams to the
 * side's channel, where the datagram {@code GsoEncoder} sends them. With offload on, consecutive frames of equal
 * length to one VTEP (what segmentation produces) leave as one {@link SegmentedDatagramPacket}, that is one USO
 * send; with offload off, every frame is its own {@link DatagramPacket}.
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

    private final VxlanSegment segment;
    private final boolean offload;
    /** Most frames in one outer USO send. */
    private final int maxSegmentsPerSend;
    private final DropLog drops;
    private final PacketSegmenter segmenter = new PacketSegmenter(PacketSegmenterConfig.newBuilder()
            .linkType(LinkType.ETHERNET).checksumMode(ChecksumMode.FULL).build());
    private final PacketLayout scratch = new PacketLayout();
    private final List<Object> frames = new ArrayList<>();
    private final ChannelFutureListener sendListener = this::sent;
    private final Runnable flushTask = this::flush;
    private Channel channel;
    /** Where the flush task runs: the calling event loop, so that {@link #flushScheduled} stays on one thread. */
    private Executor flushExecutor;
    private boolean flushScheduled;

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
        try {
            if (msg instanceof GsoPacket) {
                segmentTo(adjust((GsoPacket) msg), alloc);
            } else {
                ByteBuf frame = (ByteBuf) msg;
                if (frame.readableBytes() - INNER_L2 <= segment.mtu()) {
                    frames.add(frame);
                } else {
                    GsoPacket large = wrapOversize(frame);
                    if (large != null) {
                        segmentTo(large, alloc);
                    }
                }
            }
            if (frames.isEmpty()) {
                return;
            }
            framesOut += frames.size();
            if (vtep != null) {
                write(vtep, alloc, false);
            } else {
                List<InetSocketAddress> remotes = segment.remotes();
                for (int i = 0; i < remotes.size(); i++) {
                    write(remotes.get(i), alloc, i < remotes.size() - 1);
                }
            }
        } finally {
            for (Object f : frames) {
                ReferenceCountUtil.release(f);
            }
            frames.clear();
        }
        if (!flushScheduled) {
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

    private void segmentTo(GsoPacket packet, ByteBufAllocator alloc) {
        if (packet == null) {
            return;
        }
        try {
            segmentsOut += segmenter.segment(packet, alloc, frames);
        } catch (PacketOffloadException e) {
            drops.drop(VxlanDropReason.UNSEGMENTABLE, e.getMessage());
        } finally {
            packet.release();
        }
    }

    /** Writes {@link #frames} to {@code vtep}; retains them first when they are needed again afterwards. */
    private void write(InetSocketAddress vtep, ByteBufAllocator alloc, boolean retain) {
        int maxPayload = UdpLimits.maxPayload(vtep.getAddress());
        int n = frames.size();
        int i = 0;
        while (i < n) {
            int length = ((ByteBuf) frames.get(i)).readableBytes();
            int datagram = length + VxlanHeader.LENGTH;
            int end = i + 1;
            if (offload) {
                // Equal lengths extend the run; a shorter frame may end it (USO's short last segment).
                while (end < n && end - i < maxSegmentsPerSend && (long) (end - i + 1) * datagram <= maxPayload) {
                    int next = ((ByteBuf) frames.get(end)).readableBytes();
                    if (next > length) {
                        break;
                    }
                    end++;
                    if (next < length) {
                        break;
                    }
                }
            }
            int count = end - i;
            CompositeByteBuf payload = alloc.compositeDirectBuffer(2 * count);
            for (int k = i; k < end; k++) {
                ByteBuf header = alloc.directBuffer(VxlanHeader.LENGTH);
                VxlanDecoder.writeHeader(header, segment.vni());
                ByteBuf frame = (ByteBuf) frames.get(k);
                payload.addComponent(true, header);
                payload.addComponent(true, retain ? frame.retainedDuplicate() : frame.retain());
            }
            Object out = count > 1
                    ? new SegmentedDatagramPacket(payload, datagram, vtep, segment.local())
                    : new DatagramPacket(payload, vtep, segment.local());
            outerDatagrams += count;
            outerWrites++;
            channel.write(out).addListener(sendListener);
            i = end;
        }
    }

    private void sent(ChannelFuture future) {
        if (!future.isSuccess()) {
            drops.drop(VxlanDropReason.SEND_FAILED, future.cause());
        }
    }

    private void flush() {
        flushScheduled = false;
        channel.flush();
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
