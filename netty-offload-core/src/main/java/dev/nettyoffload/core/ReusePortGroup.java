package dev.nettyoffload.core;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.uring.IoUringChannelOption;
import io.netty.util.concurrent.EventExecutor;

import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Datagram channels bound to one address with {@code SO_REUSEPORT}, one per event loop, so that the kernel
 * spreads flows (by a hash of their addresses and ports) across cores; each channel has its own pipeline, reader
 * and aggregator. Build the bootstrap as for one channel ({@link DatagramChannelTuning#apply} included; its
 * handler is shared by the channels, so it must be {@code @Sharable}, a {@code ChannelInitializer} for example),
 * then:
 * <pre>{@code
 * ReusePortGroup group = ReusePortGroup.bind(bootstrap, transport, new InetSocketAddress(4433), 4);
 * }</pre>
 * Channel {@code i} is registered with the {@code i}-th event loop of the bootstrap's group (round robin when
 * there are fewer loops than channels). A single flow always lands on one channel: scaling needs several flows.
 */
public final class ReusePortGroup implements AutoCloseable {
    private final List<Channel> channels;

    private ReusePortGroup(List<Channel> channels) {
        this.channels = Collections.unmodifiableList(channels);
    }

    /**
     * Binds {@code count} channels of {@code bootstrap} to {@code address} (port 0: the port the first one
     * gets) and returns when all are bound. Blocks: do not call on an event loop.
     *
     * @throws IllegalArgumentException when {@code count} is not 1-1024 or {@code bootstrap} has no group
     */
    public static ReusePortGroup bind(Bootstrap bootstrap, Transport transport, InetSocketAddress address, int count)
            throws InterruptedException {
        if (count < 1 || count > 1024) {
            throw new IllegalArgumentException("count: " + count + " (expected 1-1024)");
        }
        EventLoopGroup group = bootstrap.config().group();
        if (group == null) {
            throw new IllegalArgumentException("bootstrap: no event loop group");
        }
        List<EventLoop> loops = new ArrayList<>();
        for (EventExecutor e : group) {
            loops.add((EventLoop) e);
        }
        List<Channel> bound = new ArrayList<>(count);
        boolean ok = false;
        try {
            InetSocketAddress to = address;
            for (int i = 0; i < count; i++) {
                Bootstrap b = bootstrap.clone(loops.get(i % loops.size()));
                reusePort(b, transport);
                Channel ch = b.bind(to).sync().channel();
                bound.add(ch);
                if (i == 0) {
                    to = new InetSocketAddress(address.getAddress(), ((InetSocketAddress) ch.localAddress()).getPort());
                }
            }
            ok = true;
        } finally {
            if (!ok) {
                for (Channel ch : bound) {
                    ch.close().await(5, TimeUnit.SECONDS);
                }
            }
        }
        return new ReusePortGroup(bound);
    }

    private static void reusePort(Bootstrap b, Transport transport) {
        switch (transport) {
            case EPOLL:
                b.option(EpollChannelOption.SO_REUSEPORT, true);
                break;
            case IO_URING:
                b.option(IoUringChannelOption.SO_REUSEPORT, true);
                break;
            default:
                b.option(NioChannelOption.of(StandardSocketOptions.SO_REUSEPORT), true);
                break;
        }
    }

    /** The bound channels, in the order of their event loops. */
    public List<Channel> channels() {
        return channels;
    }

    /** The address all channels are bound to. */
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) channels.get(0).localAddress();
    }

    /** Closes every channel and waits up to 5 s for each. */
    @Override
    public void close() throws InterruptedException {
        for (Channel ch : channels) {
            ch.close().await(5, TimeUnit.SECONDS);
        }
    }

    @Override
    public String toString() {
        return "ReusePortGroup(" + localAddress() + ", " + channels.size() + " channels)";
    }
}
