package dev.nettyoffload.core.packet;

/**
 * TCP header layout (RFC 9293) and flag bits, including ECE/CWR (RFC 3168).
 */
public final class TcpHeader {
    /** Header length without options. */
    public static final int MIN_LENGTH = 20;
    /** Offset of the 32-bit sequence number. */
    public static final int SEQUENCE_OFFSET = 4;
    /** Offset of the 32-bit acknowledgment number. */
    public static final int ACK_OFFSET = 8;
    /** Offset of the data offset byte (high nibble). */
    public static final int DATA_OFFSET_OFFSET = 12;
    /** Offset of the flags byte. */
    public static final int FLAGS_OFFSET = 13;
    /** Offset of the 16-bit checksum. */
    public static final int CHECKSUM_OFFSET = 16;
    public static final int FIN = 0x01;
    public static final int SYN = 0x02;
    public static final int RST = 0x04;
    public static final int PSH = 0x08;
    public static final int ACK = 0x10;
    public static final int URG = 0x20;
    public static final int ECE = 0x40;
    public static final int CWR = 0x80;

    private TcpHeader() {
    }
}
