package dev.nettyoffload.gro;

import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.Ipv4Header;
import dev.nettyoffload.core.packet.LinkType;
import dev.nettyoffload.testkit.TestPacket;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link PacketGroConfig#trustL4Checksums()}: partial TCP checksums merge, IPv4 header checksums still count. */
class PacketGroTrustTest {
    private static final PacketGroConfig TRUST = PacketGroConfig.newBuilder().trustL4Checksums(true)
            .mergedChecksum(MergedChecksum.PARTIAL).build();

    private final List<ByteBuf> inputs = new ArrayList<>();
    private final RawRun run = new RawRun(spec());

    private static TestPacket spec() {
        TestPacket s = new TestPacket();
        s.tcpFlags = TestPacket.ACK;
        return s;
    }

    /** The next segment, its TCP checksum partial (the folded pseudo-header sum), as a TSO sender leaves it. */
    private ByteBuf partialSegment(int size) {
        ByteBuf b = PacketChecks.input(run.next(size, null, v -> v.partial = true).bytes, true);
        inputs.add(b);
        return b;
    }

    @Test
    void partialChecksumsMergeWhenTrustedAndPassWhenVerified() {
        for (PacketGroConfig config : List.of(TRUST, PacketGroConfig.DEFAULT)) {
            PacketGroAggregator gro = new PacketGroAggregator(config);
            EmbeddedChannel ch = new EmbeddedChannel(gro);
            for (int i = 0; i < 3; i++) {
                ch.pipeline().fireChannelRead(partialSegment(1000));
            }
            ch.pipeline().fireChannelReadComplete();
            if (config.trustL4Checksums()) {
                GsoPacket g = assertInstanceOf(GsoPacket.class, ch.readInbound());
                assertEquals(3, g.segmentCount());
                PacketChecks.assertValidMerged(g, LinkType.RAW_IP, true, "trusted partial run");
                g.release();
                assertEquals(0, gro.counters().checksumFailures());
            } else {
                // Verified, a partial checksum is a bad one: each packet passes through on its own.
                for (int i = 0; i < 3; i++) {
                    ByteBuf b = assertInstanceOf(ByteBuf.class, ch.readInbound());
                    b.release();
                }
                assertEquals(3, gro.counters().checksumFailures());
                assertEquals(3, gro.counters().packetsPassedThrough(PacketPassReason.BAD_CHECKSUM));
            }
            assertFalse(ch.finish());
        }
        for (ByteBuf b : inputs) {
            assertEquals(0, b.refCnt(), "input released");
        }
    }

    @Test
    void aBadIpv4HeaderChecksumStillPassesThrough() {
        PacketGroAggregator gro = new PacketGroAggregator(TRUST);
        EmbeddedChannel ch = new EmbeddedChannel(gro);
        ByteBuf bad = partialSegment(1000);
        bad.setShort(bad.readerIndex() + Ipv4Header.CHECKSUM_OFFSET,
                bad.getUnsignedShort(bad.readerIndex() + Ipv4Header.CHECKSUM_OFFSET) ^ 0x0101);
        ch.pipeline().fireChannelRead(bad);
        ch.pipeline().fireChannelReadComplete();
        assertSame(bad, ch.readInbound());
        bad.release();
        assertEquals(1, gro.counters().checksumFailures());
        assertFalse(ch.finish());
    }

    @Test
    void trustNeedsPartialMergedChecksums() {
        PacketGroConfig.Builder b = PacketGroConfig.newBuilder().trustL4Checksums(true);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, b::build);
        assertEquals("trustL4Checksums needs mergedChecksum PARTIAL (was: COMPLETE)", e.getMessage());
    }
}
