package dev.nettyoffload.gro;

import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.LinkType;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hostile input (W's {@code Fuzz_handleGRO}): valid runs interleaved with truncated, extended, bit-flipped,
 * wrong-length, wrong-checksum, absurd-header-length and random packets, in random bursts with timer flushes,
 * other messages and a close. No exception may reach the pipeline, nothing may leak (paranoid detection), and
 * every input packet must come back byte for byte (merged packets segmented again) or be counted as dropped.
 */
class PacketGroFuzzTest {
    private static final long SEED = Long.getLong("gro.fuzz.seed", 0xF0_22EDL);

    @Test
    void hostilePacketsNeverEscapeLeakOrVanish() {
        Random r = new Random(SEED);
        long mutated = 0;
        long merged = 0;
        for (int it = 0; it < 30; it++) {
            boolean ethernet = r.nextInt(4) == 0;
            LinkType link = ethernet ? LinkType.ETHERNET : LinkType.RAW_IP;
            int flows = 1 + r.nextInt(4);
            List<RawRun> runs = RawRun.randomFlows(r, flows, ethernet);
            List<byte[]> in = new ArrayList<>();
            int n = 40 + r.nextInt(120);
            for (int i = 0; i < n; i++) {
                byte[] b = runs.get(r.nextInt(flows)).next(r.nextInt(4) == 0 ? r.nextInt(1500) : 1300).bytes;
                if (r.nextInt(3) == 0) {
                    b = mutate(b, r, ethernet ? 14 : 0);
                    mutated++;
                }
                in.add(b);
            }
            PacketGroConfig config = PacketGroConfig.newBuilder().linkType(link).maxFlows(1 + r.nextInt(4))
                    .maxHeldBytes(65536 + r.nextInt(200_000)).maxSegmentsPerPacket(2 + r.nextInt(63))
                    .mergedChecksum(r.nextBoolean() ? MergedChecksum.COMPLETE : MergedChecksum.PARTIAL)
                    .flushDelay(r.nextInt(3), TimeUnit.MICROSECONDS)
                    .bigTcpMaxSize(r.nextBoolean() ? 0 : PacketGroConfig.MAX_BIG_TCP_MAX_SIZE).build();
            PacketGroAggregator gro = new PacketGroAggregator(config);
            EmbeddedChannel ch = new EmbeddedChannel(gro);
            List<Object> out = new ArrayList<>();
            List<ByteBuf> inputs = new ArrayList<>();
            try {
                int i = 0;
                while (i < n) {
                    int burst = 1 + r.nextInt(40);
                    for (int j = 0; j < burst && i < n; j++, i++) {
                        ByteBuf buf = PacketChecks.input(in.get(i), r.nextBoolean());
                        inputs.add(buf);
                        ch.pipeline().fireChannelRead(buf);
                        if (r.nextInt(50) == 0) {
                            ch.pipeline().fireChannelRead("not a packet");
                        }
                    }
                    int end = r.nextInt(3);
                    if (end == 0) {
                        ch.pipeline().fireChannelReadComplete();
                    } else if (end == 1) {
                        ch.advanceTimeBy(5, TimeUnit.MICROSECONDS);
                        ch.runScheduledPendingTasks();
                    }
                    ch.checkException();
                    drainPackets(ch, out);
                }
                ch.close().syncUninterruptibly();
                ch.checkException();
                drainPackets(ch, out);
                if (config.mergedChecksum() == MergedChecksum.COMPLETE) {
                    List<byte[]> back = PacketChecks.expandOutputs(out, link, PooledByteBufAllocator.DEFAULT);
                    PacketChecks.assertSameMultiset(in, back, "iteration " + it + " (seed " + SEED + ")");
                } else {
                    // Partial checksums differ from the wire; count packets instead.
                    assertEquals(n, countPackets(out), "iteration " + it + ": packets out");
                }
                assertEquals(0, gro.counters().packetsDroppedOnInactive(), "iteration " + it + ": drops");
                assertEquals(0, gro.counters().packetsDropped(), "iteration " + it + ": drops after failures");
                assertEquals(n, gro.counters().packetsIn(), "iteration " + it + ": packets in");
                assertEquals(n, gro.counters().packetsPassedThrough() + gro.counters().lonePacketsOut() + gro.counters().packetsMerged(),
                        "iteration " + it + ": every packet accounted for");
                merged += gro.counters().packetsMerged();
            } finally {
                PacketChecks.releaseAll(out);
                ch.finishAndReleaseAll();
            }
            for (ByteBuf b : inputs) {
                assertEquals(0, b.refCnt(), "iteration " + it + ": an input was not released");
            }
        }
        assertTrue(mutated > 300 && merged > 300, "mutated " + mutated + ", merged " + merged);
    }

    private static void drainPackets(EmbeddedChannel ch, List<Object> out) {
        for (Object o : PacketChecks.drain(ch)) {
            if (!(o instanceof String)) {
                out.add(o);
            }
        }
    }

    private static int countPackets(List<Object> out) {
        int n = 0;
        for (Object o : out) {
            n += o instanceof GsoPacket ? ((GsoPacket) o).segmentCount() : 1;
        }
        return n;
    }

    /** One of the hostile shapes, applied to a valid packet whose IP header starts at {@code ip}. */
    static byte[] mutate(byte[] b, Random r, int ip) {
        byte[] m = b.clone();
        switch (r.nextInt(9)) {
            case 0: // truncation
                return Arrays.copyOf(m, r.nextInt(m.length));
            case 1: // trailing junk: lengths disagree with the buffer
                m = Arrays.copyOf(m, m.length + 1 + r.nextInt(40));
                return m;
            case 2: // a byte flipped in the headers
                m[r.nextInt(Math.min(m.length, ip + 120))] ^= (byte) (1 << r.nextInt(8));
                return m;
            case 3: // a payload byte flipped: wrong checksum
                m[m.length - 1 - r.nextInt(Math.min(m.length, 100))] ^= 0x40;
                return m;
            case 4: // absurd IP header length / version nibble
                m[ip] = (byte) r.nextInt(256);
                return m;
            case 5: // wrong IP length field
                m[ip + 2 + r.nextInt(4)] = (byte) r.nextInt(256);
                return m;
            case 6: { // absurd TCP data offset (somewhere after the IP headers)
                int at = ip + 20 + r.nextInt(Math.max(1, Math.min(m.length - ip - 20, 140)));
                if (at < m.length) {
                    m[at] = (byte) (r.nextInt(16) << 4);
                }
                return m;
            }
            case 7: { // random garbage
                byte[] g = new byte[r.nextInt(200)];
                r.nextBytes(g);
                if (g.length > ip && r.nextBoolean()) {
                    g[ip] = (byte) (r.nextBoolean() ? 0x45 : 0x60);
                }
                return g;
            }
            default: // empty
                return new byte[0];
        }
    }
}
