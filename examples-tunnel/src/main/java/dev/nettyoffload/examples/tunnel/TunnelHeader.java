package dev.nettyoffload.examples.tunnel;

/**
 * The tunnel's wire format: one inner IP packet per UDP datagram, behind a 4-byte header.
 * <pre>
 *  0  u16  magic   0x4E4F ("NO")
 *  2  u8   version 1
 *  3  u8   flags   bit 0: sealed with ChaCha20-Poly1305
 *                  bit 1: the inner TCP/UDP checksum is partial (the folded pseudo-header sum, as Linux's
 *                         CHECKSUM_PARTIAL): the sender took the packet from a TSO/USO super-packet and did not
 *                         compute it; see {@link InnerChecksums}
 *  plain:  the inner packet
 *  sealed: u64 counter (the nonce's last 8 bytes), ciphertext of the inner packet, 16-byte tag;
 *          the 12 header bytes are the associated data
 * </pre>
 */
final class TunnelHeader {
    static final int MAGIC = 0x4E4F;
    static final int VERSION = 1;
    static final int FLAG_SEALED = 1;
    static final int FLAG_PARTIAL_CHECKSUM = 2;
    /** Every flag this version knows; a datagram with another is not ours. */
    static final int FLAGS_KNOWN = FLAG_SEALED | FLAG_PARTIAL_CHECKSUM;
    /** Bytes in front of a plain inner packet. */
    static final int LENGTH = 4;
    /** Bytes in front of a sealed inner packet: the header and the counter. */
    static final int SEALED_LENGTH = LENGTH + 8;
    /** The Poly1305 tag after a sealed packet. */
    static final int TAG_LENGTH = 16;
    /** Smallest inner packet: an IPv4 header. */
    static final int MIN_INNER_LENGTH = 20;

    private TunnelHeader() {
    }

    /** The datagram bytes that carry an inner packet of {@code innerLength} bytes. */
    static int datagramLength(int innerLength, boolean sealed) {
        return innerLength + (sealed ? SEALED_LENGTH + TAG_LENGTH : LENGTH);
    }
}
