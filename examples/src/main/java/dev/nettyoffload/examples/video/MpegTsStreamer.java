package dev.nettyoffload.examples.video;

import dev.nettyoffload.core.Transport;
import dev.nettyoffload.examples.quic.SendStats;
import dev.nettyoffload.gso.GsoConfig;
import dev.nettyoffload.gso.GsoEncoder;
import dev.nettyoffload.gso.GsoMode;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.concurrent.ScheduledFuture;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Streams an MPEG-TS file over UDP the way IPTV does: 7 TS packets (1316 bytes) per datagram, paced at the
 * stream's rate, looping the clip. Every tick hands the datagrams that are due to a {@link GsoEncoder} in
 * writes of up to 49 datagrams (64484 bytes), so with USO one send call carries a whole burst.
 * <p>
 * Pacing follows the PCR (the 27 MHz clock references the multiplexer put in the stream): each TS packet is
 * due at its position on the line through the PCRs around it. A stream with fewer than two PCRs is paced at
 * a fixed bit rate instead.
 */
final class MpegTsStreamer implements AutoCloseable {
    static final int TS_PACKET_SIZE = 188;
    static final int TS_SYNC_BYTE = 0x47;
    static final int PACKETS_PER_DATAGRAM = 7;
    /** 7 x 188, the payload size of IPTV's UDP and RTP streams (it fits a 1500-byte MTU with IP, UDP and RTP). */
    static final int DATAGRAM_SIZE = PACKETS_PER_DATAGRAM * TS_PACKET_SIZE;
    /** As many whole datagrams as fit in one UDP_SEGMENT send over IPv4 (65507 payload bytes): 49. */
    static final int MAX_DATAGRAMS_PER_WRITE = 65507 / DATAGRAM_SIZE;
    /** The PCR runs at 27 MHz (ISO/IEC 13818-1, 2.4.2.2). */
    private static final long PCR_HZ = 27_000_000L;

    private final Channel channel;
    private final GsoEncoder encoder;
    private final List<InetSocketAddress> targets;
    /** The clip twice in a row, so that any burst starting inside the first copy is one contiguous slice. */
    private final ByteBuf doubled;
    private final int packets;
    /** When each TS packet of one pass is due, in nanoseconds from the start of the pass. */
    private final long[] dueNanos;
    private final long passNanos;
    private final long maxPackets;
    private final boolean pacedByPcr;
    private final ScheduledFuture<?> ticker;
    private final long startNanos;
    private long nextPacket;
    private long writeFailures;
    private long bursts;

    private MpegTsStreamer(Channel channel, GsoEncoder encoder, List<InetSocketAddress> targets, ByteBuf doubled,
                           int packets, long[] dueNanos, long passNanos, boolean pacedByPcr, long loops,
                           long tickMillis) {
        this.channel = channel;
        this.encoder = encoder;
        this.targets = targets;
        this.doubled = doubled;
        this.packets = packets;
        this.dueNanos = dueNanos;
        this.passNanos = passNanos;
        this.pacedByPcr = pacedByPcr;
        this.maxPackets = loops <= 0 ? Long.MAX_VALUE : loops * packets;
        this.startNanos = System.nanoTime();
        this.ticker = channel.eventLoop().scheduleAtFixedRate(this::tick, tickMillis, tickMillis, TimeUnit.MILLISECONDS);
    }

