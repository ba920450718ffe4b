package dev.nettyoffload.gro;

import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.LinkType;
import dev.nettyoffload.core.packet.PacketOffloadException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * The engine of {@link PacketGroAggregator}: coalesces runs of TCP segments or equal-size UDP datagrams of a flow
 * into one {@link GsoPacket}. Pipeline-free: packets go in through {@link #add} and come out through an
 * {@link Output}; the caller decides when to {@link #flushAll}.
 * <p>
 * It coordinates four parts: the {@link PacketKey} it fills once per packet, the {@link PacketFlowTable} of held
 * flows, the {@link PacketRules} that decide, and the {@link PacketMerger} that builds the merged packet. It
 * keeps the held-bytes budget ({@link PacketGroConfig#maxHeldBytes()}) and the counters. Within a flow the order
 * is kept: a packet that cannot be held flushes its flow first. A packet that merged with nothing leaves as the
 * buffer it came in. Not thread-safe: use it from one event loop.
 */
final class PacketCoalescer {
    /** Receives what the coalescer emits (a {@link ByteBuf} or a {@link GsoPacket}); takes ownership. */
    interface Output {
        void emit(Object msg);
    }

    private static final InternalLogger logger = InternalLoggerFactory.getInstance(PacketGroAggregator.class);
    private static final long LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final LinkType linkType;
    private final int vxlanPort;
    private final int maxHeldBytes;
    private final int maxSegments;
    private final int bigTcpMaxSize;
    /** {@link PacketGroConfig#trustL4Checksums()}: no L4 sums (the merger writes partial checksums). */
    private final boolean trustL4Checksums;
    private final PacketKey key = new PacketKey();
    private final PacketFlowTable table;
    private final PacketMerger merger;
    private final PacketGroCounters counters;
    private int heldBytes;
    private int heldPackets;
    /** Whether the packet being added has been held or emitted (so a failure must not release it). */
    private boolean taken;
    private long lastFailureLogNanos;
    private boolean failureLogged;
    private long lastUnparseableLogNanos;
    private boolean unparseableLogged;

    /** Whether the last packet that failed checksum validation was TCP (else UDP), for the JFR event. */
    private boolean lastChecksumFailureTcp;

    PacketCoalescer(PacketGroConfig config, PacketGroCounters counters) {
        this.counters = counters;
        linkType = config.linkType();
        vxlanPort = config.vxlanPort();
        maxHeldBytes = config.maxHeldBytes();
        maxSegments = config.maxSegmentsPerPacket();
        bigTcpMaxSize = config.bigTcpMaxSize();
        trustL4Checksums = config.trustL4Checksums();
        table = new PacketFlowTable(config.maxFlows(), maxSegments);
        merger = new PacketMerger(config.mergedChecksum());
    }
    /** The L4 protocol of the last packet that failed checksum validation: {@code "TCP"} or {@code "UDP"}. */
    String lastChecksumFailureProtocol() {
        return lastChecksumFailureTcp ? "TCP" : "UDP";
    }


    /** Packets held right now. */
    int heldPackets() {
        return heldPackets;
    }

    /** Bytes held right now. */
    int heldBytes() {
        return heldBytes;
    }

    /** Flows held right now. */
    int heldFlows() {
        return table.size();
    }

    /**
     * Takes ownership of one packet (readable bytes = the packet): holds it for merging, or emits it unchanged
     * (after the packets held for its flow) when it cannot be held. Never throws for bad input.
     */
    void add(ByteBuf buf, ByteBufAllocator alloc, Output out) {
        taken = false;
        try {
            add0(buf, alloc, out);
        } catch (RuntimeException e) {
            // A bug or an allocation failure must not escape into the pipeline: drop and count instead.
            if (!taken) {
                ReferenceCountUtil.safeRelease(buf);
                counters.packetsDropped++;
            }
            logFailure(e);
        }
    }

    private void add0(ByteBuf buf, ByteBufAllocator alloc, Output out) {
        final PacketGroCounters c = counters;
        c.packetsIn++;
        final int n = buf.readableBytes();
        c.bytesIn += n;
        final PacketKey k = key;
        try {
            k.copyHeaders(buf, n);
            k.parseCopy(buf, linkType, vxlanPort);
        } catch (PacketOffloadException e) {
            // Including a tunnel whose inner packet is not TCP/UDP, or UDP to the VXLAN port that is not VXLAN:
            // like vxlan_gro_receive, such packets are not merged at all.
            logUnparseable(e);
            pass(buf, PacketPassReason.UNPARSEABLE, out);
            return;
        }
        PacketPassReason reason = PacketRules.holdReason(k);
        if (reason == null && k.length > maxHeldBytes) {
            // Held alone it would break the byte bound, which must hold whatever else is held.
            reason = PacketPassReason.LARGER_THAN_HELD_BYTES;
        }
        if (reason == null) {
            if (trustL4Checksums) {
                reason = PacketRules.ipv4HeaderChecksumReason(k);
            } else {
                k.sumL4(buf);
                reason = PacketRules.checksumReason(k);
            }
            if (reason != null) {
                c.checksumFailures++;
                lastChecksumFailureTcp = k.tcp;
            }
        }
        PacketFlow f = table.find(k);
        if (reason != null) {
            if (f != null) {
                flush(f, PacketFlushReason.PASS_THROUGH, alloc, out);
            }
            pass(buf, reason, out);
            return;
        }
        if (f != null) {
            final IdSequence ids = PacketRules.idSequence(f, k);
            final IdSequence outerIds = PacketRules.outerIdSequence(f, k);
            CoalesceResult r = PacketRules.canCoalesce(f, k, ids, outerIds, maxSegments);
            if (r == CoalesceResult.COALESCE && heldBytes + k.length > maxHeldBytes) {
                r = CoalesceResult.FULL;
            }
            if (r == CoalesceResult.COALESCE) {
                f.copyPayload(k, buf, alloc);
                // Copied: the input goes back at once (it may be a receive buffer the kernel wants back).
                taken = true;
                buf.release();
                hold(f, k, ids, outerIds);
                PacketFlushReason end = PacketRules.flushAfterJoin(f, k, maxSegments);
                if (end != null) {
                    flush(f, end, alloc, out);
                }
                return;
            }
            flush(f, r == CoalesceResult.FULL ? PacketFlushReason.FULL : PacketFlushReason.MISMATCH, alloc, out);
        }
        reason = PacketRules.startReason(k);
        if (reason != null) {
            pass(buf, reason, out);
            return;
        }
        if (table.isFull()) {
            flush(table.oldest(), PacketFlushReason.TABLE_FULL, alloc, out);
        }
        while (table.size() > 0 && heldBytes + k.length > maxHeldBytes) {
            flush(table.oldest(), PacketFlushReason.BYTE_LIMIT, alloc, out);
        }
        f = table.insert(k, PacketRules.maxIpLength(k, bigTcpMaxSize));
        f.first = buf;
        taken = true;
        hold(f, k, IdSequence.UNDECIDED, IdSequence.UNDECIDED);
    }

    private void hold(PacketFlow f, PacketKey k, IdSequence ids, IdSequence outerIds) {
        f.append(k, ids, outerIds);
        heldBytes += k.length;
        heldPackets++;
    }

    /** Emits every held flow, oldest first. */
    void flushAll(PacketFlushReason reason, ByteBufAllocator alloc, Output out) {
        while (table.size() > 0) {
            flush(table.oldest(), reason, alloc, out);
        }
    }

    /** Releases every held packet without emitting it; returns how many there were. */
    int release() {
        int n = 0;
        while (table.size() > 0) {
            PacketFlow f = table.oldest();
            n += f.count;
            ReferenceCountUtil.release(f.takeHeld());
            remove(f);
        }
        counters.packetsDroppedOnInactive += n;
        return n;
    }

    private void remove(PacketFlow f) {
        heldBytes -= f.heldBytes;
        heldPackets -= f.count;
        table.remove(f);
    }

    private void flush(PacketFlow f, PacketFlushReason reason, ByteBufAllocator alloc, Output out) {
        final PacketGroCounters c = counters;
        c.flushed[reason.ordinal()]++;
        final int n = f.count;
        if (n == 1) {
            ByteBuf only = f.takeOnly();
            remove(f);
            c.lonePacketsOut++;
            out.emit(only);
            return;
        }
        GsoPacket merged;
        try {
            merged = merger.merge(f, alloc);
        } catch (RuntimeException e) {
            // merge released every packet of the run; forget them and count the loss.
            c.packetsDropped += n;
            remove(f);
            logFailure(e);
            return;
        }
        remove(f);
        c.packetsMerged += n;
        c.mergedPacketsOut++;
        out.emit(merged);
    }

    private void pass(ByteBuf buf, PacketPassReason reason, Output out) {
        counters.passed[reason.ordinal()]++;
        counters.packetsPassedThrough++;
        taken = true;
        out.emit(buf);
    }

    private void logFailure(RuntimeException e) {
        long now = System.nanoTime();
        if (!failureLogged || now - lastFailureLogNanos >= LOG_INTERVAL_NANOS) {
            failureLogged = true;
            lastFailureLogNanos = now;
            logger.warn("packets dropped after an unexpected failure (" + counters.packetsDropped + " so far)", e);
        }
    }

    private void logUnparseable(PacketOffloadException e) {
        long now = System.nanoTime();
        if (!unparseableLogged || now - lastUnparseableLogNanos >= LOG_INTERVAL_NANOS) {
            unparseableLogged = true;
            lastUnparseableLogNanos = now;
            if (logger.isDebugEnabled()) {
                logger.debug("packet passed through unmerged ({} so far): {}",
                        counters.passed[PacketPassReason.UNPARSEABLE.ordinal()] + 1, e.getMessage());
            }
        }
    }
}
