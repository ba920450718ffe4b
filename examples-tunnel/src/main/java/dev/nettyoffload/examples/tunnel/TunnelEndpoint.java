package dev.nettyoffload.examples.tunnel;

import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.ffm.EpollBatchReader;
import dev.nettyoffload.gro.MergedChecksum;
import dev.nettyoffload.gro.PacketGroAggregator;
import dev.nettyoffload.gro.PacketGroConfig;
import dev.nettyoffload.gso.GsoConfig;
import dev.nettyoffload.gso.GsoEncoder;
import dev.nettyoffload.tun.TunAddress;
import dev.nettyoffload.tun.TunChannel;
import dev.nettyoffload.tun.TunChannelOption;
import dev.nettyoffload.tun.TunOffload;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.util.ResourceLeakDetector;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One end of a point-to-point IP-in-UDP tunnel: a {@link TunChannel} and an {@link EpollDatagramChannel} on one
 * event loop (one thread, no hand-offs).
 * <pre>
 * TUN read (super-packet) -> TunnelEncapsulator: segment, encapsulate, one SegmentedDatagramPacket per run
 *                         -> GsoEncoder: one UDP_SEGMENT send
 * UDP_GRO batch (EpollBatchReader) -> TunnelDecapsulator: inner packets, zero copy
 *                         -> PacketGroAggregator: merged TCP/UDP runs -> TunWriter: one virtio_net_hdr write to TUN
 * </pre>
 * Inner TCP/UDP checksums stay partial end to end by default, as the kernel keeps them {@code CHECKSUM_PARTIAL}
 * from socket to device: no Java pass over the payload on either side for TSO traffic ({@link InnerChecksums}
 * says why that is safe, and what {@code --inner-checksums complete} does instead).
 * With {@code --udp-offloads off} it is the classic per-packet tunnel: Netty's own reader (one datagram per
 * read), no GRO, one datagram per send. {@code --tun-offloads off} makes the TUN device refuse offloads, so it
 * hands over and takes plain packets only. Run as a main inside the namespace that should hold the device: it
 * prints {@code READY}, then answers each {@code stats} line on standard input with one line of
 * {@code name=value} counts, and stops at the end of input.
 * <p>
 * For the peer to read whole batches: each send stays one GSO skb (the encapsulator keeps a batch's frame below
 * the device's {@code gso_max_size}, see {@code UdpLimits.maxSegmentedPayload}; nothing to set), the reader
 * sets {@code UDP_GRO} on the socket, and the receiving device should have GRO on, so that datagrams that reach it
 * together are merged again: a physical NIC has it by default, a veth only with
 * {@code ethtool -K DEV gro on rx-udp-gro-forwarding on} (both; {@code TunnelPair} sets them). The
 * {@code reader.datagrams}/{@code reader.batches} counts of {@code stats} show the datagrams per read.
 */
public final class TunnelEndpoint implements AutoCloseable {
    private final TunnelOptions options;
    private final EventLoopGroup group;
    private final TunnelCounters counters = new TunnelCounters();
    private TunChannel tun;
    private EpollDatagramChannel udp;
    private EpollBatchReader reader;
    private GsoEncoder gsoEncoder;
    private PacketGroAggregator gro;

    private TunnelEndpoint(TunnelOptions options) {
        this.options = options;
        this.group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    }

    /** Starts an endpoint with the command-line {@code args} (see {@link TunnelOptions}). */
    public static TunnelEndpoint start(String... args) throws Exception {
        TunnelEndpoint e = new TunnelEndpoint(TunnelOptions.parse(args));
        try {
            e.start();
            return e;
        } catch (Exception ex) {
            e.close();
            throw ex;
        }
    }

    private void start() throws Exception {
        TunnelCipher sendCipher = options.key == null ? null : new TunnelCipher(options.key);
        TunnelCipher receiveCipher = options.key == null ? null : new TunnelCipher(options.key);
        boolean offload = options.udpOffloads;
        boolean partial = options.innerChecksums == InnerChecksums.Mode.PARTIAL;

        ZeroChecksumFilter.Program filter = ZeroChecksumFilter.program();
        udp = (EpollDatagramChannel) new Bootstrap()
                .group(group)
                .channel(EpollDatagramChannel.class)
                // Only datagrams whose UDP checksum the kernel verified: see InnerChecksums.
                .option(ZeroChecksumFilter.SO_ATTACH_FILTER, filter.fprog())
                .option(ChannelOption.SO_RCVBUF, 8 << 20)
                .option(ChannelOption.SO_SNDBUF, 8 << 20)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(2 << 20, 4 << 20))
                .handler(new ChannelInboundHandlerAdapter())
                .bind(options.local)
                .sync()
                .channel();
        Reference.reachabilityFence(filter);

        tun = (TunChannel) new Bootstrap()
                .group(group)
                .channel(TunChannel.class)
                .option(TunChannelOption.OFFLOADS,
                        options.tunOffloads ? TunOffload.all() : EnumSet.noneOf(TunOffload.class))
                .option(TunChannelOption.MTU, options.mtu)
                // PARTIAL: every TCP/UDP packet reaching TUN was verified or is covered by the outer checksum.
                .option(TunChannelOption.PARTIAL_CHECKSUM_WRITES, partial)
                .handler(new ChannelInboundHandlerAdapter())
                .bind(new TunAddress(options.tun))
                .sync()
                .channel();

        group.submit(() -> {
            if (offload) {
                // Plain datagrams (up to the MTU) pass; SegmentedDatagramPackets go down as UDP_SEGMENT sends.
                gsoEncoder = new GsoEncoder(GsoConfig.newBuilder().segmentSize(65507).build());
                udp.pipeline().addLast("gso", gsoEncoder);
            }
            udp.pipeline().addLast("decapsulate", new TunnelDecapsulator(receiveCipher, options.innerChecksums,
                    counters));
            if (offload) {
                gro = new PacketGroAggregator(partial
                        ? PacketGroConfig.newBuilder().trustL4Checksums(true).mergedChecksum(MergedChecksum.PARTIAL)
                        .build()
                        : PacketGroConfig.DEFAULT);
                udp.pipeline().addLast("gro", gro);
            }
            udp.pipeline().addLast("tun", new TunWriter(tun, counters));
            tun.pipeline().addLast("encapsulate",
                    new TunnelEncapsulator(udp, options.peer, offload, sendCipher, options.innerChecksums,
                            options.segmentCopy, counters));
            tun.pipeline().addLast("errors", new ExceptionCounter());
        }).sync();
        if (offload) {
            reader = EpollBatchReader.install(udp).sync().getNow();
        }
        for (String cidr : options.tunCidrs) {
            ip("addr", "add", cidr, "dev", tun.localAddress().name());
        }
        ip("link", "set", tun.localAddress().name(), "up");
    }

    private static void ip(String... args) throws IOException, InterruptedException {
        List<String> cmd = new java.util.ArrayList<>(List.of("ip"));
        if (args[0].equals("addr") && args[2].contains(":")) {
            cmd.add("-6");
        }
        cmd.addAll(List.of(args));
        if (cmd.contains("-6")) {
            cmd.add("nodad");
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException(cmd + " failed: " + out);
        }
    }

    /** The TUN channel. */
    public TunChannel tun() {
        return tun;
    }

    /** Every count of every stage, read on the event loop: the tunnel's, TUN's, the reader's, GSO's and GRO's. */
    public Map<String, Object> stats() throws Exception {
        return group.submit(() -> {
            Map<String, Object> m = new LinkedHashMap<>(counters.toMap());
            var t = tun.counters();
            m.put("tun.reads", t.reads());
            m.put("tun.gsoReads", t.gsoReads());
            m.put("tun.segmentsRead", t.segmentsRead());
            m.put("tun.writes", t.writes());
            m.put("tun.gsoWrites", t.gsoWrites());
            m.put("tun.segmentedWrites", t.segmentedWrites());
            m.put("tun.partialChecksumWrites", t.partialChecksumWrites());
            m.put("tun.checksumsCompleted", t.checksumsCompleted());
            m.put("tun.writesDropped", t.writesDropped());
            m.put("tun.writeErrors", t.writeErrors());
            m.put("tun.offloads", tun.offloads().toString().replace(" ", ""));
            m.put("innerChecksums", options.innerChecksums);
            if (reader != null) {
                m.put("reader.batches", reader.batches());
                m.put("reader.datagrams", reader.datagrams());
                m.put("reader.segmentedBatches", reader.segmentedBatches());
                // A UDP_GRO batch larger than the 64 KiB receive buffer would be cut off here (MSG_TRUNC).
                m.put("reader.truncatedReads", reader.truncatedReads());
            }
            if (gsoEncoder != null) {
                m.put("gso.kernelPath", gsoEncoder.isKernelPath());
            }
            if (gro != null) {
                var g = gro.counters();
                m.put("gro.packetsIn", g.packetsIn());
                m.put("gro.mergedPacketsOut", g.mergedPacketsOut());
                m.put("gro.packetsMerged", g.packetsMerged());
                m.put("gro.checksumFailures", g.checksumFailures());
            }
            return m;
        }).get(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        if (reader != null) {
            reader.close();
        }
        if (tun != null) {
            tun.close().syncUninterruptibly();
        }
        if (udp != null) {
            udp.close().syncUninterruptibly();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Runs an endpoint until standard input ends; see the class comment. */
    public static void main(String[] args) throws Exception {
        try (TunnelEndpoint e = start(args)) {
            System.out.println("READY " + e.tun.localAddress() + " offloads=" + e.tun.offloads());
            System.out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null) {
                if (line.trim().equals("stats")) {
                    StringBuilder sb = new StringBuilder("STATS");
                    e.stats().forEach((k, v) -> sb.append(' ').append(k).append('=').append(v));
                    System.out.println(sb);
                    System.out.flush();
                }
            }
        }
        reportLeaks();
    }

    /**
     * Netty reports a leaked buffer only when an allocation finds it collected: collect and allocate once more
     * before exiting, so that a leak of the last moments reaches standard error ({@code LEAK:}) too.
     */
    private static void reportLeaks() throws InterruptedException {
        if (!ResourceLeakDetector.isEnabled()) {
            return;
        }
        for (int round = 0; round < 2; round++) {
            System.gc();
            Thread.sleep(20);
            Unpooled.directBuffer(8).release();
            PooledByteBufAllocator.DEFAULT.directBuffer(8).release();
        }
    }

    /** Counts what reaches the end of the TUN pipeline unhandled instead of logging each. */
    private static final class ExceptionCounter extends ChannelInboundHandlerAdapter {
        private long count;

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (count++ == 0) {
                System.err.println("TUN channel: " + cause);
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof GsoPacket p) {
                p.release();
            } else {
                io.netty.util.ReferenceCountUtil.release(msg);
            }
        }
    }
}
