package dev.nettyoffload.core.uring;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;

/**
 * Swallows {@code read()} so that Netty's own reader never starts beside an {@link IoUringDatagramReader}.
 * <p>
 * {@code Channel.read()} and {@code ChannelHandlerContext.read()} travel the pipeline towards its head, where
 * {@code HeadContext} calls {@code Unsafe.beginRead()} and the io_uring channel submits its own poll/recvmsg.
 * Put first in the pipeline (next to the head), this handler ends every such request, whoever issues it: the
 * channel turning active with AUTO_READ on, {@code setAutoRead(true)}, or an application calling
 * {@code read()}. Only a handler added in front of it later (another {@code addFirst}) could still reach the
 * head, and only with its own {@code ctx.read()}.
 */
@ChannelHandler.Sharable
final class ReadSuppressor extends ChannelOutboundHandlerAdapter {
    static final ReadSuppressor INSTANCE = new ReadSuppressor();
    static final String NAME = "IoUringDatagramReader#ReadSuppressor";

    private ReadSuppressor() {
    }

    @Override
    public void read(ChannelHandlerContext ctx) {
        // Not forwarded: the IoUringDatagramReader keeps its own receive armed.
    }
}
