package dev.nettyoffload.core.packet;

/**
 * IPv4 header layout (RFC 791): field offsets from the start of the header and flag masks.
 */
public final class Ipv4Header {
    /** Header length without options (IHL 5). */
    public static final int MIN_LENGTH = 20;
    /** Header length with the most options (IHL 15). */
    public static final int MAX_LENGTH = 60;
    /** Offset of the 16-bit total length. */
    public static final int TOTAL_LENGTH_OFFSET = 2;
    /** Offset of the 16-bit identification. */
    public static final int ID_OFFSET = 4;
    /** Offset of the 16-bit flags and fragment offset. */
    public static final int FRAGMENT_OFFSET = 6;
    /** Offset of the protocol byte. */
    public static final int PROTOCOL_OFFSET = 9;
    /** Offset of the 16-bit header checksum. */
    public static final int CHECKSUM_OFFSET = 10;
    /** Offset of the source address. */
    public static final int SOURCE_OFFSET = 12;
    /** Offset of the destination address. */
    public static final int DESTINATION_OFFSET = 16;
    /** More Fragments flag in the flags/fragment-offset word. */
    public static final int MORE_FRAGMENTS = 0x2000;
    /** Fragment offset bits in the flags/fragment-offset word. */
    public static final int FRAGMENT_OFFSET_MASK = 0x1FFF;
    /** Largest total length. */
    public static final int MAX_TOTAL_LENGTH = 65535;

    private Ipv4Header() {
    }
}
