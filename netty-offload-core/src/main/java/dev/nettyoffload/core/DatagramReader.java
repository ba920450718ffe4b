package dev.nettyoffload.core;

import io.netty.channel.unix.SegmentedDatagramPacket;

/**
 * Which code reads a datagram channel's socket, and so what one message in its pipeline holds. Chosen per
 * transport and JVM by {@link DatagramReaders#choose}; {@link DatagramReaders#of} tells what a channel uses.
 */
public enum DatagramReader {
    /** Netty's own reader without kernel GRO: one {@code DatagramPacket} per datagram. */
    NETTY("Netty's reader", false),
    /**
     * Netty's epoll reader with UDP_GRO: it reads a kernel batch with one {@code recvmsg} into a 64 KiB buffer and
     * fires one slice of it per datagram; {@code GroAggregator} joins the slices back into one batch without
     * copying.
     */
    NETTY_UDP_GRO("Netty's reader with UDP_GRO", false),
    /** {@code IoUringDatagramReader} (core): our io_uring RECVMSG with UDP_GRO, one message per kernel batch. */
    IO_URING("IoUringDatagramReader", true),
    /** {@code EpollBatchReader} (netty-offload-ffm, Java 22+): FFM recvmsg with UDP_GRO, one message per batch. */
    EPOLL_FFM("EpollBatchReader", true);

    private final String displayName;
    private final boolean batches;

    DatagramReader(String displayName, boolean batches) {
        this.displayName = displayName;
        this.batches = batches;
    }

    /** A short human-readable name. */
    public String displayName() {
        return displayName;
    }

    /**
     * Whether the pipeline receives a kernel batch as one {@link SegmentedDatagramPacket}: put a
     * {@code GroAggregator} (which passes it on) or a {@link SegmentedDatagramSplitter} (one datagram per message,
     * for codecs such as QUIC) first in the pipeline.
     */
    public boolean deliversBatches() {
        return batches;
    }
}
