package dev.nettyoffload.core;

/**
 * Which reader {@link DatagramChannelTuning#apply} may put on a datagram channel. The system property
 * {@value DatagramReaders#READER_PROPERTY}{@code =netty} turns {@link #BEST} into {@link #NETTY} for the whole JVM.
 */
public enum ReaderPreference {
    /** The best reader for the transport and JVM ({@link DatagramReaders#choose}). */
    BEST,
    /** Netty's own reader (with UDP_GRO on epoll, as on Java 17): one datagram per message. */
    NETTY
}
