package dev.nettyoffload.gso;

import io.netty.channel.Channel;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultChannelPromise;

/**
 * The promise of one slice of a software-path write: an ordinary promise that also reports its outcome to the
 * write's {@link SlicesPromise}. Reporting from the completion itself, rather than through a listener, keeps the
 * cost of a slice without listeners at one small object.
 */
final class SlicePromise extends DefaultChannelPromise {
    private final SlicesPromise slices;

    SlicePromise(Channel channel, SlicesPromise slices) {
        super(channel);
        this.slices = slices;
    }

    @Override
    public boolean trySuccess(Void result) {
        if (!super.trySuccess(result)) {
            return false;
        }
        slices.succeeded();
        return true;
    }

    @Override
    public ChannelPromise setSuccess(Void result) {
        if (!trySuccess(result)) {
            throw new IllegalStateException("complete already: " + this);
        }
        return this;
    }

    @Override
    public boolean tryFailure(Throwable cause) {
        if (!super.tryFailure(cause)) {
            return false;
        }
        slices.failed(cause);
        return true;
    }

    @Override
    public ChannelPromise setFailure(Throwable cause) {
        if (!tryFailure(cause)) {
            throw new IllegalStateException("complete already: " + this, cause);
        }
        return this;
    }
}
