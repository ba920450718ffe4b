package dev.nettyoffload.core.uring;

/**
 * What {@link IoUringDatagramReader} delivered: plain fields written on the event loop, so exact only there.
 */
final class ReaderCounters {
    /** Completions that delivered a message. */
    long reads;
    /** {@code channelReadComplete}s fired: rounds that delivered at least one message. */
    long readCompletes;
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

    /** Appends "N reads in R rounds, ..." for the reader's {@code toString()}. */
    StringBuilder appendTo(StringBuilder sb) {
        return sb.append(reads).append(" reads in ")
                .append(readCompletes).append(" rounds, ")
                .append(batches).append(" batches, ")
                .append(datagrams).append(" datagrams, ")
                .append(bytes).append(" bytes, ")
                .append(truncated).append(" truncated, ")
                .append(errors).append(" errors");
    }
}
