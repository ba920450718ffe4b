package dev.nettyoffload.core.packet;

/**
 * GRE header layout (RFC 2784 with the key and sequence extensions of RFC 2890).
 */
public final class GreHeader {
    /** Flags/version word and protocol type. */
    public static final int BASE_LENGTH = 4;
    /** Offset of the protocol type. */
    public static final int PROTOCOL_OFFSET = 2;
    /** Offset of the checksum when the C bit is set (followed by 16 reserved bits). */
    public static final int CHECKSUM_OFFSET = 4;
    /** Checksum present. */
    public static final int FLAG_C = 0x8000;
    /** Routing present (RFC 1701, deprecated by RFC 2784). */
    public static final int FLAG_R = 0x4000;
    /** Key present (RFC 2890). */
    public static final int FLAG_K = 0x2000;
    /** Sequence number present (RFC 2890). */
    public static final int FLAG_S = 0x1000;
    /** Version bits; only version 0 is GRE. */
    public static final int VERSION_MASK = 0x0007;

    private GreHeader() {
    }
}
