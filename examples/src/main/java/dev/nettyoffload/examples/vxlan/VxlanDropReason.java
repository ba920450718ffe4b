package dev.nettyoffload.examples.vxlan;

/** Why the gateway dropped a datagram or frame; each is counted. */
public enum VxlanDropReason {
    /** Shorter than the VXLAN header plus an Ethernet header. */
    SHORT,
    /** The I flag (VNI valid) is not set (RFC 7348 section 5). */
    NO_VNI_FLAG,
    /** A VNI this segment does not carry. */
    UNKNOWN_VNI,
    /** A multicast or broadcast source MAC. */
    BAD_SOURCE_MAC,
    /** The destination MAC was learned on the side the frame came from: nothing to forward. */
    SAME_SIDE,
    /** Larger than the egress overlay MTU and not TCP, so it cannot be re-segmented. */
    TOO_BIG,
    /** The segmenter refused the packet (contradictory headers and offload metadata). */
    UNSEGMENTABLE,
    /** The egress channel's write buffer is full; a router drops rather than queue without bound. */
    EGRESS_FULL,
    /** The outer datagram could not be sent. */
    SEND_FAILED,
    /** A message type the gateway does not forward. */
    UNEXPECTED_MESSAGE
}
