package dev.nettyoffload.ffm;

import io.netty.channel.unix.FileDescriptor;

/**
 * The {@code dup} of a channel's descriptor that {@link EpollBatchReader} registers with the event loop (which
 * keys registrations by descriptor number, so the channel's own number cannot be registered twice). Closed
 * through {@link Syscalls} rather than Netty's native code, and marked closed first, so that Netty sees it closed.
 */
final class DuplicateDescriptor extends FileDescriptor {
    DuplicateDescriptor(int fd) {
        super(fd);
    }

    void closeNow() {
        if (markClosed()) {
            Syscalls.close(intValue());
        }
    }
}
