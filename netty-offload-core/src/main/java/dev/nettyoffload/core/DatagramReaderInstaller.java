package dev.nettyoffload.core;

import dev.nettyoffload.core.uring.IoUringDatagramReader;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

/**
 * Starts a batch reader when the channel becomes active (the io_uring reader needs the bound address), before
 * Netty's reader issues its first read, then removes itself. Added first by {@link DatagramReaders#install}.
 */
final class DatagramReaderInstaller extends ChannelInboundHandlerAdapter {
    static final String NAME = "datagramReaderInstaller";
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(DatagramReaderInstaller.class);

    private final DatagramReaderChoice choice;
    private final Promise<DatagramReaderChoice> startPromise;
    private boolean started;

    DatagramReaderInstaller(DatagramReaderChoice choice, Promise<DatagramReaderChoice> startPromise) {
        this.choice = choice;
        this.startPromise = startPromise;
    }

    @Override
    public void channelUnregistered(ChannelHandlerContext ctx) {
        fellBack(ctx.channel(), "channel closed before it became active");
        ctx.fireChannelUnregistered();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive()) {
            start(ctx);
            ctx.pipeline().remove(this);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        // Before the head's read-if-auto-read, which runs after this event has passed the whole pipeline: the
        // reader turns AUTO_READ off first, so Netty's reader never starts.
        start(ctx);
        ctx.fireChannelActive();
        ctx.pipeline().remove(this);
    }

    private void start(ChannelHandlerContext ctx) {
        if (started) {
            return;
        }
        started = true;
        Channel channel = ctx.channel();
        Future<?> future;
        try {
            if (choice.reader() == DatagramReader.IO_URING) {
                future = IoUringDatagramReader.attach(channel);
            } else {
                DatagramReaderProvider provider = DatagramReaders.providers().find(choice.transport());
                if (provider == null || provider.reader() != choice.reader()) {
                    fellBack(channel, "no provider of " + choice.reader().displayName());
                    return;
                }
                future = provider.attach(channel);
            }
        } catch (RuntimeException e) {
            fellBack(channel, e.toString());
            return;
        }
        future.addListener(f -> {
            if (f.isSuccess()) {
                startPromise.trySuccess(choice);
            } else {
                fellBack(channel, String.valueOf(f.cause()));
            }
        });
    }

    private void fellBack(Channel channel, String why) {
        if (startPromise.isDone()) {
            return;
        }
        boolean gro = choice.transport() == Transport.EPOLL
                && Boolean.TRUE.equals(channel.config().getOption(EpollChannelOption.UDP_GRO));
        DatagramReaderChoice fallback = choice.fallback(gro ? DatagramReader.NETTY_UDP_GRO
                : DatagramReader.NETTY, choice.reader().displayName() + " did not start (" + why + ")");
        channel.attr(DatagramReaders.CHOICE).set(fallback);
        startPromise.trySuccess(fallback);
        logger.info("{}: {} did not start, Netty's reader reads: {}", channel, choice.reader().displayName(), why);
    }
}
