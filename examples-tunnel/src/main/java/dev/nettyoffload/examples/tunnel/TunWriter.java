package dev.nettyoffload.examples.tunnel;

import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.tun.TunChannel;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Last in the UDP channel's pipeline: writes each inner packet ({@link ByteBuf}) or merged super-packet
 * ({@link GsoPacket}, from {@code PacketGroAggregator}) to the TUN channel, and flushes at
 * {@code channelReadComplete}. The TUN channel writes a super-packet whole with its {@code virtio_net_hdr}, so
 * the kernel receives it as its own GRO would have built it.
 */
final class TunWriter extends ChannelInboundHandlerAdapter {
    private final TunChannel tun;
    private final TunnelCounters counters;

    TunWriter(TunChannel tun, TunnelCounters counters) {
        this.tun = tun;
        this.counters = counters;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof GsoPacket) {
            counters.tunSuperPacketWrites++;
        }
        counters.tunWrites++;
        tun.write(msg, tun.voidPromise());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        tun.flush();
    }
}
