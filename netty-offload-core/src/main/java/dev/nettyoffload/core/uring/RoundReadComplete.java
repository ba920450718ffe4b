package dev.nettyoffload.core.uring;

import io.netty.channel.Channel;

import java.util.concurrent.RejectedExecutionException;

/**
 * Fires one {@code channelReadComplete} after all the reads of one event-loop round, where a read-complete per
 * completion would make a codec that flushes on it (QUIC's) answer each small batch on its own.
 * <p>
 * The first read of a round schedules the read-complete as a task. Netty 4.2's io_uring loop reaps every
 * completion it can before it returns to run tasks ({@code IoUringIoHandler.processCompletionsAndHandleOverflow}
 * loops, submitting what the handlers queued, until nothing more completes, at most 128 times), so the task runs
 * after the last read of the round, also of receives that were re-armed and found data within the round.
 * Event loop only.
 */
final class RoundReadComplete implements Runnable {
    private final Channel channel;
    private boolean scheduled;
    private long fired;

    RoundReadComplete(Channel channel) {
        this.channel = channel;
    }

    /** Called after each {@code fireChannelRead}: makes sure a read-complete follows this round. */
    void readDelivered() {
        if (scheduled) {
            return;
        }
        scheduled = true;
        try {
            channel.eventLoop().execute(this);
        } catch (RejectedExecutionException e) {
            run(); // the loop is shutting down: do not leave the reads without their read-complete
        }
    }

    /** Fires a read-complete now, within the round; one already scheduled still follows the round's last read. */
    void fireNow() {
        fired++;
        channel.pipeline().fireChannelReadComplete();
    }

    @Override
    public void run() {
        scheduled = false;
        fired++;
        channel.pipeline().fireChannelReadComplete();
    }

    /** Read-completes fired so far. */
    long fired() {
        return fired;
    }
}
