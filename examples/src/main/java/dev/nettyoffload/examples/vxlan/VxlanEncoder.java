package dev.nettyoffload.examples.vxlan;

import dev.nettyoffload.core.packet.VxlanHeader;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.MessageToMessageEncoder;

import java.util.List;

/**
 * Encodes a {@link VxlanFrame} into one VXLAN datagram to its remote VTEP: an 8-byte header (I flag, VNI) in
 * front of the frame, as a two-component composite so the frame is not copied. Stateless, hence
 * {@link #INSTANCE}. The gateway's egress path builds USO batches of such datagrams itself
 * ({@link VxlanEgress}).
 *
 * @see <a href="https://www.rfc-editor.org/rfc/rfc7348#section-5">RFC 7348 section 5</a>
 */
@Sharable
public final class VxlanEncoder extends MessageToMessageEncoder<VxlanFrame> {
    public static final VxlanEncoder INSTANCE = new VxlanEncoder();

    private VxlanEncoder() {
        super(VxlanFrame.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, VxlanFrame frame, List<Object> out) {
        CompositeByteBuf datagram = ctx.alloc().compositeDirectBuffer(2);
        ByteBuf header = ctx.alloc().directBuffer(VxlanHeader.LENGTH);
        VxlanDecoder.writeHeader(header, frame.vni());
        datagram.addComponent(true, header);
        datagram.addComponent(true, frame.content().retain());
        out.add(new DatagramPacket(datagram, frame.remote()));
    }
}
