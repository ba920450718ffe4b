package dev.nettyoffload.ffm;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;

/**
 * The first handler of a channel whose datagrams an {@link EpollBatchReader} reads: it keeps Netty's own reader
 * stopped and closes the batch reader with the channel.
 * <p>
 * Every {@code channel.read()}, {@code ctx.read()} of a later handler and the read that {@code AUTO_READ} starts
 * pass through it towards the head of the pipeline, and it does not forward them, so Netty never sets
 * {@code EPOLLIN} for its own descriptor. The batch reader fires its packets from this handler's context, which
 * skips this handler; a {@code channelRead} that does pass through it therefore comes from Netty's reader (the
 * socket's {@code EPOLLERR} wakes both readers, see {@link EpollBatchReader}): it is counted and forwarded, never
 * dropped. Netty's empty read rounds end in a {@code channelReadComplete} that nothing preceded; it stops here.
 */
final class EpollBatchReaderGuard extends ChannelDuplexHandler {
    private final EpollBatchReader reader;
    private boolean strayReadPending;

    EpollBatchReaderGuard(EpollBatchReader reader) {
        this.reader = reader;
    }

    EpollBatchReader reader() {
        return reader;
    }

    @Override
    public void read(ChannelHandlerContext ctx) {
        reader.readCallSuppressed();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        reader.strayNettyRead();
        strayReadPending = true;
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (strayReadPending) {
            strayReadPending = false;
            ctx.fireChannelReadComplete();
        }
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        // Before the channel's descriptor closes: the duplicate keeps the socket (and its port) alive until it
        // is closed as well.
        reader.closeWithChannel();
        ctx.close(promise);
    }

    @Override
    public void deregister(ChannelHandlerContext ctx, ChannelPromise promise) {
        // The reader's registration belongs to this event loop; it does not follow the channel to another one.
        reader.closeWithChannel();
        ctx.deregister(promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        reader.closeWithChannel();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        reader.closeWithChannel();
    }
}
