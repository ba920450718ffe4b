package dev.nettyoffload.core.uring;

import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

/**
 * What {@link IoUringDatagramReader} delivered: plain fields written on the event loop, so exact only there.
 */
final class ReaderCounters {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(IoUringDatagramReader.class);
    private static volatile boolean truncationLogged;

    /** Completions that delivered a message. */
    long reads;
    /** Messages of more than one datagram. */
    long batches;
    /** Datagrams, counting each segment of a batch. */
    long datagrams;
    /** Payload bytes. */
    long bytes;
    /** Receives cut by MSG_TRUNC. */
    long truncated;
    /** Failed receives other than the ones retried silently. */
    long errors;

    /** Counts one delivered message of {@code length} bytes; {@code segmentSize} 0 when it is one datagram. */
    void delivered(int length, int segmentSize) {
        reads++;
        bytes += length;
        if (segmentSize > 0 && length > segmentSize) {
            batches++;
            datagrams += (length + segmentSize - 1) / segmentSize;
        } else {
            datagrams++;
        }
    }

    /** Counts a receive the kernel cut to {@code length} bytes (MSG_TRUNC); logs the first of this JVM. */
    void truncated(Object reader, int bufferSize, int length) {
        truncated++;
        if (!truncationLogged) {
            truncationLogged = true;
            logger.warn("{}: a datagram or batch was larger than the {}-byte receive buffer and cut to {} bytes "
                    + "(logged once per JVM; see truncated())", reader, bufferSize, length);
        }
    }

    /** Appends "N reads in R rounds, ..." for the reader's {@code toString()}; {@code rounds}: read-completes. */
    StringBuilder appendTo(StringBuilder sb, long rounds) {
        return sb.append(reads).append(" reads in ")
                .append(rounds).append(" rounds, ")
                .append(batches).append(" batches, ")
                .append(datagrams).append(" datagrams, ")
                .append(bytes).append(" bytes, ")
                .append(truncated).append(" truncated, ")
                .append(errors).append(" errors");
    }
}
