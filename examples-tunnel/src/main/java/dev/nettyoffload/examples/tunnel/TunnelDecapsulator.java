package dev.nettyoffload.examples.tunnel;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import io.netty.util.ReferenceCountUtil;

import java.security.GeneralSecurityException;

/**
 * The receive side, after the UDP channel's reader: takes each datagram (or each datagram of a
 * {@link SegmentedDatagramPacket} batch), checks its {@link TunnelHeader}, and fires the inner IP packet as a
 * {@link ByteBuf}: a retained slice of the batch (no copy) when plain, a new buffer when sealed. Anything else
 * received on the port is dropped and counted by reason: too short, wrong magic/version/mode, an inner packet
 * whose IP version or length does not match the datagram, a tag that does not verify. Inner TCP/UDP checksums
 * are trusted, verified or completed per {@link InnerChecksums}; a packet whose checksum fails is dropped and
 * counted ({@code innerChecksumFailures}).
 */
final class TunnelDecapsulator extends ChannelInboundHandlerAdapter {
    private final TunnelCipher cipher;
    private final TunnelCounters counters;
    /** PARTIAL: flagged packets pass as they are, the others are verified; COMPLETE: flagged ones are completed. */
    private final boolean trustPartial;
    private final InnerChecksums checksums = new InnerChecksums();

    TunnelDecapsulator(TunnelCipher cipher, InnerChecksums.Mode mode, TunnelCounters counters) {
        this.cipher = cipher;
        this.trustPartial = mode == InnerChecksums.Mode.PARTIAL;
        this.counters = counters;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof DatagramPacket packet)) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            ByteBuf content = packet.content();
            int length = content.readableBytes();
            int segmentSize = length;
            counters.udpReads++;
            if (packet instanceof SegmentedDatagramPacket segmented && segmented.segmentSize() > 0) {
                segmentSize = segmented.segmentSize();
                counters.udpBatchReads++;
            }
            int index = content.readerIndex();
            int end = index + length;
            while (index < end) {
                int n = Math.min(segmentSize, end - index);
                counters.datagramsReceived++;
                decapsulate(ctx, content, index, n);
                index += n;
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void decapsulate(ChannelHandlerContext ctx, ByteBuf content, int index, int length) {
        if (length < TunnelHeader.LENGTH + TunnelHeader.MIN_INNER_LENGTH) {
            counters.garbageTooShort++;
            return;
        }
        int flags = content.getUnsignedByte(index + 3);
        boolean sealed = (flags & TunnelHeader.FLAG_SEALED) != 0;
        if (content.getUnsignedShort(index) != TunnelHeader.MAGIC
                || content.getUnsignedByte(index + 2) != TunnelHeader.VERSION
                || (flags & ~TunnelHeader.FLAGS_KNOWN) != 0 || sealed != (cipher != null)) {
            counters.garbageBadHeader++;
            return;
        }
        ByteBuf inner;
        if (sealed) {
            int innerLength = length - TunnelHeader.SEALED_LENGTH - TunnelHeader.TAG_LENGTH;
            if (innerLength < TunnelHeader.MIN_INNER_LENGTH) {
                counters.garbageTooShort++;
                return;
            }
            inner = ctx.alloc().directBuffer(innerLength, innerLength);
            try {
                cipher.open(content, index, length, inner);
            } catch (GeneralSecurityException e) {
                inner.release();
                counters.garbageAuthFailed++;
                return;
            }
        } else {
            int innerLength = length - TunnelHeader.LENGTH;
            if (!ipLengthMatches(content, index + TunnelHeader.LENGTH, innerLength)) {
                counters.garbageBadInner++;
                return;
            }
            inner = content.retainedSlice(index + TunnelHeader.LENGTH, innerLength);
        }
        if (sealed && !ipLengthMatches(inner, inner.readerIndex(), inner.readableBytes())) {
            inner.release();
            counters.garbageBadInner++;
            return;
        }
        if ((flags & TunnelHeader.FLAG_PARTIAL_CHECKSUM) != 0) {
            // Partial: the outer UDP checksum, which the kernel verified, covered these bytes (see InnerChecksums).
            if (trustPartial) {
                counters.partialChecksumsReceived++;
            } else {
                checksums.complete(inner);
                counters.innerChecksumsCompleted++;
            }
        } else if (trustPartial) {
            // What follows trusts every TCP/UDP checksum, so a packet that has a complete one is checked here.
            counters.innerChecksumsVerified++;
            if (!checksums.verifies(inner)) {
                inner.release();
                counters.innerChecksumFailures++;
                return;
            }
        }
        counters.innerPacketsReceived++;
        ctx.fireChannelRead(inner);
    }

    /** Whether the bytes hold an IPv4 or IPv6 packet whose length field says exactly {@code length}. */
    private static boolean ipLengthMatches(ByteBuf buf, int index, int length) {
        int version = buf.getUnsignedByte(index) >>> 4;
        if (version == 4) {
            return buf.getUnsignedShort(index + 2) == length;
        }
        if (version == 6) {
            return length >= 40 && buf.getUnsignedShort(index + 4) + 40 == length;
        }
        return false;
    }
}
