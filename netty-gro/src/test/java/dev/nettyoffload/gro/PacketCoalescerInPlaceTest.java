package dev.nettyoffload.gro;

import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.LinkType;
import dev.nettyoffload.testkit.TestPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.util.IllegalReferenceCountException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link PacketCoalescer#add(ByteBuf, int, int, ByteBufAllocator, PacketCoalescer.Output)}: packets read where
 * they lie in a burst buffer that stays the caller's give exactly what the same packets give as buffers of their
 * own; the caller's reference is never taken or released, and once the caller and the consumer of the outputs
 * have released theirs, nothing holds the buffer.
 */
class PacketCoalescerInPlaceTest {
    private static final long SEED = Long.getLong("gro.seed", 0x1A_B1ACEL);
    private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;

    /** A burst laid out back to back (with gaps) in one buffer of one of four classes, at a non-zero reader index. */
    private static ByteBuf burstBuffer(List<byte[]> packets, int[] offsets, Random r, int kind) {
        int gap = r.nextInt(4) * 3;
        int total = 5 + gap * packets.size();
        for (byte[] p : packets) {
            total += p.length;
        }
        byte[] all = new byte[total];
        int at = 5;
        for (int i = 0; i < packets.size(); i++) {
            byte[] p = packets.get(i);
            offsets[i] = at;
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length + gap;
        }
        ByteBuf b;
        switch (kind) {
            case 0:
                b = ALLOC.directBuffer(total).writeBytes(all);
                break;
            case 1:
                b = Unpooled.buffer(total).writeBytes(all);
                break;
            case 2: {
                // No memory address: every read goes through the buffer.
                CompositeByteBuf c = Unpooled.compositeBuffer();
                int cut = total / 3;
                c.addComponent(true, Unpooled.directBuffer(cut).writeBytes(all, 0, cut));
                c.addComponent(true, Unpooled.buffer(total - cut).writeBytes(all, cut, total - cut));
                b = c;
                break;
            }
            default: {
                ByteBuf parent = ALLOC.directBuffer(total + 7).writeZero(7).writeBytes(all);
                b = parent.retainedSlice(7, total);
                parent.release();
                break;
            }
        }
        return b.readerIndex(5);
    }

    private static String describe(Object o) {
        if (o instanceof GsoPacket) {
            GsoPacket g = (GsoPacket) o;
            return "GsoPacket " + g.gsoType() + " " + g.tunnelType() + " " + g.segmentSize() + "x" + g.segmentCount()
                    + " " + g.ipv4IdMode() + "/" + g.outerIpv4IdMode() + " cwr " + g.cwrOnEverySegment() + " "
                    + HexFormat.of().formatHex(ByteBufUtil.getBytes(g.content()));
        }
        return "ByteBuf " + HexFormat.of().formatHex(ByteBufUtil.getBytes((ByteBuf) o));
    }

    private static String counts(PacketGroCounters c) {
        return c.packetsIn() + " in, " + c.bytesIn() + " bytes, " + c.mergedPacketsOut() + " merged out of "
                + c.packetsMerged() + ", " + c.lonePacketsOut() + " lone, " + c.packetsPassedThrough() + " passed, "
                + c.checksumFailures() + " bad checksums, " + c.packetsDropped() + " dropped";
    }

