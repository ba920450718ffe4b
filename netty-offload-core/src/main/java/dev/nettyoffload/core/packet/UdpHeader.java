package dev.nettyoffload.core.packet;

/**
 * UDP header layout (RFC 768).
 */
public final class UdpHeader {
    /** Header length. */
    public static final int LENGTH = 8;
    /** Offset of the 16-bit length. */
    public static final int LENGTH_OFFSET = 4;
    /** Offset of the 16-bit checksum. */
    public static final int CHECKSUM_OFFSET = 6;
    /** A computed checksum of zero is sent as all ones (RFC 768; RFC 8200 section 8.1). */
    public static final int ZERO_CHECKSUM_REPLACEMENT = 0xFFFF;

    private UdpHeader() {
    }
}
