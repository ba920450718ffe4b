package dev.nettyoffload.ffm;

import dev.nettyoffload.core.DatagramChannelTuning;
import dev.nettyoffload.core.OffloadCapabilities;
import dev.nettyoffload.core.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * Rough loopback comparison, not a test: a UDP_SEGMENT sender of 1400-byte segments (as many as fit 64 KiB)
 * against an epoll receiver read by {@link EpollBatchReader} or by Netty's reader with UDP_GRO (both with
 * {@link DatagramChannelTuning}). Prints received datagrams/s and the receiver thread's CPU per datagram.
 * <p>
 * Run with the module's test class path, {@code --enable-native-access=ALL-UNNAMED}, leak detection off;
 * arguments: seconds per round (default 5), rounds (default 3).
 */
public final class ReaderThroughputMain {
    private static final int SEGMENT_SIZE = 1400;

    private ReaderThroughputMain() {
    }

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int segments = Math.min(OffloadCapabilities.get().maxSegmentsPerSend(), 65000 / SEGMENT_SIZE);
        System.out.printf("segments per send: %d x %d B; %s%n", segments, SEGMENT_SIZE, OffloadCapabilities.get());
        for (int round = 0; round < rounds; round++) {
            for (boolean ffm : new boolean[] {true, false}) {
                run(ffm, segments, seconds);
            }
        }
    }

    private static void run(boolean ffm, int segments, int seconds) throws Exception {
        EventLoopGroup receiverGroup = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        EventLoopGroup senderGroup = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        Counter counter = new Counter();
        try {
            InetAddress loopback = InetAddress.getLoopbackAddress();
            EpollDatagramChannel receiver = (EpollDatagramChannel) DatagramChannelTuning.apply(new Bootstrap(),
                            Transport.EPOLL)
                    .group(receiverGroup).channel(EpollDatagramChannel.class).handler(counter)
                    .bind(new InetSocketAddress(loopback, 0)).sync().channel();
            EpollBatchReader reader = ffm ? EpollBatchReader.install(receiver).sync().getNow() : null;
            EpollDatagramChannel sender = (EpollDatagramChannel) DatagramChannelTuning.apply(new Bootstrap(),
                            Transport.EPOLL)
                    .group(senderGroup).channel(EpollDatagramChannel.class)
                    .handler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                            // ENOBUFS and the like under overload: keep sending.
                        }
                    })
                    .bind(new InetSocketAddress(loopback, 0)).sync().channel();
            ByteBuf payload = Unpooled.directBuffer(segments * SEGMENT_SIZE).writeZero(segments * SEGMENT_SIZE);
            InetSocketAddress to = receiver.localAddress();
            boolean[] running = {true};
            Runnable pump = new Runnable() {
                @Override
                public void run() {
                    if (!running[0]) {
                        return;
                    }
                    for (int i = 0; i < 8 && sender.isWritable(); i++) {
                        sender.write(new SegmentedDatagramPacket(payload.retainedDuplicate(), SEGMENT_SIZE, to),
                                sender.voidPromise());
                    }
                    sender.flush();
                    sender.eventLoop().execute(this);
                }
            };
            sender.eventLoop().execute(pump);

            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            long receiverThread = receiver.eventLoop().submit(() -> Thread.currentThread().threadId()).get();
            Thread.sleep(1000); // warm-up
            long d0 = counter.datagrams;
            long b0 = counter.batches;
            long cpu0 = threads.getThreadCpuTime(receiverThread);
            long t0 = System.nanoTime();
            Thread.sleep(seconds * 1000L);
            long d1 = counter.datagrams;
            long b1 = counter.batches;
            long cpu1 = threads.getThreadCpuTime(receiverThread);
            long t1 = System.nanoTime();
            sender.eventLoop().submit(() -> running[0] = false).sync();

            double secs = (t1 - t0) / 1e9;
            double datagrams = d1 - d0;
            System.out.printf("%-28s %,12.0f datagrams/s  %6.2f Gbit/s  %,10.0f packets/s to the pipeline"
                            + "  receiver CPU %5.1f%%  %6.0f ns CPU/datagram%n",
                    ffm ? "EpollBatchReader (FFM)" : "Netty reader + UDP_GRO",
                    datagrams / secs, datagrams * SEGMENT_SIZE * 8 / secs / 1e9, (b1 - b0) / secs,
                    100.0 * (cpu1 - cpu0) / (t1 - t0), (cpu1 - cpu0) / Math.max(1, datagrams));
            if (reader != null) {
                System.out.println("  " + receiver.eventLoop().submit(reader::toString).get());
            }
            sender.close().sync();
            receiver.close().sync();
            payload.release();
        } finally {
            senderGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
            receiverGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /** Counts on the receiver's loop; read racily from main, which is fine for a rate. */
    private static final class Counter extends ChannelInboundHandlerAdapter {
        volatile long datagrams;
        volatile long batches;

        @Override
        public boolean isSharable() {
            return true;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            DatagramPacket packet = (DatagramPacket) msg;
            int length = packet.content().readableBytes();
            long n = packet instanceof SegmentedDatagramPacket s ? (length + s.segmentSize() - 1) / s.segmentSize() : 1;
            datagrams += n;
            batches++;
            packet.release();
        }
    }
}