    @Test
    void inPlaceGivesWhatBuffersOfTheirOwnGive() {
        Random r = new Random(SEED);
        int merged = 0;
        for (int it = 0; it < 60; it++) {
            int flows = 1 + r.nextInt(5);
            boolean ethernet = r.nextInt(4) == 0;
            LinkType link = ethernet ? LinkType.ETHERNET : LinkType.RAW_IP;
            // Tunnels, IPv6 extension headers, VLAN tags: the rarer shapes parse through a view of the packet.
            List<RawRun> runs = RawRun.randomFlows(r, flows, ethernet);
            PacketGroConfig config = PacketGroConfig.newBuilder().linkType(link).maxFlows(1 + r.nextInt(6)).build();
            PacketCoalescer inPlace = new PacketCoalescer(config);
            PacketCoalescer owned = new PacketCoalescer(config);
            List<Object> fromInPlace = new ArrayList<>();
            List<Object> fromOwned = new ArrayList<>();
            String name = "iteration " + it + " (seed " + SEED + ")";
            try {
                for (int burst = 0; burst < 4; burst++) {
                    List<byte[]> packets = new ArrayList<>();
                    int n = 1 + r.nextInt(48);
                    for (int i = 0; i < n; i++) {
                        RawRun run = runs.get(r.nextInt(flows));
                        int size = r.nextInt(6) == 0 ? r.nextInt(1300) : 1300;
                        if (!run.spec.tcp && size == 0) {
                            size = 1;
                        }
                        int roll = r.nextInt(24);
                        byte[] p = roll == 0 ? run.next(size, null, v -> v.flags |= TestPacket.PSH).bytes
                                : roll == 1 ? run.next(size, s -> s.ttl ^= 1, null).bytes
                                : roll == 2 ? run.next(size, null, v -> v.seq += 7).bytes
                                : run.next(size).bytes;
                        if (roll == 3) {
                            p[p.length - 1] ^= 0x5A;
                        } else if (roll == 4) {
                            // Truncated inside its headers: passes through unparsed.
                            p = Arrays.copyOf(p, 1 + r.nextInt(30));
                        }
                        packets.add(p);
                    }
                    int[] offsets = new int[n];
                    ByteBuf buffer = burstBuffer(packets, offsets, r, r.nextInt(4));
                    for (int i = 0; i < n; i++) {
                        inPlace.add(buffer, offsets[i], packets.get(i).length, ALLOC, fromInPlace::add);
                        owned.add(PacketChecks.input(packets.get(i), r.nextBoolean()), ALLOC, fromOwned::add);
                    }
                    // Released before the flush: what is still held must not depend on the caller's reference.
                    buffer.release();
                    inPlace.flushAll(PacketFlushReason.READ_COMPLETE, ALLOC, fromInPlace::add);
                    owned.flushAll(PacketFlushReason.READ_COMPLETE, ALLOC, fromOwned::add);
                    assertEquals(fromOwned.size(), fromInPlace.size(), name + " burst " + burst + ": outputs");
                    for (int i = 0; i < fromOwned.size(); i++) {
                        assertEquals(describe(fromOwned.get(i)), describe(fromInPlace.get(i)),
                                name + " burst " + burst + ": output " + i);
                        if (fromInPlace.get(i) instanceof GsoPacket) {
                            PacketChecks.assertContiguous(fromInPlace.get(i));
                            merged++;
                        }
                    }
                    PacketChecks.releaseAll(fromInPlace);
                    PacketChecks.releaseAll(fromOwned);
                    fromInPlace.clear();
                    fromOwned.clear();
                    // Every slice taken of it was emitted and released: nothing holds the burst buffer any more.
                    assertEquals(0, buffer.refCnt(), name + " burst " + burst + ": references left on the buffer");
                }
                assertEquals(counts(owned.counters()), counts(inPlace.counters()), name + ": counters");
                assertEquals(0, inPlace.heldPackets(), name);
            } finally {
                PacketChecks.releaseAll(fromInPlace);
                PacketChecks.releaseAll(fromOwned);
                inPlace.release();
                owned.release();
            }
        }
        assertTrue(merged > 60, "merged packets compared: " + merged);
    }

    @Test
    void refusesAPacketOutsideTheReadableBytesAndAReleasedBuffer() {
        PacketCoalescer c = new PacketCoalescer(PacketGroConfig.DEFAULT);
        List<Object> out = new ArrayList<>();
        ByteBuf b = Unpooled.directBuffer(100).writeZero(100).readerIndex(10);
        try {
            assertThrows(IndexOutOfBoundsException.class, () -> c.add(b, 9, 20, ALLOC, out::add));
            assertThrows(IndexOutOfBoundsException.class, () -> c.add(b, 90, 11, ALLOC, out::add));
            assertThrows(IndexOutOfBoundsException.class, () -> c.add(b, 20, -1, ALLOC, out::add));
            assertThrows(IndexOutOfBoundsException.class, () -> c.add(b, Integer.MAX_VALUE, 2, ALLOC, out::add));
            assertThrows(IllegalArgumentException.class, () -> c.add(b, 10, 20, null, out::add));
            assertThrows(IllegalArgumentException.class, () -> c.add(b, 10, 20, ALLOC, null));
            assertEquals(1, b.refCnt());
        } finally {
            b.release();
        }
        ByteBuf released = Unpooled.directBuffer(100).writeZero(100);
        released.release();
        assertThrows(IllegalReferenceCountException.class, () -> c.add(released, 0, 100, ALLOC, out::add));
        assertEquals(0, c.counters().packetsIn());
        assertTrue(out.isEmpty());
    }

