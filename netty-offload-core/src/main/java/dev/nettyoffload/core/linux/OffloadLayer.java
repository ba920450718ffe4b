package dev.nettyoffload.core.linux;

/** Where large units are cut into packets on send, or packets merged on receive. */
public enum OffloadLayer {
    /** The network device (TSO, USO, LRO, hardware GRO). */
    NIC("NIC"),
    /** The kernel (GSO before the driver, GRO after it, UDP_GRO at the socket). */
    KERNEL("kernel"),
    /** This library, in the Netty pipeline (GsoEncoder or GroAggregator). */
    SOFTWARE("software (netty-offload)"),
    /** Nobody: the packets stay as they are (e.g. loopback carries large packets whole). */
    NONE("none"),
    /** Not known, because the device's features or the route could not be read. */
    UNKNOWN("unknown");

    private final String displayName;

    OffloadLayer(String displayName) {
        this.displayName = displayName;
    }

    @Override
    public String toString() {
        return displayName;
    }
}
