package dev.nettyoffload.core.packet;

/**
 * VXLAN header layout (RFC 7348 section 5).
 */
public final class VxlanHeader {
    /** Flags, reserved, VNI, reserved. */
    public static final int LENGTH = 8;
    /** The I flag: the VNI is valid; RFC 7348 requires it set. */
    public static final int FLAG_I = 0x08;
    /** IANA UDP port for VXLAN. */
    public static final int DEFAULT_PORT = 4789;

    private VxlanHeader() {
    }
}