    /**
     * Starts streaming {@code ts} to {@code targets} (unicast addresses and multicast groups) from a new
     * datagram channel of {@code transport} bound to {@code source}.
     *
     * @param multicastIf the interface for multicast datagrams, or null for the routing table's choice
     * @param mode        {@link GsoMode#AUTO} for USO where available, {@link GsoMode#SOFTWARE} to turn it off
     * @param loops       passes over the clip, 0 for endless
     * @param tickMillis  how often due datagrams are sent
     * @param bitRate     bits per second when the stream has no usable PCR
     */
    static MpegTsStreamer start(EventLoopGroup group, Transport transport, Path ts, List<InetSocketAddress> targets,
                                InetSocketAddress source, int multicastTtl, NetworkInterface multicastIf,
                                GsoMode mode, long loops,
                                long tickMillis, long bitRate) throws IOException, InterruptedException {
        byte[] clip = Files.readAllBytes(ts);
        int packets = checkTs(clip, ts);
        long[] due = new long[packets + 1];
        boolean byPcr = scheduleByPcr(clip, packets, due);
        if (!byPcr) {
            for (int i = 0; i <= packets; i++) {
                due[i] = (long) i * TS_PACKET_SIZE * 8 * 1_000_000_000L / bitRate;
            }
        }
        GsoEncoder encoder = new GsoEncoder(GsoConfig.newBuilder().segmentSize(DATAGRAM_SIZE).mode(mode).build());
        Bootstrap b = new Bootstrap().group(group).channel(transport.datagramChannelClass())
                .option(ChannelOption.SO_SNDBUF, 1 << 20)
                .option(ChannelOption.IP_MULTICAST_TTL, multicastTtl)
                .handler(new ChannelInitializer<DatagramChannel>() {
                    @Override
                    protected void initChannel(DatagramChannel ch) {
                        ch.pipeline().addLast(encoder);
                    }
                });
        if (multicastIf != null) {
            b.option(ChannelOption.IP_MULTICAST_IF, multicastIf);
        }
        InetSocketAddress bindTo = source;
        if (bindTo == null) {
            bindTo = targets.get(0).getAddress() instanceof Inet6Address
                    ? new InetSocketAddress("::", 0) : new InetSocketAddress("0.0.0.0", 0);
        }
        Channel ch = b.bind(bindTo).sync().channel();
        ByteBuf doubled = ch.alloc().directBuffer(clip.length * 2);
        doubled.writeBytes(clip).writeBytes(clip);
        return new MpegTsStreamer(ch, encoder, List.copyOf(targets), doubled, packets, due, due[packets], byPcr,
                loops, tickMillis);
    }

    private static int checkTs(byte[] clip, Path ts) throws IOException {
        if (clip.length == 0 || clip.length % TS_PACKET_SIZE != 0) {
            throw new IOException(ts + ": " + clip.length + " bytes is not a whole number of 188-byte TS packets");
        }
        int packets = clip.length / TS_PACKET_SIZE;
        for (int i = 0; i < packets; i++) {
            if ((clip[i * TS_PACKET_SIZE] & 0xff) != TS_SYNC_BYTE) {
                throw new IOException(ts + ": TS packet " + i + " does not start with the sync byte 0x47");
            }
        }
        if (clip.length < 2 * MAX_DATAGRAMS_PER_WRITE * DATAGRAM_SIZE) {
            throw new IOException(ts + ": the clip is too short to loop in 64 KiB bursts");
        }
        return packets;
    }

