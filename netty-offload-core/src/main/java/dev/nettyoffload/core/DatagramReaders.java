package dev.nettyoffload.core;

import dev.nettyoffload.core.uring.IoUringDatagramReader;
import dev.nettyoffload.core.uring.ReaderMode;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.Promise;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Chooses the reader of a datagram channel for its transport and JVM, installs it, and tells which one a channel
 * uses and why. {@link DatagramChannelTuning#apply(io.netty.bootstrap.Bootstrap, Transport)} calls it; use it
 * directly from a {@code ChannelInitializer} with {@link #install(Channel, DatagramReaderChoice)}.
 * <table>
 *   <caption>The choice</caption>
 *   <tr><th>transport, JVM</th><th>reader</th></tr>
 *   <tr><td>io_uring, kernel with UDP_GRO</td><td>{@link DatagramReader#IO_URING}, single-shot unless multishot
 *       is asked for ({@link ReaderMode#preferred()})</td></tr>
 *   <tr><td>epoll, Java 22+ with netty-offload-ffm on the class path</td><td>{@link DatagramReader#EPOLL_FFM},
 *       found through {@link DatagramReaderProvider}</td></tr>
 *   <tr><td>epoll otherwise</td><td>{@link DatagramReader#NETTY_UDP_GRO}</td></tr>
 *   <tr><td>NIO, or no UDP_GRO</td><td>{@link DatagramReader#NETTY}</td></tr>
 * </table>
 * {@link ReaderPreference#NETTY}, or the system property {@value #READER_PROPERTY}{@code =netty}, keeps Netty's
 * reader. A reader that fails to start leaves the channel to Netty's reader; {@link #of(Channel)} then says so.
 */
public final class DatagramReaders {
    /** System property: {@code netty} keeps Netty's reader on every channel; {@code best} (default) does not. */
    public static final String READER_PROPERTY = "dev.nettyoffload.datagramReader";

    private static final InternalLogger logger = InternalLoggerFactory.getInstance(DatagramReaders.class);
    static final AttributeKey<DatagramReaderChoice> CHOICE =
            AttributeKey.valueOf(DatagramReaders.class, "choice");
    static final AttributeKey<Promise<DatagramReaderChoice>> STARTED =
            AttributeKey.valueOf(DatagramReaders.class, "started");

    private static volatile Providers providers;

    private DatagramReaders() {
    }

    /** {@link #choose(Transport, ReaderPreference, OffloadCapabilities)} for this JVM with {@link ReaderPreference#BEST}. */
    public static DatagramReaderChoice choose(Transport transport) {
        return choose(transport, ReaderPreference.BEST, OffloadCapabilities.get());
    }

    /** The reader {@link #install} puts on a channel of {@code transport}, and why. */
    public static DatagramReaderChoice choose(Transport transport, ReaderPreference preference,
                                              OffloadCapabilities caps) {
        if (transport == Transport.NIO) {
            return new DatagramReaderChoice(transport, DatagramReader.NETTY,
                    "NIO has no kernel batch receive; GroAggregator batches in software");
        }
        if (!caps.isUdpGroSupported()) {
            return new DatagramReaderChoice(transport, DatagramReader.NETTY,
                    "UDP_GRO unsupported (" + caps.udpGroProblem() + "); GroAggregator batches in software");
        }
        String optOut = optOut(preference);
        DatagramReader netty = transport == Transport.EPOLL ? DatagramReader.NETTY_UDP_GRO : DatagramReader.NETTY;
        String nettyWhat = transport == Transport.EPOLL
                ? "kernel batches split into slices by Netty, joined back by GroAggregator without copying"
                : "one datagram per completion; GroAggregator batches in software (give it a flush delay)";
        if (optOut != null) {
            return new DatagramReaderChoice(transport, netty, optOut + "; " + nettyWhat);
        }
        if (transport == Transport.IO_URING) {
            String problem = IoUringDatagramReader.unavailabilityReason();
            if (problem != null) {
                return new DatagramReaderChoice(transport, netty, problem + "; " + nettyWhat);
            }
            return new DatagramReaderChoice(transport, DatagramReader.IO_URING, ReaderMode.preferredDescription());
        }
        Providers p = providers();
        DatagramReaderProvider provider = p.find(transport);
        if (provider == null) {
            return new DatagramReaderChoice(transport, netty, p.missingReason(transport) + "; " + nettyWhat);
        }
        return new DatagramReaderChoice(transport, provider.reader(),
                "FFM recvmsg with UDP_GRO on a dup of the fd: one SegmentedDatagramPacket per kernel batch");
    }

    private static String optOut(ReaderPreference preference) {
        if (preference == ReaderPreference.NETTY) {
            return "Netty's reader asked for (ReaderPreference.NETTY)";
        }
        String property = System.getProperty(READER_PROPERTY, "best").trim().toLowerCase(Locale.ROOT);
        if (property.equals("netty")) {
            return "Netty's reader asked for (-D" + READER_PROPERTY + "=netty)";
        }
        return null;
    }

    /**
     * Puts {@code choice}'s reader on {@code channel}, a datagram channel of {@code choice.transport()} that is
     * registered or about to be (call it from a {@code ChannelInitializer}, or before bind). Batch readers start
     * when the channel becomes active (bound or connected), through a handler first in the pipeline that removes
     * itself; the socket options of Netty's readers are {@link DatagramChannelTuning}'s. Does nothing when the
     * channel already has a reader installed. Returns {@code channel}.
     */
    public static Channel install(Channel channel, DatagramReaderChoice choice) {
        if (channel.hasAttr(CHOICE) && channel.attr(CHOICE).get() != null) {
            return channel;
        }
        channel.attr(CHOICE).set(choice);
        Promise<DatagramReaderChoice> started = GlobalEventExecutor.INSTANCE.newPromise();
        channel.attr(STARTED).set(started);
        if (choice.reader().deliversBatches()) {
            ChannelPipeline pipeline = channel.pipeline();
            if (pipeline.get(DatagramReaderInstaller.NAME) == null) {
                pipeline.addFirst(DatagramReaderInstaller.NAME, new DatagramReaderInstaller(choice, started));
            }
        } else {
            started.setSuccess(choice);
        }
        return channel;
    }

    /**
     * Completes with what reads {@code channel} once its installed reader has started (a batch reader starts
     * when the channel becomes active and has asked for UDP_GRO), or has failed to and left the channel to
     * Netty's reader; at once for Netty's readers and for channels without an installed reader. Datagrams that
     * arrive before are not lost: they are read one by one.
     */
    public static Future<DatagramReaderChoice> whenStarted(Channel channel) {
        Promise<DatagramReaderChoice> started = channel.hasAttr(STARTED) ? channel.attr(STARTED).get() : null;
        if (started == null) {
            return GlobalEventExecutor.INSTANCE.newSucceededFuture(of(channel));
        }
        return started;
    }

    /** Same as {@link #install(Channel, DatagramReaderChoice)} with {@link #choose(Transport)} for the channel's transport. */
    public static Channel install(Channel channel) {
        return install(channel, choose(Transport.of(channel.getClass())));
    }

    /**
     * The reader that reads {@code channel} now and why: the installed choice while its reader runs, else what
     * Netty's reader does there (and why the chosen one does not run).
     */
    public static DatagramReaderChoice of(Channel channel) {
        Transport transport = Transport.of(channel.getClass());
        DatagramReaderChoice installed = channel.hasAttr(CHOICE) ? channel.attr(CHOICE).get() : null;
        if (transport == Transport.IO_URING) {
            IoUringDatagramReader reader = IoUringDatagramReader.of(channel);
            if (reader != null && reader.isReading()) {
                // The mode that runs, which a kernel refusal may have changed since the choice.
                return new DatagramReaderChoice(transport, DatagramReader.IO_URING, reader.description());
            }
        } else if (transport == Transport.EPOLL) {
            DatagramReaderProvider provider = providers().find(transport);
            if (provider != null && provider.isReading(channel)) {
                return installed != null && installed.reader() == provider.reader() ? installed
                        : new DatagramReaderChoice(transport, provider.reader(), provider.describe(channel));
            }
        }
        boolean gro = transport == Transport.EPOLL
                && Boolean.TRUE.equals(channel.config().getOption(EpollChannelOption.UDP_GRO));
        DatagramReader netty = gro ? DatagramReader.NETTY_UDP_GRO : DatagramReader.NETTY;
        if (installed != null && installed.reader() == netty) {
            return installed;
        }
        String why;
        if (installed != null && installed.reader().deliversBatches()) {
            why = installed.reader().displayName() + " is not reading"
                    + (channel.pipeline().get(DatagramReaderInstaller.NAME) != null ? " yet (starts when active)" : "");
        } else {
            why = "no batch reader installed";
        }
        return new DatagramReaderChoice(transport, netty, why);
    }

    /** Loaded providers and why others could not be, once per JVM. */
    static Providers providers() {
        Providers p = providers;
        if (p == null) {
            synchronized (DatagramReaders.class) {
                p = providers;
                if (p == null) {
                    p = Providers.load();
                    providers = p;
                }
            }
        }
        return p;
    }

    /** The providers on the class path, with the reasons of those that cannot run here. */
    static final class Providers {
        private final List<DatagramReaderProvider> usable;
        private final List<String> problems;

        Providers(List<DatagramReaderProvider> usable, List<String> problems) {
            this.usable = Collections.unmodifiableList(usable);
            this.problems = Collections.unmodifiableList(problems);
        }

        static Providers load() {
            List<DatagramReaderProvider> usable = new ArrayList<>();
            List<String> problems = new ArrayList<>();
            ServiceLoader<DatagramReaderProvider> loader =
                    ServiceLoader.load(DatagramReaderProvider.class, DatagramReaders.class.getClassLoader());
            var it = loader.iterator();
            while (true) {
                try {
                    if (!it.hasNext()) {
                        break;
                    }
                    DatagramReaderProvider provider = it.next();
                    String problem = provider.unavailabilityReason();
                    if (problem == null) {
                        usable.add(provider);
                    } else {
                        problems.add(provider.reader().displayName() + " unavailable: " + problem);
                    }
                } catch (ServiceConfigurationError | LinkageError e) {
                    problems.add(loadProblem(e));
                    logger.debug("a DatagramReaderProvider could not be loaded", e);
                }
            }
            return new Providers(usable, problems);
        }

        private static String loadProblem(Throwable e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof UnsupportedClassVersionError) {
                    return "netty-offload-ffm is on the class path but needs Java 22+ (this is Java "
                            + Runtime.version().feature() + ")";
                }
            }
            return "a reader provider failed to load: " + e;
        }

        DatagramReaderProvider find(Transport transport) {
            for (DatagramReaderProvider p : usable) {
                if (p.transport() == transport) {
                    return p;
                }
            }
            return null;
        }

        String missingReason(Transport transport) {
            if (!problems.isEmpty()) {
                return String.join("; ", problems);
            }
            return Runtime.version().feature() < 22
                    ? "no batch reader for " + transport.displayName() + " on Java " + Runtime.version().feature()
                    + " (EpollBatchReader needs Java 22+ and netty-offload-ffm)"
                    : "netty-offload-ffm (EpollBatchReader) is not on the class path";
        }

        @Override
        public String toString() {
            return "providers " + usable + ", problems " + problems;
        }
    }
}
