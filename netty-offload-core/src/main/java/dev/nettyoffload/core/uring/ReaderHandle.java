package dev.nettyoffload.core.uring;

import io.netty.channel.IoEvent;
import io.netty.channel.IoRegistration;
import io.netty.channel.uring.IoUringIoEvent;
import io.netty.channel.uring.IoUringIoHandle;

/**
 * The io_uring side of an {@link IoUringDatagramReader}: registered on the channel's event loop, it receives the
 * completions of the reader's ops there, in the order Netty reaps them from the completion queue, and the
 * loop's close and unregistration.
 */
final class ReaderHandle implements IoUringIoHandle {
    private final IoUringDatagramReader reader;

    ReaderHandle(IoUringDatagramReader reader) {
        this.reader = reader;
    }

    @Override
    public void handle(IoRegistration registration, IoEvent event) {
        reader.onCompletion((IoUringIoEvent) event);
    }

    @Override
    public void close() {
        reader.onLoopClosing();
    }

    @Override
    public void unregistered() {
        reader.onUnregistered();
    }

    @Override
    public String toString() {
        return reader.toString();
    }
}
