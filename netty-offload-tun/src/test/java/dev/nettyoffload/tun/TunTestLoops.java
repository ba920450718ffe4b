package dev.nettyoffload.tun;

import dev.nettyoffload.testkit.Prerequisites;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;

import java.util.concurrent.TimeUnit;

/**
 * The prerequisites of the tests that open TUN devices in network namespaces (root, FFM system calls, epoll),
 * checked through {@link Prerequisites} so that they skip, or fail under {@code OFFLOAD_REQUIRE_ALL=1}, with the
 * reason; and their epoll event loops.
 */
final class TunTestLoops {
    private TunTestLoops() {
    }

    /** Checks the prerequisites, then starts {@code threads} epoll event loops. */
    static EventLoopGroup start(int threads) {
        Prerequisites.requireNetns();
        Prerequisites.require(TunChannel.isSupported(), "FFM system calls: " + TunChannel.isSupported());
        Prerequisites.requireTransport("epoll", Epoll.unavailabilityCause());
        return new MultiThreadIoEventLoopGroup(threads, EpollIoHandler.newFactory());
    }

    /** Stops {@code group} if {@link #start} got that far. */
    static void stop(EventLoopGroup group) {
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
