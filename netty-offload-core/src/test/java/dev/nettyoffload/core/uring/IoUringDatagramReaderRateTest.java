package dev.nettyoffload.core.uring;

import dev.nettyoffload.core.DatagramChannelTuning;
import dev.nettyoffload.core.ReaderPreference;
import dev.nettyoffload.core.OffloadCapabilities;
import dev.nettyoffload.core.Transport;
import dev.nettyoffload.testkit.Prerequisites;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Not a benchmark: prints the receive rate of a loopback UDP_SEGMENT flood with our reader (single-shot and
 * multishot) and with Netty's io_uring reader, so a change that breaks batching shows up in the output. Asserts
 * only that data arrived. {@code -Drate.rounds=N} interleaves N rounds and prints medians (a quick comparison; the
 * harness in {@code benchmarks/} is the measurement).
 */
class IoUringDatagramReaderRateTest {
    private static final int SEGMENT_SIZE = 1400;
    private static final int SEGMENTS = 40;
    private static final long WARMUP_MS = 300;
    private static final long MEASURE_MS = 1000;

    @Test
    void printReceiveRates() throws Exception {
        Prerequisites.require(IoUringDatagramReader.isSupported(), "io_uring reader: "
                + IoUringDatagramReader.unavailabilityReason());
        Prerequisites.requireTransport("epoll", Transport.EPOLL.unavailabilityCause());
        OffloadCapabilities caps = OffloadCapabilities.get();
        Prerequisites.require(caps.isKernelSegmentationAvailable(Transport.EPOLL), "UDP_SEGMENT on epoll");
        EventLoopGroup uring = Transport.IO_URING.newEventLoopGroup(1);
        EventLoopGroup epoll = Transport.EPOLL.newEventLoopGroup(1);
        try {
            // -Drate.rounds=N: N interleaved rounds of the three readers, medians printed at the end.
            int rounds = Integer.getInteger("rate.rounds", 1);
            ReaderMode[] modes = {ReaderMode.SINGLE_SHOT, ReaderMode.MULTISHOT, null};
            long[][][] results = new long[modes.length][rounds][];
            for (int r = 0; r < rounds; r++) {
                for (int m = 0; m < modes.length; m++) {
                    results[m][r] = run(uring, epoll, modes[m]);
                }
            }
            System.out.printf("io_uring receive of a UDP_SEGMENT flood (%d x %d bytes per send), loopback, median of"
                    + " %d round(s):%n", SEGMENTS, SEGMENT_SIZE, rounds);
            for (int m = 0; m < modes.length; m++) {
                long datagrams = median(results[m], 0);
                long messages = median(results[m], 1);
                System.out.printf("  %-22s %,d datagrams/s in %,d messages/s (%.1f datagrams per message), "
                        + "%.2f us receiving-thread CPU per datagram%n", name(modes[m]) + ":", datagrams, messages,
                        (double) datagrams / Math.max(1, messages), median(results[m], 2) / 1e6);
                assertTrue(datagrams > 0, name(modes[m]));
            }
        } finally {
            uring.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).sync();
            epoll.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).sync();
        }
    }

    private static String name(ReaderMode mode) {
        return mode == null ? "Netty's reader" : "our reader, " + mode.name().toLowerCase(java.util.Locale.ROOT);
    }

    private static long median(long[][] rounds, int index) {
        long[] values = new long[rounds.length];
        for (int i = 0; i < rounds.length; i++) {
            values[i] = rounds[i][index];
        }
        java.util.Arrays.sort(values);
        return values[values.length / 2];
    }

    /**
     * Returns {datagrams per second, messages per second, receiving-thread CPU nanoseconds per 1000 datagrams}
     * for our reader in {@code mode}, or Netty's when {@code mode} is {@code null}.
     */
    private static long[] run(EventLoopGroup uring, EventLoopGroup epoll, ReaderMode mode) throws Exception {
        boolean ours = mode != null;
        Counter counter = new Counter();
        Bootstrap b = new Bootstrap().group(uring).channel(Transport.IO_URING.datagramChannelClass())
                .handler(counter);
        // Netty's reader from apply; ours attached by hand below, to compare the two.
        DatagramChannelTuning.apply(b, Transport.IO_URING, ReaderPreference.NETTY);
        if (ours) {
            b.option(ChannelOption.AUTO_READ, false);
        }
        Channel rx = b.bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        Channel tx = new Bootstrap().group(epoll).channel(Transport.EPOLL.datagramChannelClass())
                .handler(new ChannelInboundHandlerAdapter())
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong sends = new AtomicLong();
        ByteBuf payload = tx.alloc().directBuffer(SEGMENTS * SEGMENT_SIZE).writeZero(SEGMENTS * SEGMENT_SIZE);
        try {
            if (ours) {
                IoUringDatagramReader.attach(rx, mode, IoUringDatagramReader.DEFAULT_BUFFER_SIZE,
                        mode == ReaderMode.MULTISHOT ? IoUringDatagramReader.DEFAULT_PROVIDED_BUFFERS
                                : IoUringDatagramReader.DEFAULT_RECEIVES_IN_FLIGHT).sync();
            }
            InetSocketAddress to = (InetSocketAddress) rx.localAddress();
            Runnable burst = new Runnable() {
                @Override
                public void run() {
                    if (stop.get()) {
                        return;
                    }
                    int i = 0;
                    for (; i < 16 && tx.isWritable(); i++) {
                        tx.write(new SegmentedDatagramPacket(payload.retainedDuplicate(), SEGMENT_SIZE, to),
                                tx.voidPromise());
                    }
                    sends.addAndGet(i);
                    tx.flush();
                    tx.eventLoop().execute(this);
                }
            };
            tx.eventLoop().execute(burst);
            Thread.sleep(WARMUP_MS);
            long d0 = counter.datagrams.get();
            long m0 = counter.messages.get();
            long s0 = sends.get();
            long drops0 = udpReceiveBufferErrors();
            long rxThread = rx.eventLoop().submit(() -> Thread.currentThread().getId()).get();
            java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
            long cpu0 = mx.getThreadCpuTime(rxThread);
            Thread.sleep(MEASURE_MS);
            long d1 = counter.datagrams.get();
            long m1 = counter.messages.get();
            long s1 = sends.get();
            long drops1 = udpReceiveBufferErrors();
            long cpu1 = mx.getThreadCpuTime(rxThread);
            System.out.printf("  %s: sender %,d datagrams/s, receive-buffer drops %,d/s, receiving thread "
                    + "%.0f%% CPU, %.2f us CPU per datagram, %.2f us per message%n",
                    name(mode), (s1 - s0) * SEGMENTS * 1000 / MEASURE_MS,
                    (drops1 - drops0) * 1000 / MEASURE_MS, (cpu1 - cpu0) / (MEASURE_MS * 1e4),
                    (cpu1 - cpu0) / 1e3 / Math.max(1, d1 - d0), (cpu1 - cpu0) / 1e3 / Math.max(1, m1 - m0));
            if (ours) {
                System.out.println("  " + IoUringDatagramReader.of(rx));
            }
            return new long[] {(d1 - d0) * 1000 / MEASURE_MS, (m1 - m0) * 1000 / MEASURE_MS,
                (cpu1 - cpu0) * 1000 / Math.max(1, d1 - d0)};
        } finally {
            stop.set(true);
            tx.close().sync();
            rx.close().sync();
            payload.release();
        }
    }

    /** Udp RcvbufErrors from /proc/net/snmp (datagrams dropped for a full receive buffer), or 0. */
    private static long udpReceiveBufferErrors() {
        try {
            java.util.List<String> lines = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/net/snmp"));
            String[] names = null;
            for (String line : lines) {
                if (line.startsWith("Udp: ")) {
                    String[] fields = line.substring(5).trim().split("\\s+");
                    if (names == null) {
                        names = fields;
                    } else {
                        for (int i = 0; i < names.length; i++) {
                            if (names[i].equals("RcvbufErrors")) {
                                return Long.parseLong(fields[i]);
                            }
                        }
                    }
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            return 0;
        }
        return 0;
    }

    private static final class Counter extends ChannelInboundHandlerAdapter {
        final AtomicLong datagrams = new AtomicLong();
        final AtomicLong messages = new AtomicLong();

        @Override
        public boolean isSharable() {
            return true;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof SegmentedDatagramPacket) {
                SegmentedDatagramPacket p = (SegmentedDatagramPacket) msg;
                int n = p.content().readableBytes();
                datagrams.addAndGet((n + p.segmentSize() - 1) / p.segmentSize());
            } else if (msg instanceof DatagramPacket) {
                datagrams.incrementAndGet();
            }
            messages.incrementAndGet();
            ReferenceCountUtil.release(msg);
        }
    }
}
