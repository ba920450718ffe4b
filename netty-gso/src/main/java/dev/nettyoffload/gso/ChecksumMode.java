package dev.nettyoffload.gso;

/**
 * How {@link PacketSegmenter} fills the TCP/UDP checksums of the segments it writes.
 */
public enum ChecksumMode {
    /** Every checksum is complete: the segments are ready for the wire. */
    FULL,
    /**
     * The (inner) TCP/UDP checksum field holds only the folded pseudo-header sum, not complemented, like Linux's
     * {@code CHECKSUM_PARTIAL} and {@code VIRTIO_NET_HDR_F_NEEDS_CSUM}: the egress must add the sum of the L4
     * header and payload and complement it. IPv4 header checksums are always complete, and outer tunnel
     * checksums are computed so that they are right once the inner checksum is completed (local checksum
     * offload, Linux {@code Documentation/networking/checksum-offloads.rst}).
     */
    PARTIAL
}
