package dev.nettyoffload.ffm;

/**
 * Immutable settings of an {@link EpollBatchReader}; start from {@link #DEFAULT} or {@link #newBuilder()}.
 */
public final class EpollBatchReaderConfig {
    /** {@code recvmsg} calls per readiness event before the reader yields to the event loop's other work. */
    public static final int DEFAULT_MAX_READS_PER_WAKEUP = 16;
    /**
     * Bytes of the buffer each {@code recvmsg} receives into: a whole {@code UDP_GRO} batch, which the kernel
     * caps at 64 KiB of IP packet (GRO_LEGACY_MAX_SIZE in {@code include/linux/netdevice.h}), fits.
     */
    public static final int DEFAULT_RECEIVE_BUFFER_SIZE = 65536;
    /**
     * Reads shorter than this many bytes are copied into a buffer of their own size, and the 64 KiB receive
     * buffer serves the next read, so that a stream of small datagrams does not pin 64 KiB each.
     */
    public static final int DEFAULT_COPY_THRESHOLD = 8192;
    /** The default settings. */
    public static final EpollBatchReaderConfig DEFAULT = newBuilder().build();

    private final int maxReadsPerWakeup;
    private final int receiveBufferSize;
    private final int copyThreshold;
    private final boolean udpGro;

    private EpollBatchReaderConfig(Builder builder) {
        this.maxReadsPerWakeup = builder.maxReadsPerWakeup;
        this.receiveBufferSize = builder.receiveBufferSize;
        this.copyThreshold = builder.copyThreshold;
        this.udpGro = builder.udpGro;
    }

    public static Builder newBuilder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder()
                .maxReadsPerWakeup(maxReadsPerWakeup)
                .receiveBufferSize(receiveBufferSize)
                .copyThreshold(copyThreshold)
                .udpGro(udpGro);
    }

    /** {@code recvmsg} calls per readiness event, default {@value #DEFAULT_MAX_READS_PER_WAKEUP}. */
    public int maxReadsPerWakeup() {
        return maxReadsPerWakeup;
    }

    /** Bytes one {@code recvmsg} can receive, default {@value #DEFAULT_RECEIVE_BUFFER_SIZE}. */
    public int receiveBufferSize() {
        return receiveBufferSize;
    }

    /** Reads shorter than this are copied to a right-sized buffer, default {@value #DEFAULT_COPY_THRESHOLD}. */
    public int copyThreshold() {
        return copyThreshold;
    }

    /** Whether installing the reader turns on {@code UDP_GRO} for the socket (default {@code true}). */
    public boolean udpGro() {
        return udpGro;
    }

    @Override
    public String toString() {
        return "EpollBatchReaderConfig(maxReadsPerWakeup=" + maxReadsPerWakeup + ", receiveBufferSize="
                + receiveBufferSize + ", copyThreshold=" + copyThreshold + ", udpGro=" + udpGro + ')';
    }

    /** Builds an {@link EpollBatchReaderConfig}. */
    public static final class Builder {
        private int maxReadsPerWakeup = DEFAULT_MAX_READS_PER_WAKEUP;
        private int receiveBufferSize = DEFAULT_RECEIVE_BUFFER_SIZE;
        private int copyThreshold = DEFAULT_COPY_THRESHOLD;
        private boolean udpGro = true;

        private Builder() {
        }

        public Builder maxReadsPerWakeup(int maxReadsPerWakeup) {
            if (maxReadsPerWakeup <= 0) {
                throw new IllegalArgumentException("maxReadsPerWakeup: " + maxReadsPerWakeup + " (expected: > 0)");
            }
            this.maxReadsPerWakeup = maxReadsPerWakeup;
            return this;
        }

        public Builder receiveBufferSize(int receiveBufferSize) {
            if (receiveBufferSize <= 0) {
                throw new IllegalArgumentException("receiveBufferSize: " + receiveBufferSize + " (expected: > 0)");
            }
            this.receiveBufferSize = receiveBufferSize;
            return this;
        }

        /** 0 never copies; a value above {@link #receiveBufferSize(int)} always does. */
        public Builder copyThreshold(int copyThreshold) {
            if (copyThreshold < 0) {
                throw new IllegalArgumentException("copyThreshold: " + copyThreshold + " (expected: >= 0)");
            }
            this.copyThreshold = copyThreshold;
            return this;
        }

        public Builder udpGro(boolean udpGro) {
            this.udpGro = udpGro;
            return this;
        }

        public EpollBatchReaderConfig build() {
            return new EpollBatchReaderConfig(this);
        }
    }
}
