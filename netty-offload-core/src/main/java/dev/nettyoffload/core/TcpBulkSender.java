package dev.nettyoffload.core;

import dev.nettyoffload.core.linux.OffloadReport;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.uring.IoUringChannelOption;

import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * Applies the socket options a bulk TCP sender wants to an epoll or io_uring TCP channel, and reports how the
 * kernel and NIC will segment its stream.
 * <p>
 * TCP needs no segmentation from this library: the kernel builds packets of up to {@code gso_max_size} bytes
 * and TSO or GSO cuts them (see {@link #report(Channel)}). What a bulk sender can tune is how much data waits
 * in the kernel and how fast it leaves:
 * <ul>
 * <li><b>TCP_NOTSENT_LOWAT</b> (default {@value #DEFAULT_NOT_SENT_LOWAT} bytes): the socket reports writable
 * only while less than this much data is queued but not yet sent. The send buffer can still grow for data in
 * flight, but unsent data stays small, so the kernel holds less memory, Netty's own outbound buffer (and its
 * writability) reflects the real backlog, and a change of priority takes effect quickly. Too small a value
 * costs wake-ups: keep it at a few TSO packets or more.</li>
 * <li><b>SO_SNDBUF / SO_RCVBUF</b> (default: not set): setting them turns off the kernel's buffer
 * auto-tuning ({@code net.ipv4.tcp_wmem}/{@code tcp_rmem}), which usually sizes them better for the path's
 * bandwidth-delay product. Set them only to cap memory or for a path whose delay you know.</li>
 * <li><b>SO_MAX_PACING_RATE</b> (default: not set): caps the rate in bytes per second through
 * {@link SocketPacing}. TCP paces by itself, and also with the fq qdisc; the kernel then also sizes TSO
 * packets to about a millisecond of data.</li>
 * </ul>
 * Write coalescing is left to Netty ({@code FlushConsolidationHandler} if needed): the kernel already merges
 * small writes into large TSO packets.
 */
public final class TcpBulkSender {
    /** Default TCP_NOTSENT_LOWAT: 128 KiB, two 64 KiB TSO packets. */
    public static final int DEFAULT_NOT_SENT_LOWAT = 128 * 1024;

    /** TCP_NOTSENT_LOWAT of {@value #DEFAULT_NOT_SENT_LOWAT}, kernel-tuned buffers, no pacing cap. */
    public static final TcpBulkSender DEFAULT = new Builder().build();

    private final int notSentLowat;
    private final int sendBufferSize;
    private final int receiveBufferSize;
    private final long pacingRate;

    private TcpBulkSender(Builder b) {
        this.notSentLowat = b.notSentLowat;
        this.sendBufferSize = b.sendBufferSize;
        this.receiveBufferSize = b.receiveBufferSize;
        this.pacingRate = b.pacingRate;
    }

    public static Builder newBuilder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.notSentLowat = notSentLowat;
        b.sendBufferSize = sendBufferSize;
        b.receiveBufferSize = receiveBufferSize;
        b.pacingRate = pacingRate;
        return b;
    }

    /** TCP_NOTSENT_LOWAT in bytes, or 0 to leave the system default. */
    public int notSentLowat() {
        return notSentLowat;
    }

    /** SO_SNDBUF in bytes, or 0 to leave auto-tuning on. */
    public int sendBufferSize() {
        return sendBufferSize;
    }

    /** SO_RCVBUF in bytes, or 0 to leave auto-tuning on. */
    public int receiveBufferSize() {
        return receiveBufferSize;
    }

    /** SO_MAX_PACING_RATE in bytes per second, or 0 for no cap. */
    public long pacingRate() {
        return pacingRate;
    }

    /**
     * Applies the options to {@code channel}, an epoll or io_uring TCP channel (before or after it connects).
     *
     * @throws UnsupportedOperationException for a NIO channel, which cannot set TCP_NOTSENT_LOWAT or the pacing
     *                                       rate
     */
    public void apply(Channel channel) {
        if (Transport.of(channel.getClass()) == Transport.NIO && (notSentLowat > 0 || pacingRate > 0)) {
            throw new UnsupportedOperationException("TCP_NOTSENT_LOWAT and SO_MAX_PACING_RATE need an epoll or "
                    + "io_uring channel, not " + channel.getClass().getSimpleName());
        }
        if (sendBufferSize > 0) {
            channel.config().setOption(ChannelOption.SO_SNDBUF, sendBufferSize);
        }
        if (receiveBufferSize > 0) {
            channel.config().setOption(ChannelOption.SO_RCVBUF, receiveBufferSize);
        }
        if (notSentLowat > 0) {
            ChannelOption<Long> lowat = Transport.of(channel.getClass()) == Transport.EPOLL
                    ? EpollChannelOption.TCP_NOTSENT_LOWAT : IoUringChannelOption.TCP_NOTSENT_LOWAT;
            channel.config().setOption(lowat, (long) notSentLowat);
        }
        if (pacingRate > 0) {
            SocketPacing.setMaxPacingRate(channel, pacingRate);
        }
    }

    /**
     * Who segments this connected channel's stream and who merges what it receives: the
     * {@link OffloadReport} for its remote address. Runs {@code ip} and {@code ethtool}: do not call it on the
     * event loop. Returns {@code null} when the channel has no remote IP address yet.
     */
    public static OffloadReport report(Channel channel) {
        SocketAddress remote = channel.remoteAddress();
        if (!(remote instanceof InetSocketAddress) || ((InetSocketAddress) remote).getAddress() == null) {
            return null;
        }
        return OffloadReport.forDestination(((InetSocketAddress) remote).getAddress(),
                Transport.of(channel.getClass()));
    }

    @Override
    public String toString() {
        return "TcpBulkSender(notSentLowat " + (notSentLowat > 0 ? notSentLowat : "system default")
                + ", sendBufferSize " + (sendBufferSize > 0 ? sendBufferSize : "auto")
                + ", receiveBufferSize " + (receiveBufferSize > 0 ? receiveBufferSize : "auto")
                + ", pacingRate " + (pacingRate > 0 ? pacingRate + " B/s" : "none") + ")";
    }

    /** Builds a {@link TcpBulkSender}; every value is optional. */
    public static final class Builder {
        private int notSentLowat = DEFAULT_NOT_SENT_LOWAT;
        private int sendBufferSize;
        private int receiveBufferSize;
        private long pacingRate;

        private Builder() {
        }

        /** TCP_NOTSENT_LOWAT in bytes; 0 leaves the system default ({@code net.ipv4.tcp_notsent_lowat}). */
        public Builder notSentLowat(int bytes) {
            this.notSentLowat = checkNotNegative(bytes, "notSentLowat");
            return this;
        }

        /** SO_SNDBUF in bytes; 0 (the default) keeps the kernel's auto-tuning. */
        public Builder sendBufferSize(int bytes) {
            this.sendBufferSize = checkNotNegative(bytes, "sendBufferSize");
            return this;
        }

        /** SO_RCVBUF in bytes; 0 (the default) keeps the kernel's auto-tuning. */
        public Builder receiveBufferSize(int bytes) {
            this.receiveBufferSize = checkNotNegative(bytes, "receiveBufferSize");
            return this;
        }

        /** SO_MAX_PACING_RATE in bytes per second; 0 (the default) sets no cap. */
        public Builder pacingRate(long bytesPerSecond) {
            if (bytesPerSecond < 0) {
                throw new IllegalArgumentException("pacingRate: " + bytesPerSecond + " (expected >= 0)");
            }
            this.pacingRate = bytesPerSecond;
            return this;
        }

        public TcpBulkSender build() {
            return new TcpBulkSender(this);
        }

        private static int checkNotNegative(int value, String name) {
            if (value < 0) {
                throw new IllegalArgumentException(name + ": " + value + " (expected >= 0)");
            }
            return value;
        }
    }
}
