package dev.nettyoffload.gro;

import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.LinkType;
import dev.nettyoffload.core.packet.PacketOffloadException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.IllegalReferenceCountException;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * The engine of {@link PacketGroAggregator}, for programs that handle packets outside a pipeline (a userspace
 * dataplane's own receive loop): coalesces runs of TCP segments or equal-size UDP datagrams of a flow into one
 * {@link GsoPacket} by the same rules. Packets go in through {@link #add}, merged and lone packets come out
 * through an {@link Output}, and the caller decides when to {@link #flushAll}, typically after each receive
 * burst, as the aggregator does at {@code channelReadComplete}.
 * <p>
 * Two ways in. {@link #add(ByteBuf, ByteBufAllocator, Output)} takes over a buffer that holds one packet, as the
 * aggregator's {@code channelRead} does. {@link #add(ByteBuf, int, int, ByteBufAllocator, Output)} reads a packet
 * inside a larger buffer (a receive buffer holding a burst of packets, say) that stays the caller's: a packet that
 * joins a run is copied and nothing per packet is allocated, retained or released; only a packet that is held
 * first or passes through becomes a retained slice. A burst of N packets then costs no N buffer objects.
 * <p>
 * It coordinates four parts: the {@link PacketKey} it fills once per packet, the {@link PacketFlowTable} of held
 * flows, the {@link PacketRules} that decide, and the {@link PacketMerger} that builds the merged packet. It
 * keeps the held-bytes budget ({@link PacketGroConfig#maxHeldBytes()}) and the {@linkplain #counters() counters}.
 * Within a flow the order is kept: a packet that cannot be held flushes its flow first. A packet that merged with
 * nothing leaves as the buffer it came in (or a slice of it). Bad packets never throw: they pass through or are
 * counted as dropped. Not thread-safe: use it from one thread, and {@link #release} what it holds when done.
 */
public final class PacketCoalescer {
    /** Receives what the coalescer emits (a {@link ByteBuf} or a {@link GsoPacket}); takes ownership. */
    public interface Output {
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
    /**
     * Whether an add is under way: an {@link Output} that adds a packet while one is being added (a handler after
     * the aggregator that fires a packet into the pipeline's head, say) would overwrite the shared {@link #key}.
     */
    private boolean adding;
    private long lastFailureLogNanos;
    private boolean failureLogged;
    private long lastUnparseableLogNanos;
    private boolean unparseableLogged;

    /** Whether the last packet that failed checksum validation was TCP (else UDP), for the JFR event. */
    private boolean lastChecksumFailureTcp;

    /** A coalescer with its own {@link #counters()}. */
    public PacketCoalescer(PacketGroConfig config) {
        this(config, new PacketGroCounters());
    }

    PacketCoalescer(PacketGroConfig config, PacketGroCounters counters) {
        if (config == null) {
            throw new IllegalArgumentException("config: null");
        }
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

    /**
     * What this coalescer did. Read it on the thread that uses the coalescer; {@link PacketGroCounters#snapshot()}
     * from any other thread sees the counts as of the last {@link #flushAll} or {@link #release}.
     */
    public PacketGroCounters counters() {
        return counters;
    }

    /** The L4 protocol of the last packet that failed checksum validation: {@code "TCP"} or {@code "UDP"}. */
    String lastChecksumFailureProtocol() {
        return lastChecksumFailureTcp ? "TCP" : "UDP";
    }


    /** Packets held right now. */
    public int heldPackets() {
        return heldPackets;
    }

    /** Bytes held right now. */
    public int heldBytes() {
        return heldBytes;
    }

    /** Flows held right now. */
    public int heldFlows() {
        return table.size();
    }

    /**
     * Takes ownership of one packet (readable bytes = the packet): holds it for merging, or emits it unchanged
     * (after the packets held for its flow) when it cannot be held. Never throws for bad input. Called from an
     * {@link Output} while a packet is being added, it drops the packet (counted, logged). {@link #flushAll} and
     * {@link #release} may be called from an Output.
     */
    public void add(ByteBuf packet, ByteBufAllocator alloc, Output out) {
        checkArguments(alloc, out);
        if (adding) {
            // Nothing may escape into the pipeline: the packet is dropped, counted and logged instead.
            ReferenceCountUtil.safeRelease(packet);
            counters.packetsDropped++;
            logFailure(reentrant());
            return;
        }
        adding = true;
        taken = false;
        try {
            add0(packet, packet.readerIndex(), packet.readableBytes(), true, alloc, out);
        } catch (RuntimeException e) {
            // A bug or an allocation failure must not escape into the pipeline: drop and count instead.
            if (!taken) {
                ReferenceCountUtil.safeRelease(packet);
                counters.packetsDropped++;
            }
            logFailure(e);
        } finally {
            adding = false;
        }
    }

    /**
     * Adds the packet of {@code length} bytes at {@code index} of {@code buffer}, which stays the caller's: its
     * reference is neither taken nor released, and the caller may release the buffer once done with it. A packet
     * that joins a run is copied into the run's buffer. A packet held first or emitted unchanged becomes a
     * {@linkplain ByteBuf#retainedSlice(int, int) retained slice} of {@code buffer}, with a reference of its own:
     * so the caller must not write over a packet it added before the next {@link #flushAll} (a pooled receive
     * buffer is safe: the pool does not hand it out again while a slice holds it). Never throws for bad packet
     * content.
     *
     * @throws IndexOutOfBoundsException if the packet does not lie within {@code buffer}'s readable bytes
     * @throws io.netty.util.IllegalReferenceCountException if {@code buffer} was released
     * @throws IllegalStateException if called from an {@link Output} while a packet is being added
     */
    public void add(ByteBuf buffer, int index, int length, ByteBufAllocator alloc, Output out) {
        final int from = buffer.readerIndex();
        if (index < from || length < 0 || index > buffer.writerIndex() - length) {
            throw new IndexOutOfBoundsException("packet at " + index + ", " + length + " bytes: outside the readable "
                    + "bytes of " + buffer);
        }
        checkArguments(alloc, out);
        if (buffer.refCnt() <= 0) {
            throw new IllegalReferenceCountException("the buffer holding the packet was released: " + buffer);
        }
        if (adding) {
            throw reentrant();
        }
        adding = true;
        taken = false;
        try {
            add0(buffer, index, length, false, alloc, out);
        } catch (RuntimeException e) {
            // As above; the buffer is the caller's, nothing to release.
            if (!taken) {
                counters.packetsDropped++;
            }
            logFailure(e);
        } finally {
            adding = false;
        }
    }

    private static IllegalStateException reentrant() {
        return new IllegalStateException("a packet was added from an Output while another one was being added");
    }

    private static void checkArguments(ByteBufAllocator alloc, Output out) {
        if (alloc == null || out == null) {
            throw new IllegalArgumentException(alloc == null ? "alloc: null" : "out: null");
        }
    }

    /**
     * Adds the packet of {@code n} bytes at {@code index} of {@code buf}: the whole buffer, taken over, when
     * {@code owned}; else a packet inside a buffer that stays the caller's, sliced only where it is kept.
     */
    private void add0(ByteBuf buf, int index, int n, boolean owned, ByteBufAllocator alloc, Output out) {
        final PacketGroCounters c = counters;
        c.packetsIn++;
        c.bytesIn += n;
        final PacketKey k = key;
        try {
            k.copyHeaders(buf, index, n);
            k.parseCopy(buf, linkType, vxlanPort);
        } catch (PacketOffloadException e) {
            // Including a tunnel whose inner packet is not TCP/UDP, or UDP to the VXLAN port that is not VXLAN:
            // like vxlan_gro_receive, such packets are not merged at all.
            logUnparseable(e);
            pass(buf, index, n, owned, PacketPassReason.UNPARSEABLE, out);
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
            pass(buf, index, n, owned, reason, out);
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
                taken = true;
                if (owned) {
                    // Copied: the input goes back at once (it may be a receive buffer the kernel wants back).
                    buf.release();
                }
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
            pass(buf, index, n, owned, reason, out);
            return;
        }
        if (table.isFull()) {
            flush(table.oldest(), PacketFlushReason.TABLE_FULL, alloc, out);
        }
        while (table.size() > 0 && heldBytes + k.length > maxHeldBytes) {
            flush(table.oldest(), PacketFlushReason.BYTE_LIMIT, alloc, out);
        }
        // Sliced before the insert: a failed slice must leave no flow behind.
        final ByteBuf first = owned ? buf : buf.retainedSlice(index, n);
        try {
            f = table.insert(k, PacketRules.maxIpLength(k, bigTcpMaxSize));
        } catch (RuntimeException e) {
            if (!owned) {
                first.release();
            }
            throw e;
        }
        f.first = first;
        taken = true;
        hold(f, k, IdSequence.UNDECIDED, IdSequence.UNDECIDED);
    }

    private void hold(PacketFlow f, PacketKey k, IdSequence ids, IdSequence outerIds) {
        f.append(k, ids, outerIds);
        heldBytes += k.length;
        heldPackets++;
    }

    /**
     * Emits every held flow, oldest first, counted under {@code reason}, and publishes the counters to
     * {@link PacketGroCounters#snapshot()}.
     */
    public void flushAll(PacketFlushReason reason, ByteBufAllocator alloc, Output out) {
        while (table.size() > 0) {
            flush(table.oldest(), reason, alloc, out);
        }
        counters.publish();
    }

    /**
     * Releases every held packet without emitting it (counted as dropped on inactive) and publishes the counters;
     * returns how many there were.
     */
    public int release() {
        int n = 0;
        while (table.size() > 0) {
            PacketFlow f = table.oldest();
            n += f.count;
            ReferenceCountUtil.release(f.takeHeld());
            remove(f);
        }
        counters.packetsDroppedOnInactive += n;
        counters.publish();
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

    private void pass(ByteBuf buf, int index, int n, boolean owned, PacketPassReason reason, Output out) {
        final ByteBuf packet = owned ? buf : buf.retainedSlice(index, n);
        counters.passed[reason.ordinal()]++;
        counters.packetsPassedThrough++;
        taken = true;
        out.emit(packet);
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
