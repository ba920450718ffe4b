package dev.nettyoffload.core.uring;

import io.netty.buffer.ByteBuf;

/**
 * Reads the control messages ({@code struct cmsghdr} chain) a {@code recvmsg} returned, wherever the kernel
 * wrote them: the control buffer of a single-shot RECVMSG ({@link RecvMsgMemory}) or the control area of a
 * multishot RECVMSG's provided buffer ({@link MultishotRecv}). LP64 layout: cmsg_len (size_t) 0, cmsg_level 8,
 * cmsg_type 12, data from 16, each message aligned to 8 bytes (CMSG_ALIGN).
 */
final class ControlMessages {
    /** sizeof(struct cmsghdr). */
    static final int CMSGHDR_SIZE = 16;

    private ControlMessages() {
    }

    /**
     * The segment size from the UDP_GRO control message among the {@code length} bytes of control messages at
     * {@code offset} in {@code buf}, or 0 when there is none (the datagram was not coalesced, UDP_GRO is off, or
     * the chain is malformed or cut off by MSG_CTRUNC).
     */
    static int udpGroSegmentSize(ByteBuf buf, int offset, int length) {
        int end = offset + length;
        while (offset + CMSGHDR_SIZE <= end) {
            long cmsgLength = buf.getLongLE(offset);
            if (cmsgLength < CMSGHDR_SIZE || cmsgLength > end - offset) {
                return 0;
            }
            int level = buf.getIntLE(offset + 8);
            int type = buf.getIntLE(offset + 12);
            if (level == UringConstants.SOL_UDP && type == UringConstants.UDP_GRO && cmsgLength >= CMSGHDR_SIZE + 4) {
                return buf.getIntLE(offset + CMSGHDR_SIZE);
            }
            offset += (int) ((cmsgLength + 7) & ~7L);
        }
        return 0;
    }
}
