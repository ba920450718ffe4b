package dev.nettyoffload.gro;

/**
 * What the TCP/UDP checksum of a merged packet holds, like the kernel's {@code CHECKSUM_NONE} versus
 * {@code CHECKSUM_PARTIAL} for a GRO packet that is forwarded.
 */
public enum MergedChecksum {
    /** The complete checksum: the merged packet is valid on its own. */
    COMPLETE,
    /**
     * The folded pseudo-header sum only, to be completed by whoever segments or sends the packet (checksum
     * start at the L4 header, as {@code virtio_net_hdr}'s {@code csum_start}); outer checksums are complete.
     */
    PARTIAL
}
