package dev.nettyoffload.gso;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultChannelPromise;

/**
 * The one promise all slices of a software-path write are written with. It counts their outcomes and completes
 * the write's own promise once, when every slice written is done: successfully, or with the first failure. That
 * is what a {@code PromiseCombiner} over one promise per slice does, without a promise, a listener and a
 * notification per datagram, which made the software path slower than plain writes of the same datagrams.
 * <p>
 * The channel completes each slice's write through {@code trySuccess}/{@code tryFailure} (or a handler between
 * through {@code setSuccess}/{@code setFailure}), always on the event loop, where this encoder runs too. This
 * object never completes itself: it has to stay "not done" for {@code ctx.write} to take it for the next slice,
 * and nobody but the channel sees it. Cancelling the write's promise does not cancel slices, as before.
 */
final class SlicesPromise extends DefaultChannelPromise {
    private final ChannelPromise write;
    /** Slices written with this promise and not yet completed. */
    private int pending;
    /** No more slices will be written: the write's promise completes when {@link #pending} reaches zero. */
    private boolean sealed;
    private Throwable failure;

    SlicesPromise(ChannelHandlerContext ctx, ChannelPromise write) {
        super(ctx.channel(), ctx.executor());
        this.write = write;
    }

    /** Counts a slice about to be written with this promise. */
    void add() {
        pending++;
    }

    /** Says that every slice has been written; completes the write's promise if they are all done already. */
    void seal() {
        sealed = true;
        completeIfDone();
    }

    @Override
    public boolean trySuccess(Void result) {
        pending--;
        completeIfDone();
        // Accepted: the channel logs a warning for a promise that refuses its completion.
        return true;
    }

    @Override
    public ChannelPromise setSuccess(Void result) {
        trySuccess(result);
        return this;
    }

    @Override
    public boolean tryFailure(Throwable cause) {
        if (failure == null) {
            failure = cause;
        }
        pending--;
        completeIfDone();
        return true;
    }

    @Override
    public ChannelPromise setFailure(Throwable cause) {
        tryFailure(cause);
        return this;
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
