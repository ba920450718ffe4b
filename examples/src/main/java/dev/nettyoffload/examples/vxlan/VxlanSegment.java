package dev.nettyoffload.examples.vxlan;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * One side of the gateway: the local VTEP address the gateway binds, the segment's VNI, its overlay MTU (the
 * largest inner IP packet its VTEPs accept) and the remote VTEPs that get flooded frames (broadcast, multicast,
 * unknown destination), like the default entry of a Linux vxlan device's forwarding database.
 */
public final class VxlanSegment {
    private final String name;
    private final InetSocketAddress local;
    private final int vni;
    private final int mtu;
    private final List<InetSocketAddress> remotes;

    public VxlanSegment(String name, InetSocketAddress local, int vni, int mtu, List<InetSocketAddress> remotes) {
        if (name == null || local == null || remotes == null) {
            throw new IllegalArgumentException("name, local and remotes must not be null");
        }
        if (vni < 0 || vni > VxlanFrame.MAX_VNI) {
            throw new IllegalArgumentException("vni: " + vni + " (expected: 0-" + VxlanFrame.MAX_VNI + ")");
        }
        if (mtu < 576 || mtu > 65535) {
            throw new IllegalArgumentException("mtu: " + mtu + " (expected: 576-65535)");
        }
        this.name = name;
        this.local = local;
        this.vni = vni;
        this.mtu = mtu;
        this.remotes = List.copyOf(remotes);
    }

    public String name() {
        return name;
    }

    public InetSocketAddress local() {
        return local;
    }

    public int vni() {
        return vni;
    }

    /** The overlay MTU: largest inner IP packet (without the inner Ethernet header). */
    public int mtu() {
        return mtu;
    }

    public List<InetSocketAddress> remotes() {
        return remotes;
    }

    @Override
    public String toString() {
        return name + "(" + local + ", VNI " + vni + ", MTU " + mtu + ", remotes " + remotes + ")";
    }
}
