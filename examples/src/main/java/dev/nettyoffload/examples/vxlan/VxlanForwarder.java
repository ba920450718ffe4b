package dev.nettyoffload.examples.vxlan;

import dev.nettyoffload.core.packet.GsoPacket;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

/**
 * The bridge decision, last in an ingress pipeline: a frame ({@link ByteBuf}) or merged run ({@link GsoPacket})
 * from one side goes to the other side's learned VTEP, or is flooded to the other side's remote VTEPs when its
 * destination is a group address or unknown; a destination learned on the same side is dropped.
 */
final class VxlanForwarder extends ChannelInboundHandlerAdapter {
    private final VxlanGateway gateway;
    private final int side;

    VxlanForwarder(VxlanGateway gateway, int side) {
        this.gateway = gateway;
        this.side = side;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame;
        if (msg instanceof GsoPacket) {
            frame = ((GsoPacket) msg).content();
        } else if (msg instanceof ByteBuf) {
            frame = (ByteBuf) msg;
        } else {
            gateway.drops(side).drop(VxlanDropReason.UNEXPECTED_MESSAGE, msg.getClass().getSimpleName());
            ReferenceCountUtil.release(msg);
            return;
        }
        long destination = MacTable.mac(frame, frame.readerIndex());
        MacTable.Entry entry = MacTable.isGroup(destination) ? null : gateway.macTable().lookup(destination);
        int egress = 1 - side;
        if (entry == null) {
            gateway.egress(egress).send(msg, null);
        } else if (entry.side == side) {
            gateway.drops(side).drop(VxlanDropReason.SAME_SIDE, Long.toHexString(destination));
            ReferenceCountUtil.release(msg);
        } else {
            gateway.egress(egress).send(msg, entry.vtep);
        }
    }

    /** A failure in this side's pipeline is counted and logged (rate-limited); the gateway keeps forwarding. */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        gateway.drops(side).drop(VxlanDropReason.UNEXPECTED_MESSAGE, cause);
    }
}
