package dev.nettyoffload.core.packet;

/**
 * IPv6 header layout (RFC 8200) and the jumbo payload option (RFC 2675).
 */
public final class Ipv6Header {
    /** Fixed header length. */
    public static final int LENGTH = 40;
    /** Offset of the 16-bit payload length. */
    public static final int PAYLOAD_LENGTH_OFFSET = 4;
    /** Offset of the next-header byte. */
    public static final int NEXT_HEADER_OFFSET = 6;
    /** Offset of the source address. */
    public static final int SOURCE_OFFSET = 8;
    /** Offset of the destination address. */
    public static final int DESTINATION_OFFSET = 24;
    /** Length of an IPv6 address. */
    public static final int ADDRESS_LENGTH = 16;
    /** Largest payload length without a jumbogram. */
    public static final int MAX_PAYLOAD_LENGTH = 65535;
    /** Option type of the jumbo payload option (RFC 2675 section 2). */
    public static final int OPTION_JUMBO = 0xC2;
    /** Data length of the jumbo payload option. */
    public static final int OPTION_JUMBO_DATA_LENGTH = 4;
    /** Option type of Pad1. */
    public static final int OPTION_PAD1 = 0;
    /** Option type of PadN. */
    public static final int OPTION_PADN = 1;
    /** Routing type 0 (deprecated by RFC 5095): the final destination is the last address. */
    public static final int ROUTING_TYPE_0 = 0;
    /** Routing type 2 (RFC 6275): the final destination is the home address. */
    public static final int ROUTING_TYPE_2 = 2;
    /** Routing type 4, the Segment Routing Header (RFC 8754): the final destination is segment 0. */
    public static final int ROUTING_TYPE_SRH = 4;

    private Ipv6Header() {
    }
}
