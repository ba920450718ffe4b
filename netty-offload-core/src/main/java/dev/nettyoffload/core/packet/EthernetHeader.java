package dev.nettyoffload.core.packet;

/**
 * Ethernet II header layout and the EtherTypes this project understands (IEEE 802.3, 802.1Q, 802.1ad).
 */
public final class EthernetHeader {
    /** Destination MAC, source MAC and EtherType. */
    public static final int LENGTH = 14;
    /** Offset of the EtherType in an untagged frame. */
    public static final int ETHERTYPE_OFFSET = 12;
    /** Length of one 802.1Q/802.1ad tag (TPID + TCI). */
    public static final int VLAN_TAG_LENGTH = 4;
    /** At most an outer and an inner tag (QinQ), as the Linux GRO/GSO paths accept. */
    public static final int MAX_VLAN_TAGS = 2;
    /** EtherType of IPv4. */
    public static final int ETHERTYPE_IPV4 = 0x0800;
    /** EtherType of IPv6. */
    public static final int ETHERTYPE_IPV6 = 0x86DD;
    /** TPID of an 802.1Q VLAN tag. */
    public static final int ETHERTYPE_VLAN = 0x8100;
    /** TPID of an 802.1ad service tag (QinQ). */
    public static final int ETHERTYPE_QINQ = 0x88A8;
    /** Transparent Ethernet Bridging, the GRE protocol type of an Ethernet payload (RFC 1701). */
    public static final int ETHERTYPE_TEB = 0x6558;

    private EthernetHeader() {
    }
}