    @Test
    void anOutputThatAddsWhileAPacketIsBeingAddedIsRefused() {
        TestPacket spec = new TestPacket();
        spec.tcpFlags = TestPacket.ACK;
        RawRun run = new RawRun(spec);
        byte[] a = run.next(1000).bytes;
        // Another TTL: ends A's run, whose flush calls the output while B is being added.
        byte[] b = run.next(1000, s -> s.ttl ^= 1, null).bytes;
        byte[] c = run.next(1000).bytes;
        PacketCoalescer gro = new PacketCoalescer(PacketGroConfig.DEFAULT);
        List<Object> out = new ArrayList<>();
        ByteBuf owned = PacketChecks.input(c, true);
        ByteBuf burst = Unpooled.directBuffer(c.length).writeBytes(c);
        List<Throwable> refusals = new ArrayList<>();
        PacketCoalescer.Output reentrant = msg -> {
            out.add(msg);
            try {
                gro.add(burst, 0, c.length, ALLOC, out::add);
            } catch (IllegalStateException e) {
                refusals.add(e);
            }
            // A buffer taken over is dropped (released, counted) rather than thrown back into a pipeline.
            gro.add(owned, ALLOC, out::add);
        };
        try {
            gro.add(PacketChecks.input(a, true), ALLOC, reentrant);
            gro.add(PacketChecks.input(b, true), ALLOC, reentrant);
            assertEquals(1, refusals.size(), "the in-place add throws");
            assertEquals(0, owned.refCnt(), "the taken-over buffer is released");
            assertEquals(1, burst.refCnt(), "the caller's buffer is untouched");
            assertEquals(1, gro.counters().packetsDropped());
            assertEquals(1, gro.heldPackets(), "B is held after all");
            gro.flushAll(PacketFlushReason.READ_COMPLETE, ALLOC, out::add);
            assertEquals(2, out.size());
            assertArrayEquals(a, ByteBufUtil.getBytes((ByteBuf) out.get(0)));
            assertArrayEquals(b, ByteBufUtil.getBytes((ByteBuf) out.get(1)));
        } finally {
            PacketChecks.releaseAll(out);
            burst.release();
        }
    }

    @Test
    void anAllocationFailureDropsTheJoiningPacketAndLeavesTheCallersBuffer() {
        ByteBufAllocator failing = PacketChecks.failingDirectAllocator();
        TestPacket spec = new TestPacket();
        spec.tcpFlags = TestPacket.ACK;
        RawRun run = new RawRun(spec);
        List<byte[]> packets = List.of(run.next(1000).bytes, run.next(1000).bytes);
        int[] offsets = new int[2];
        ByteBuf buffer = burstBuffer(packets, offsets, new Random(1), 0);
        PacketCoalescer c = new PacketCoalescer(PacketGroConfig.DEFAULT);
        List<Object> out = new ArrayList<>();
        try {
            c.add(buffer, offsets[0], packets.get(0).length, failing, out::add);
            assertEquals(2, buffer.refCnt(), "the caller's reference and the held first packet's");
            // The run's buffer cannot be allocated: the second packet is dropped, the first stays held.
            c.add(buffer, offsets[1], packets.get(1).length, failing, out::add);
            assertEquals(2, buffer.refCnt(), "the caller's reference and the held first packet's");
            c.flushAll(PacketFlushReason.READ_COMPLETE, failing, out::add);
            assertEquals(1, out.size());
            assertArrayEquals(packets.get(0), ByteBufUtil.getBytes((ByteBuf) out.get(0)));
            assertEquals(1, c.counters().packetsDropped());
            assertEquals(1, c.counters().lonePacketsOut());
        } finally {
            PacketChecks.releaseAll(out);
        }
        assertEquals(1, buffer.refCnt());
        buffer.release();
    }
}
