package dev.nettyoffload.examples.vxlan;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

import java.net.InetSocketAddress;

/**
 * One inner Ethernet frame of a VXLAN datagram with its VNI and the outer addresses: what {@link VxlanDecoder}
 * emits and {@link VxlanEncoder} accepts. Owns one reference to its content.
 */
public final class VxlanFrame extends DefaultByteBufHolder {
    /** Largest VNI: 24 bits. */
    public static final int MAX_VNI = 0xFFFFFF;

    private final int vni;
    private final InetSocketAddress remote;

    /**
     * @param frame  the inner Ethernet frame, starting at the destination MAC
     * @param vni    the VXLAN network identifier, 0 to {@value #MAX_VNI}
     * @param remote the remote VTEP: the sender of a decoded frame, the recipient of one to encode
     */
    public VxlanFrame(ByteBuf frame, int vni, InetSocketAddress remote) {
        super(frame);
        if (vni < 0 || vni > MAX_VNI) {
            throw new IllegalArgumentException("vni: " + vni + " (expected: 0-" + MAX_VNI + ")");
        }
        if (remote == null) {
            throw new IllegalArgumentException("remote: null");
        }
        this.vni = vni;
        this.remote = remote;
    }

    public int vni() {
        return vni;
    }

    public InetSocketAddress remote() {
        return remote;
    }

    @Override
    public VxlanFrame replace(ByteBuf content) {
        return new VxlanFrame(content, vni, remote);
    }

    @Override
    public VxlanFrame retain() {
        super.retain();
        return this;
    }

    @Override
    public VxlanFrame retain(int increment) {
        super.retain(increment);
        return this;
    }

    @Override
    public VxlanFrame touch() {
        super.touch();
        return this;
    }

    @Override
    public VxlanFrame touch(Object hint) {
        super.touch(hint);
        return this;
    }

    @Override
    public String toString() {
        return "VxlanFrame(vni " + vni + ", remote " + remote + ", " + content().readableBytes() + " bytes)";
    }
}
