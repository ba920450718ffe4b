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
 * Not a benchmark: prints the receive rate of a loopback UDP_SEGMENT flood with our reader and with Netty's
 * io_uring reader, so a change that breaks batching shows up in the output. Asserts only that data arrived.
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
            long[] ours = run(uring, epoll, true);
            long[] netty = run(uring, epoll, false);
            System.out.printf("io_uring receive of a UDP_SEGMENT flood (%d x %d bytes per send), loopback:%n"
                    + "  our reader:     %,d datagrams/s in %,d messages/s (%.1f datagrams per message)%n"
                    + "  Netty's reader: %,d datagrams/s in %,d messages/s (%.1f datagrams per message)%n",
                    SEGMENTS, SEGMENT_SIZE, ours[0], ours[1], (double) ours[0] / Math.max(1, ours[1]),
                    netty[0], netty[1], (double) netty[0] / Math.max(1, netty[1]));
            assertTrue(ours[0] > 0 && netty[0] > 0);
        } finally {
            uring.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).sync();
            epoll.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).sync();
        }
    }

    /** Returns {datagrams per second, messages per second}. */
    private static long[] run(EventLoopGroup uring, EventLoopGroup epoll, boolean ours) throws Exception {
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
                IoUringDatagramReader.attach(rx).sync();
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
            System.out.printf("  %s reader: sender %,d datagrams/s, receive-buffer drops %,d/s, receiving thread "
                    + "%.0f%% CPU, %.2f us CPU per datagram, %.2f us per message%n",
                    ours ? "our" : "Netty's", (s1 - s0) * SEGMENTS * 1000 / MEASURE_MS,
                    (drops1 - drops0) * 1000 / MEASURE_MS, (cpu1 - cpu0) / (MEASURE_MS * 1e4),
                    (cpu1 - cpu0) / 1e3 / Math.max(1, d1 - d0), (cpu1 - cpu0) / 1e3 / Math.max(1, m1 - m0));
            if (ours) {
                System.out.println("  " + IoUringDatagramReader.of(rx));
            }
            return new long[] {(d1 - d0) * 1000 / MEASURE_MS, (m1 - m0) * 1000 / MEASURE_MS};
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
