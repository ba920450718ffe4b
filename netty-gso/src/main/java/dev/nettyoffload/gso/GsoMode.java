package dev.nettyoffload.gso;

/** Which path {@link GsoEncoder} uses to cut a large datagram write into datagrams. */
public enum GsoMode {
    /**
     * The kernel (UDP_SEGMENT) when the channel's transport and the kernel support it, else software.
     * A kernel refusal switches the channel to software for good.
     */
    AUTO,
    /**
     * Always hand {@code SegmentedDatagramPacket}s down, without probing. For channels known to support them
     * (a custom transport, or a test); refused on NIO, which would send one oversized datagram instead.
     * A kernel refusal still falls back to software.
     */
    KERNEL,
    /** Always cut in software: retained slices sent as plain datagrams. */
    SOFTWARE
}
