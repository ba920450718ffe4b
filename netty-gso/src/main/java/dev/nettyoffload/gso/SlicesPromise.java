package dev.nettyoffload.gso;

import io.netty.channel.ChannelPromise;

/**
 * Completes a software-path write's promise once every slice written for it is done: successfully, or with the
 * first failure. That is what a {@code PromiseCombiner} over one promise per slice does, without a listener and a
 * notification per datagram, which made the software path slower than plain writes of the same datagrams.
 * <p>
 * Each slice still gets a promise of its own ({@link SlicePromise}), which completes like any promise: a handler
 * between this encoder and the channel may add listeners to it, wait for it or complete it. Only the counting
 * happens here. Everything runs on the event loop, where this encoder runs too. Cancelling the write's promise
 * does not cancel slices, as before.
 */
final class SlicesPromise {
    private final ChannelPromise write;
    /** Slices written and not yet completed. */
    private int pending;
    /** No more slices will be written: the write's promise completes when {@link #pending} reaches zero. */
    private boolean sealed;
    private Throwable failure;

    SlicesPromise(ChannelPromise write) {
        this.write = write;
    }

    /** Returns the promise for the next slice, counted until it completes. */
    ChannelPromise next() {
        pending++;
        return new SlicePromise(write.channel(), this);
    }

    /** Says that every slice has been written; completes the write's promise if they are all done already. */
    void seal() {
        sealed = true;
        completeIfDone();
    }

    void succeeded() {
        pending--;
        completeIfDone();
    }

    void failed(Throwable cause) {
        if (failure == null) {
            failure = cause;
        }
        pending--;
        completeIfDone();
    }

    private void completeIfDone() {
        if (sealed && pending == 0) {
            if (failure == null) {
                write.trySuccess();
            } else {
                write.tryFailure(failure);
            }
        }
    }

    @Override
    public String toString() {
        return "SlicesPromise(pending=" + pending + ", sealed=" + sealed + ", failure=" + failure + ", write="
                + write + ')';
    }
}
