package dev.nettyoffload.core;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;

/**
 * The Netty transports this project runs on, with their availability and the channel classes to use.
 * <p>
 * The native transports are optional: when their native library cannot be loaded (not Linux, another
 * architecture, io_uring disabled by the kernel) {@link #isAvailable()} is {@code false} and
 * {@link #unavailabilityCause()} says why, and {@link #best()} falls back to {@link #NIO}.
 */
public enum Transport {
    EPOLL("epoll"),
    IO_URING("io_uring"),
    NIO("nio");

    private final String displayName;

    Transport(String displayName) {
        this.displayName = displayName;
    }

    /** The name used in logs, reports and command lines ({@code epoll}, {@code io_uring}, {@code nio}). */
    public String displayName() {
        return displayName;
    }

    /** Whether this transport can be used in this JVM. */
    public boolean isAvailable() {
        return unavailabilityCause() == null;
    }

    /** Why this transport cannot be used, or {@code null} when it can. */
    public Throwable unavailabilityCause() {
        try {
            switch (this) {
                case EPOLL:
                    return Epoll.unavailabilityCause();
                case IO_URING:
                    return IoUring.unavailabilityCause();
                default:
                    return null;
            }
        } catch (LinkageError e) {
            // The transport's classes are on the class path but its native jar is not.
            return e;
        }
    }

    /** Whether channels of this transport send {@code SegmentedDatagramPacket}s with UDP_SEGMENT. */
    public boolean isSegmentedDatagramPacketSupported() {
        switch (this) {
            case EPOLL:
                return isAvailable() && EpollDatagramChannel.isSegmentedDatagramPacketSupported();
            case IO_URING:
                return isAvailable() && IoUringDatagramChannel.isSegmentedDatagramPacketSupported();
            default:
                // NioDatagramChannel accepts the message but ignores its segment size.
                return false;
        }
    }

    /** A new {@link IoHandlerFactory} for this transport; fails if it is not available. */
    public IoHandlerFactory newIoHandlerFactory() {
        ensureAvailable();
        switch (this) {
            case EPOLL:
                return EpollIoHandler.newFactory();
            case IO_URING:
                return IoUringIoHandler.newFactory();
            default:
                return NioIoHandler.newFactory();
        }
    }

    /** A new event loop group of {@code threads} threads on this transport. */
    public EventLoopGroup newEventLoopGroup(int threads) {
        return new MultiThreadIoEventLoopGroup(threads, newIoHandlerFactory());
    }

    public Class<? extends DatagramChannel> datagramChannelClass() {
        switch (this) {
            case EPOLL:
                return EpollDatagramChannel.class;
            case IO_URING:
                return IoUringDatagramChannel.class;
            default:
                return NioDatagramChannel.class;
        }
    }

    public Class<? extends SocketChannel> socketChannelClass() {
        switch (this) {
            case EPOLL:
                return EpollSocketChannel.class;
            case IO_URING:
                return IoUringSocketChannel.class;
            default:
                return NioSocketChannel.class;
        }
    }

    public Class<? extends ServerSocketChannel> serverSocketChannelClass() {
        switch (this) {
            case EPOLL:
                return EpollServerSocketChannel.class;
            case IO_URING:
                return IoUringServerSocketChannel.class;
            default:
                return NioServerSocketChannel.class;
        }
    }

    /** Throws an {@link UnsupportedOperationException} naming the cause when this transport is not available. */
    public void ensureAvailable() {
        Throwable cause = unavailabilityCause();
        if (cause != null) {
            throw new UnsupportedOperationException(displayName + " transport is not available: " + cause, cause);
        }
    }

    /** The transport of a channel class, or {@link #NIO} for anything that is not native. */
    public static Transport of(Class<?> channelClass) {
        String name = channelClass.getName();
        if (name.startsWith("io.netty.channel.epoll.")) {
            return EPOLL;
        }
        if (name.startsWith("io.netty.channel.uring.")) {
            return IO_URING;
        }
        return NIO;
    }

    /** The fastest available transport: epoll, then io_uring, then NIO. */
    public static Transport best() {
        if (EPOLL.isAvailable()) {
            return EPOLL;
        }
        if (IO_URING.isAvailable()) {
            return IO_URING;
        }
        return NIO;
    }

    /** Parses a {@link #displayName()} or enum name, case-insensitively. */
    public static Transport fromName(String name) {
        for (Transport t : values()) {
            if (t.displayName.equalsIgnoreCase(name) || t.name().equalsIgnoreCase(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown transport: " + name + " (expected epoll, io_uring or nio)");
    }

    @Override
    public String toString() {
        return displayName;
    }
}
