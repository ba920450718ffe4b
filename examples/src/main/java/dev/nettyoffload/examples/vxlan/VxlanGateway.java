package dev.nettyoffload.examples.vxlan;

import dev.nettyoffload.core.DatagramChannelTuning;
import dev.nettyoffload.core.SegmentedDatagramSplitter;
import dev.nettyoffload.core.packet.LinkType;
import dev.nettyoffload.core.Transport;
import dev.nettyoffload.core.UdpLimits;
import dev.nettyoffload.examples.Cli;
import dev.nettyoffload.gro.PacketGroAggregator;
import dev.nettyoffload.gro.PacketGroConfig;
import dev.nettyoffload.gro.PacketGroCounters;
import dev.nettyoffload.gso.GsoConfig;
import dev.nettyoffload.gso.GsoEncoder;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.DatagramChannel;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.util.EnumMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * A userspace VTEP joining two VXLAN segments (two VNIs, each with its own remote VTEPs) as one bridge: it
 * learns MAC addresses, floods group and unknown destinations to the other side, and forwards with receive and
 * segmentation offload.
 * <p>
 * One UDP channel per side, bound to that side's local VTEP address, each on an event loop of its own: a side's
 * loop reads, coalesces and re-segments what it receives and hands the outer datagrams to the other side's
 * channel, whose loop sends them. A send into a veth also runs the receiving host's kernel path (its softirq on
 * the sending CPU): with one loop for both sides that made the gateway's thread the bottleneck, about 80% of it
 * under {@code sendmmsg}; with a loop per side the benchmark's offload path went from 2.55 to 2.91 Gbit/s on
 * epoll. The MAC table and the drop counters are shared and thread-safe; each {@link VxlanEgress} is used by the
 * loop that feeds it. Each channel's pipeline, nearest the channel first:
 * <ol>
 *   <li>{@link GsoEncoder}: sends the outer datagrams, a {@code SegmentedDatagramPacket} as one USO send;</li>
 *   <li>{@link VxlanDecoder}: datagram to inner frame with VNI and sender, bad datagrams counted and dropped;</li>
 *   <li>{@link MacLearningHandler}: learns the source MAC, passes the bare frame on;</li>
 *   <li>{@link PacketGroAggregator} ({@code LinkType.ETHERNET}): coalesces the inner TCP/UDP flows of a read
 *   loop;</li>
 *   <li>{@link VxlanForwarder}: the bridge decision, handing frames and merged runs to the other side's
 *   {@link VxlanEgress} (re-segmentation to that side's MTU, VXLAN encapsulation, USO batching).</li>
 * </ol>
 * With offload off the {@code PacketGroAggregator} is left out and every frame leaves as its own datagram:
 * the baseline for the benchmark. Oversize frames are still cut to the egress MTU.
 */
public final class VxlanGateway implements AutoCloseable {
    /** Largest MAC table; a bridge in front of a few VMs needs far fewer. */
    public static final int DEFAULT_MAX_MACS = 4096;
    /** Receive slot: a whole jumbo datagram must fit, or the kernel truncates it. */
    static final int RECEIVE_BUFFER_SIZE = 65536;

    private static final InternalLogger logger = InternalLoggerFactory.getInstance(VxlanGateway.class);

    private final Transport transport;
    private final boolean offload;
    private final VxlanSegment[] segments;
    private final MacTable macTable = new MacTable(DEFAULT_MAX_MACS);
    private final DropLog[] drops = new DropLog[2];
    private final VxlanEgress[] egress = new VxlanEgress[2];
    private final VxlanDecoder[] decoders = new VxlanDecoder[2];
    private final PacketGroAggregator[] aggregators = new PacketGroAggregator[2];
    private final GsoEncoder[] encoders = new GsoEncoder[2];
    private final long[] framesIn = new long[2];
    private final Channel[] channels = new Channel[2];
    private EventLoopGroup group;

    /**
     * @param transport the transport of both channels (epoll gives kernel USO)
     * @param offload   GRO on ingress and USO batching on egress, or neither
     * @param a         one side
     * @param b         the other side
     */
    public VxlanGateway(Transport transport, boolean offload, VxlanSegment a, VxlanSegment b) {
        if (transport == null || a == null || b == null) {
            throw new IllegalArgumentException("transport, a and b must not be null");
        }
        this.transport = transport;
        this.offload = offload;
        this.segments = new VxlanSegment[] {a, b};
        for (int i = 0; i < 2; i++) {
            drops[i] = new DropLog(logger, "VxlanGateway " + segments[i].name());
            egress[i] = new VxlanEgress(segments[i], offload, UdpLimits.LEGACY_MAX_SEGMENTS, drops[i]);
        }
    }

    /** Binds both sides' channels; returns when they are ready. */
    public VxlanGateway start() throws InterruptedException {
        group = transport.newEventLoopGroup(2);
        boolean ok = false;
        try {
            for (int i = 0; i < 2; i++) {
                final int side = i;
                Bootstrap bootstrap = new Bootstrap().group(group).channel(transport.datagramChannelClass())
                        .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(1 << 20, 4 << 20))
                        .handler(new ChannelInitializer<DatagramChannel>() {
                            @Override
                            protected void initChannel(DatagramChannel ch) {
                                initPipeline(ch, side);
                            }
                        });
                DatagramChannelTuning.apply(bootstrap, transport, RECEIVE_BUFFER_SIZE,
                        DatagramChannelTuning.DEFAULT_SOCKET_BUFFER_SIZE);
                channels[i] = bootstrap.bind(segments[i].local()).sync().channel();
            }
            if (channels[0].eventLoop() == channels[1].eventLoop()) {
                throw new IllegalStateException("both sides on one event loop");
            }
            // Side i's egress is fed by the other side's loop, which also runs its flush task.
            for (int i = 0; i < 2; i++) {
                egress[i].channel(channels[i], channels[1 - i].eventLoop());
            }
            ok = true;
        } finally {
            if (!ok) {
                close();
            }
        }
        logger.info("VXLAN gateway on {} ({}, offload {}): {} <-> {}", transport.displayName(), transport,
                offload ? "on" : "off", segments[0], segments[1]);
        return this;
    }

    /** Builds side {@code side}'s pipeline on {@code ch} (package-private for tests on embedded channels). */
    void initPipeline(Channel ch, int side) {
        encoders[side] = new GsoEncoder(GsoConfig.newBuilder().segmentSize(UdpLimits.MAX_IPV6_PAYLOAD).build());
        decoders[side] = new VxlanDecoder(segments[side].vni());
        // DatagramChannelTuning may put a batch reader on the channel (io_uring; epoll on Java 22+): one VXLAN
        // packet per datagram for the decoder.
        ch.pipeline().addLast(encoders[side], SegmentedDatagramSplitter.INSTANCE, decoders[side],
                new MacLearningHandler(this, side));
        if (offload) {
            aggregators[side] = new PacketGroAggregator(
                    PacketGroConfig.newBuilder().linkType(LinkType.ETHERNET).build());
            ch.pipeline().addLast(aggregators[side]);
        }
        ch.pipeline().addLast(new VxlanForwarder(this, side));
    }

    MacTable macTable() {
        return macTable;
    }

    DropLog drops(int side) {
        return drops[side];
    }

    VxlanEgress egress(int side) {
        return egress[side];
    }

    /** The UDP port the remote VTEPs of {@code side} listen on: the port this side is bound to. */
    int vtepPort(int side) {
        return segments[side].local().getPort();
    }

    void countFrameIn(int side) {
        framesIn[side]++;
    }

    public boolean offload() {
        return offload;
    }

    /**
     * The counters: a task run to completion on each side's event loop first makes everything that loop counted
     * so far visible to this thread.
     */
    public VxlanGatewayCounters counters() throws InterruptedException {
        if (group == null) {
            throw new IllegalStateException("not started");
        }
        try {
            for (Channel ch : channels) {
                ch.eventLoop().submit(() -> { }).get(10, TimeUnit.SECONDS);
            }
            return snapshot();
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("counters unavailable", e);
        }
    }

    /** The counters, read on this thread: from {@link #counters}, or from a test driving embedded channels. */
    VxlanGatewayCounters snapshot() {
        long in = 0, groIn = 0, merged = 0, mergedFrames = 0, csum = 0, ePackets = 0, reseg = 0, segs = 0;
        long out = 0, datagrams = 0, writes = 0, kSends = 0, kSegs = 0, single = 0, sw = 0;
        EnumMap<VxlanDropReason, Long> d = new EnumMap<>(VxlanDropReason.class);
        for (int i = 0; i < 2; i++) {
            in += framesIn[i];
            if (aggregators[i] != null) {
                PacketGroCounters c = aggregators[i].counters();
                groIn += c.packetsIn();
                merged += c.mergedPacketsOut();
                mergedFrames += c.packetsMerged();
                csum += c.checksumFailures();
            }
            ePackets += egress[i].packetsIn();
            reseg += egress[i].resegmented();
            segs += egress[i].segmentsOut();
            out += egress[i].framesOut();
            datagrams += egress[i].outerDatagrams();
            writes += egress[i].outerWrites();
            if (encoders[i] != null) {
                kSends += encoders[i].counters().kernelSends();
                kSegs += encoders[i].counters().kernelSegments();
                single += encoders[i].counters().singleDatagrams();
                sw += encoders[i].counters().softwareDatagrams();
            }
            drops[i].addTo(d);
            if (decoders[i] != null) {
                decoders[i].dropLog().addTo(d);
            }
        }
        return new VxlanGatewayCounters(in, groIn, merged, mergedFrames, csum, ePackets, reseg, segs, out,
                datagrams, writes, kSends, kSegs, single, sw, macTable.size(), d);
    }

    @Override
    public void close() {
        for (Channel ch : channels) {
            if (ch != null) {
                ch.close().syncUninterruptibly();
            }
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /**
     * Runs a gateway until interrupted, printing its counters every 10 seconds. Arguments, one side each:
     * {@code LOCAL_IP,VNI,MTU,REMOTE_IP[+REMOTE_IP...]} twice, then optionally {@code --no-offload} and
     * {@code --transport epoll|io_uring|nio}. Example:
     * {@code 10.87.1.1,100,1450,10.87.1.2 10.87.2.1,200,1450,10.87.2.2}.
     */
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the gateway with {@code args}; returns the exit status (2 for bad input, with nothing bound). */
    static int run(String... args) {
        GatewayOptions options = new GatewayOptions();
        return Cli.execute(options, () -> gateway(options), args);
    }

    private static int gateway(GatewayOptions options) throws Exception {
        CountDownLatch stop = new CountDownLatch(1);
        try (VxlanGateway gateway = new VxlanGateway(options.transport, !options.noOffload, options.sides.get(0),
                options.sides.get(1)).start()) {
            Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
            while (!stop.await(10, TimeUnit.SECONDS)) {
                System.out.println(gateway.counters());
            }
            System.out.println(gateway.counters());
        }
        return Cli.OK;
    }
}
