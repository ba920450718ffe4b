package dev.nettyoffload.core.uring;

import io.netty.channel.Channel;
import io.netty.channel.IoEventLoop;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.channel.uring.IoUringIoHandle;

/**
 * Whether {@link IoUringDatagramReader} can run in this JVM and on a given channel.
 */
final class ReaderSupport {
    private ReaderSupport() {
    }

    /** Why the reader cannot run in this JVM, or {@code null}. */
    static String unavailabilityReason() {
        if (!RecvMsgMemory.isLayoutSupported()) {
            return "struct layout known only for 64-bit little-endian Linux (x86_64, aarch64), not "
                    + System.getProperty("os.name") + "/" + System.getProperty("os.arch");
        }
        try {
            Throwable cause = IoUring.unavailabilityCause();
            return cause == null ? null : "io_uring unavailable: " + cause;
        } catch (LinkageError e) {
            return "io_uring unavailable: " + e;
        }
    }

    /**
     * Why the reader cannot attach to {@code channel}, or {@code null}: it must be a registered
     * {@link IoUringDatagramChannel} whose event loop takes {@code handleClass}.
     */
    static String problem(Channel channel, Class<? extends IoUringIoHandle> handleClass) {
        String reason = unavailabilityReason();
        if (reason != null) {
            return reason;
        }
        if (!(channel instanceof IoUringDatagramChannel)) {
            return "not an IoUringDatagramChannel: " + channel.getClass().getName();
        }
        if (!channel.isRegistered()) {
            return "not registered with an event loop";
        }
        if (!(channel.eventLoop() instanceof IoEventLoop)
                || !((IoEventLoop) channel.eventLoop()).isCompatible(handleClass)) {
            return "event loop does not take io_uring handles: " + channel.eventLoop();
        }
        return null;
    }
}