    /**
     * Fills {@code due[i]} with packet i's due time from the PCRs of the first PID that carries them, and
     * {@code due[packets]} with the length of one pass; returns false when there are fewer than two PCRs.
     */
    static boolean scheduleByPcr(byte[] clip, int packets, long[] due) {
        int pcrPid = -1;
        int[] index = new int[packets];
        long[] pcr = new long[packets];
        int n = 0;
        for (int i = 0; i < packets; i++) {
            int o = i * TS_PACKET_SIZE;
            int pid = ((clip[o + 1] & 0x1f) << 8) | (clip[o + 2] & 0xff);
            int adaptation = (clip[o + 3] >> 4) & 3;
            if ((adaptation & 2) == 0 || (clip[o + 4] & 0xff) < 7 || (clip[o + 5] & 0x10) == 0) {
                continue;
            }
            if (pcrPid < 0) {
                pcrPid = pid;
            } else if (pid != pcrPid) {
                continue;
            }
            long base = ((clip[o + 6] & 0xffL) << 25) | ((clip[o + 7] & 0xffL) << 17) | ((clip[o + 8] & 0xffL) << 9)
                    | ((clip[o + 9] & 0xffL) << 1) | ((clip[o + 10] & 0xffL) >> 7);
            long ext = ((clip[o + 10] & 1L) << 8) | (clip[o + 11] & 0xffL);
            long value = base * 300 + ext;
            if (n > 0 && value <= pcr[n - 1]) {
                return false; // a discontinuity or wrap: pace by bit rate instead
            }
            index[n] = i;
            pcr[n] = value;
            n++;
        }
        if (n < 2) {
            return false;
        }
        // Packets before the first PCR and after the last follow the nearest segment's rate.
        int seg = 0;
        for (int i = 0; i <= packets; i++) {
            while (seg < n - 2 && i > index[seg + 1]) {
                seg++;
            }
            double ticksPerPacket = (double) (pcr[seg + 1] - pcr[seg]) / (index[seg + 1] - index[seg]);
            double ticks = pcr[seg] - pcr[0] + (i - index[seg]) * ticksPerPacket
                    + index[0] * ((double) (pcr[1] - pcr[0]) / (index[1] - index[0]));
            due[i] = (long) (ticks * 1e9 / PCR_HZ);
        }
        return true;
    }

    /** Sends every datagram that is due, in writes of up to {@link #MAX_DATAGRAMS_PER_WRITE} datagrams. */
    private void tick() {
        if (!channel.isActive()) {
            return;
        }
        long now = System.nanoTime() - startNanos;
        boolean wrote = false;
        while (nextPacket < maxPackets) {
            int count = 0;
            long p = nextPacket;
            while (count < MAX_DATAGRAMS_PER_WRITE && p < maxPackets && dueAt(p) <= now) {
                count++;
                p += PACKETS_PER_DATAGRAM;
            }
            if (count == 0) {
                break;
            }
            int offset = (int) (nextPacket % packets) * TS_PACKET_SIZE;
            int length = count * DATAGRAM_SIZE;
            for (InetSocketAddress target : targets) {
                ChannelFuture f = channel.write(new DatagramPacket(doubled.retainedSlice(offset, length), target));
                f.addListener(failureCounter);
            }
            bursts++;
            wrote = true;
            nextPacket = p;
        }
        if (wrote) {
            channel.flush();
        }
        if (nextPacket >= maxPackets) {
            ticker.cancel(false);
        }
    }

    private final ChannelFutureListener failureCounter = f -> {
        if (!f.isSuccess()) {
            writeFailures++;
        }
    };

    private long dueAt(long packet) {
        long pass = packet / packets;
        return pass * passNanos + dueNanos[(int) (packet % packets)];
    }

    Channel channel() {
        return channel;
    }

    /** Whether packets are paced by the stream's PCR (else by a fixed bit rate). */
    boolean isPacedByPcr() {
        return pacedByPcr;
    }

    /** The stream's average bit rate over one pass. */
    long bitRate() {
        return (long) ((double) packets * TS_PACKET_SIZE * 8 * 1e9 / passNanos);
    }

    GsoEncoder encoder() {
        return encoder;
    }

    /** Whether the last datagram of a {@code --loops} run has been handed to the channel. */
    boolean isDone() throws Exception {
        return channel.eventLoop().submit(() -> nextPacket >= maxPackets).get(5, TimeUnit.SECONDS);
    }

    /** The encoder's counters and the streamer's own, read on the event loop. */
    String stats() throws Exception {
        return channel.eventLoop().submit(() -> String.format(Locale.ROOT,
                "UDP MPEG-TS: %d TS packets in %d bursts; %s; %d failed writes", nextPacket, bursts,
                SendStats.of(encoder), writeFailures)).get(5, TimeUnit.SECONDS);
    }

    SendStats sendStats() throws Exception {
        return channel.eventLoop().submit(() -> SendStats.of(encoder)).get(5, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        ticker.cancel(false);
        channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        channel.eventLoop().submit(() -> doubled.release()).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
