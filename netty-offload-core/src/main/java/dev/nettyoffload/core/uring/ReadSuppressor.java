package dev.nettyoffload.core.uring;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;

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

    /**
     * Stops Netty's reader on {@code channel}: this handler first in the pipeline and AUTO_READ off. Returns whether
     * AUTO_READ was on, in which case Netty has a RECVMSG of its own in flight and turning AUTO_READ off queued its
     * cancel. Event loop only.
     */
    static boolean takeOver(Channel channel) {
        channel.pipeline().addFirst(NAME, INSTANCE);
        boolean nettyReading = channel.config().isAutoRead();
        channel.config().setAutoRead(false);
        return nettyReading;
    }

    /**
     * Hands reading back to Netty's reader on an open {@code channel}: removes this handler, turns AUTO_READ on and
     * fires {@code cause} unless {@code null}. Event loop only.
     */
    static void handBack(Channel channel, Throwable cause) {
        if (!channel.isOpen()) {
            return;
        }
        ChannelPipeline pipeline = channel.pipeline();
        if (pipeline.get(NAME) != null) {
            pipeline.remove(NAME);
        }
        channel.config().setAutoRead(true);
        if (cause != null) {
            pipeline.fireExceptionCaught(cause);
        }
    }

    /** Whether {@code channel} is open and Netty's reader reads it again. */
    static boolean isHandedBack(Channel channel) {
        return channel.isOpen() && channel.pipeline().get(NAME) == null;
    }

    @Override
    public void read(ChannelHandlerContext ctx) {
        // Not forwarded: the IoUringDatagramReader keeps its own receive armed.
    }
}
