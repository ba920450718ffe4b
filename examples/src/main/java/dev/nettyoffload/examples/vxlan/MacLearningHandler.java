package dev.nettyoffload.examples.vxlan;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

/**
 * Learns each {@link VxlanFrame}'s source MAC (side, sending VTEP) and passes the bare Ethernet frame on, so that
 * a {@code PacketGroAggregator} with {@code LinkType.ETHERNET} can coalesce it: learning needs the outer sender, which
 * coalescing discards.
 */
final class MacLearningHandler extends ChannelInboundHandlerAdapter {
    private final VxlanGateway gateway;
    private final int side;

    MacLearningHandler(VxlanGateway gateway, int side) {
        this.gateway = gateway;
        this.side = side;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof VxlanFrame)) {
            gateway.drops(side).drop(VxlanDropReason.UNEXPECTED_MESSAGE, msg.getClass().getSimpleName());
            ReferenceCountUtil.release(msg);
            return;
        }
        VxlanFrame frame = (VxlanFrame) msg;
        ByteBuf content = frame.content();
        long source = MacTable.mac(content, content.readerIndex() + 6);
        if (MacTable.isGroup(source)) {
            gateway.drops(side).drop(VxlanDropReason.BAD_SOURCE_MAC, Long.toHexString(source));
            frame.release();
            return;
        }
        gateway.macTable().learn(source, side, frame.remote(), gateway.vtepPort(side));
        gateway.countFrameIn(side);
        // The frame's one reference moves on with its content.
        ctx.fireChannelRead(content);
    }
}
