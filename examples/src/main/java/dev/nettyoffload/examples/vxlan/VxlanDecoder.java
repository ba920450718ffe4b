package dev.nettyoffload.examples.vxlan;

import dev.nettyoffload.core.packet.EthernetHeader;
import dev.nettyoffload.core.packet.VxlanHeader;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.MessageToMessageDecoder;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.util.List;

/**
 * Decodes VXLAN datagrams (RFC 7348 section 5) into {@link VxlanFrame}s: the inner Ethernet frame as a retained
 * slice of the datagram (no copy), its VNI and the sending VTEP. Put it after the channel's receive handlers
 * (nearest the channel, or after a datagram {@code GroAggregator}).
 * <p>
 * Bad input never raises: a datagram shorter than the VXLAN and Ethernet headers, one without the I flag, or
 * (when a VNI is configured) one with another VNI is released and counted by {@link VxlanDropReason}, with a
 * rate-limited log line. Reserved fields are ignored on receive, as the RFC asks.
 *
 * @see <a href="https://www.rfc-editor.org/rfc/rfc7348#section-5">RFC 7348 section 5</a>
 */
public class VxlanDecoder extends MessageToMessageDecoder<DatagramPacket> {
    /** Accept every VNI. */
    public static final int ANY_VNI = -1;

    private static final InternalLogger logger = InternalLoggerFactory.getInstance(VxlanDecoder.class);

    private final int vni;
    private final DropLog drops = new DropLog(logger, "VxlanDecoder");
    private long framesOut;

    /** A decoder that accepts every VNI. */
    public VxlanDecoder() {
        this(ANY_VNI);
    }

    /** A decoder that accepts only {@code vni} ({@link #ANY_VNI} for all). */
    public VxlanDecoder(int vni) {
        super(DatagramPacket.class);
        if (vni != ANY_VNI && (vni < 0 || vni > VxlanFrame.MAX_VNI)) {
            throw new IllegalArgumentException("vni: " + vni + " (expected: 0-" + VxlanFrame.MAX_VNI + " or -1)");
        }
        this.vni = vni;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, DatagramPacket packet, List<Object> out) {
        ByteBuf in = packet.content();
        int index = in.readerIndex();
        int length = in.readableBytes();
        if (length < VxlanHeader.LENGTH + EthernetHeader.LENGTH) {
            drops.drop(VxlanDropReason.SHORT, length + " bytes from " + packet.sender());
            return;
        }
        if ((in.getUnsignedByte(index) & VxlanHeader.FLAG_I) == 0) {
            drops.drop(VxlanDropReason.NO_VNI_FLAG, "from " + packet.sender());
            return;
        }
        int frameVni = in.getUnsignedMedium(index + 4);
        if (vni != ANY_VNI && frameVni != vni) {
            drops.drop(VxlanDropReason.UNKNOWN_VNI, "VNI " + frameVni + " from " + packet.sender() + ", expected " + vni);
            return;
        }
        framesOut++;
        out.add(new VxlanFrame(in.retainedSlice(index + VxlanHeader.LENGTH, length - VxlanHeader.LENGTH),
                frameVni, packet.sender()));
    }

    /** Frames decoded. */
    public long framesOut() {
        return framesOut;
    }

    /** Datagrams dropped for {@code reason}. */
    public long drops(VxlanDropReason reason) {
        return drops.count(reason);
    }

    DropLog dropLog() {
        return drops;
    }

    /** Writes the 8-byte VXLAN header for {@code vni}: I flag set, reserved fields zero. */
    static void writeHeader(ByteBuf out, int vni) {
        out.ensureWritable(VxlanHeader.LENGTH);
        setHeader(out, out.writerIndex(), vni);
        out.writerIndex(out.writerIndex() + VxlanHeader.LENGTH);
    }

    /** Sets the 8 bytes at {@code index} of {@code out} to the VXLAN header for {@code vni}. */
    static void setHeader(ByteBuf out, int index, int vni) {
        out.setInt(index, VxlanHeader.FLAG_I << 24);
        out.setInt(index + 4, vni << 8);
    }
}
