package dev.nettyoffload.gro;

import dev.nettyoffload.core.UdpLimits;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;

import java.net.Inet6Address;
import java.net.InetSocketAddress;

/**
 * The datagram engine of {@link GroAggregator}: packs runs of datagrams into
 * {@link SegmentedDatagramPacket}s. Pipeline-free: messages go in through {@link #add} and come out through
 * an {@link Output}; the caller decides when to {@link #flush}.
 * <p>
 * A run (the kernel's {@code udp_gro_receive_segment} rules, applied to whole datagrams) is consecutive
 * datagrams with the same sender and recipient, all of one size except a shorter last one, at most
 * {@link GroConfig#maxSegmentsPerBatch()} datagrams and {@link GroConfig#maxBatchBytes()} (and the address
 * family's) payload bytes. A larger datagram cannot follow a smaller one: the receiver of a USO write could
 * not tell where the short segment ends. A shorter one closes the run for the same reason.
 * <p>
 * Payload bytes are never copied. Adjacent slices of one buffer (Netty's split of a kernel GRO batch) become
 * one slice of that buffer; anything else becomes a {@link CompositeByteBuf} with one component per
 * contiguous piece. Not thread-safe: use it from one event loop.
 */
final class DatagramBatcher {
    /** Receives what the batcher emits; takes ownership of each message. */
    interface Output {
        void emit(DatagramPacket packet);
    }

    /** Why {@link #add} did not append a datagram to the pending run. */
    enum AddResult {
        /** Appended to the run (which may then have been flushed because it was full). */
        APPENDED,
        /** Started a new run, after flushing the previous one if there was one. */
        STARTED,
        /** Passed through on its own (zero-length, too large, already segmented). */
        PASSED_THROUGH
    }

    private final GroConfig config;
    private final ByteBuf[] contents;
    /** Where each held content's readable bytes start ({@link ContiguousSlices#readerPosition}), found once. */
    private final long[] starts;
    private DatagramPacket first;
    private int count;
    private int segmentSize;
    private int totalBytes;
    private int limitBytes;
    private boolean closed;
    private int slotSize;
    /** Whether a datagram that fills its whole buffer means truncation: only when buffers have a fixed size. */
    private boolean fixedBuffers;

    // Kernel GRO detection: where the previous datagram's bytes ended.
    private long lastEnd = ContiguousSlices.UNKNOWN;
    private Object lastBase;
    private boolean inKernelRun;

    private final GroCounters counters;

    DatagramBatcher(GroConfig config, GroCounters counters) {
        this.config = config;
        this.counters = counters;
        this.contents = new ByteBuf[config.maxSegmentsPerBatch()];
        this.starts = new long[config.maxSegmentsPerBatch()];
    }

    /** Datagrams of exactly {@code slotSize} bytes (when positive) filled a read slot: suspected truncation. */
    void slotSize(int slotSize) {
        this.slotSize = slotSize;
    }

    /** Whether the channel reads into buffers of one fixed size, where a full buffer suggests truncation. */
    void fixedBuffers(boolean fixedBuffers) {
        this.fixedBuffers = fixedBuffers;
    }

    /** Datagrams held in the pending run. */
    int pending() {
        return count;
    }

    /**
     * Takes ownership of {@code packet} and appends it to the pending run, or flushes the run first and starts
     * a new one, or emits it on its own; flushes a run that can take no more datagrams.
     */
    AddResult add(DatagramPacket packet, ByteBufAllocator alloc, Output out) {
        ByteBuf content = packet.content();
        int length = content.readableBytes();
        GroCounters c = counters;
        c.datagramsIn++;
        c.bytesIn += length;
        // Reading a slice's position costs a reference-count check; do it once per datagram.
        long start = ContiguousSlices.readerPosition(content);
        trackKernelBatch(content, start, length);
        if (length > 0 && (length == slotSize
                || fixedBuffers && ContiguousSlices.fillsOwningBuffer(content, start))) {
            c.truncationSuspected++;
        }

        if (packet instanceof SegmentedDatagramPacket) {
            c.presegmentedPackets++;
            return passThrough(packet, alloc, out);
        }
        if (length == 0) {
            // A USO write cannot carry an empty segment: it stays a datagram of its own.
            c.zeroLengthDatagrams++;
            return passThrough(packet, alloc, out);
        }
        if (length > limitFor(packet)) {
            c.oversizeDatagrams++;
            return passThrough(packet, alloc, out);
        }

        if (count > 0) {
            if (canAppend(packet, length)) {
                starts[count] = start;
                contents[count++] = content;
                totalBytes += length;
                if (length < segmentSize) {
                    closed = true;
                }
                // Full: no datagram of any size can join (a shorter last one still may while bytes remain).
                if (closed || count == contents.length || totalBytes >= limitBytes) {
                    flush(alloc, out);
                }
                return AddResult.APPENDED;
            }
            flush(alloc, out);
        }
        first = packet;
        contents[0] = content;
        starts[0] = start;
        count = 1;
        segmentSize = length;
        totalBytes = length;
        limitBytes = limitFor(packet);
        closed = false;
        return AddResult.STARTED;
    }

    private boolean canAppend(DatagramPacket packet, int length) {
        if (closed || length > segmentSize || totalBytes + length > limitBytes) {
            return false;
        }
        return sameAddress(first.sender(), packet.sender()) && sameAddress(first.recipient(), packet.recipient());
    }

    private static boolean sameAddress(InetSocketAddress a, InetSocketAddress b) {
        return a == b || a != null && a.equals(b);
    }

    private int limitFor(DatagramPacket packet) {
        InetSocketAddress sender = packet.sender();
        int family = sender != null && sender.getAddress() instanceof Inet6Address
                ? UdpLimits.MAX_IPV6_PAYLOAD : UdpLimits.MAX_IPV4_PAYLOAD;
        return Math.min(family, config.maxBatchBytes());
    }

    private AddResult passThrough(DatagramPacket packet, ByteBufAllocator alloc, Output out) {
        flush(alloc, out);
        counters.batchesOut++;
        counters.datagramsOut++;
        out.emit(packet);
        return AddResult.PASSED_THROUGH;
    }

    /** A datagram that starts where the previous one ended came out of the same kernel GRO batch. */
    private void trackKernelBatch(ByteBuf content, long start, int length) {
        Object base = ContiguousSlices.positionBase(content);
        boolean adjacent = start != ContiguousSlices.UNKNOWN && start == lastEnd && base == lastBase && length > 0;
        if (adjacent) {
            if (!inKernelRun) {
                inKernelRun = true;
                counters.kernelGroBatches++;
                counters.kernelGroDatagrams++; // the run's first datagram, seen before we knew
            }
            counters.kernelGroDatagrams++;
        } else {
            inKernelRun = false;
        }
        lastEnd = start == ContiguousSlices.UNKNOWN ? ContiguousSlices.UNKNOWN : start + length;
        lastBase = base;
    }

    /** Emits the pending run: a lone datagram as it came, more as one {@link SegmentedDatagramPacket}. */
    void flush(ByteBufAllocator alloc, Output out) {
        int n = count;
        if (n == 0) {
            return;
        }
        DatagramPacket head = first;
        first = null;
        count = 0;
        counters.batchesOut++;
        counters.datagramsOut += n;
        if (n == 1) {
            contents[0] = null;
            out.emit(head);
            return;
        }
        ByteBuf batch;
        try {
            batch = join(n, alloc);
        } catch (Throwable t) {
            for (int i = 0; i < n; i++) {
                ByteBuf b = contents[i];
                contents[i] = null;
                if (b != null) {
                    b.release();
                }
            }
            throw t;
        }
        counters.segmentedBatchesOut++;
        // Received packets: recipient is the local address, sender the peer.
        out.emit(new SegmentedDatagramPacket(batch, segmentSize, head.recipient(), head.sender()));
    }

    /** Joins contents[0..n) without copying; clears the slots and transfers their references. */
    private ByteBuf join(int n, ByteBufAllocator alloc) {
        CompositeByteBuf composite = null;
        int i = 0;
        while (i < n) {
            int runEnd = i + 1;
            ByteBuf root = null;
            while (runEnd < n) {
                ByteBuf r = ContiguousSlices.commonRootIfAdjacent(contents[runEnd - 1], starts[runEnd - 1],
                        contents[runEnd], starts[runEnd]);
                if (r == null || root != null && r != root) {
                    break;
                }
                root = r;
                runEnd++;
            }
            ByteBuf piece = runEnd - i == 1 ? contents[i] : joinRun(root, i, runEnd);
            if (piece == contents[i]) {
                contents[i] = null;
            }
            if (i == 0 && runEnd == n) {
                counters.contiguousRebuilds++;
                return piece;
            }
            if (composite == null) {
                composite = alloc.compositeBuffer(contents.length);
            }
            composite.addComponent(true, piece);
            i = runEnd;
        }
        counters.compositeRebuilds++;
        return composite;
    }

    /** One slice of {@code root} over contents[from..to), which are adjacent slices of it; releases them. */
    private ByteBuf joinRun(ByteBuf root, int from, int to) {
        int index = ContiguousSlices.indexIn(root, contents[from], starts[from]);
        int length = 0;
        for (int k = from; k < to; k++) {
            length += contents[k].readableBytes();
        }
        if (index < 0 || index + length > root.capacity()) {
            // Cannot happen for adjacent slices; keep the pieces as they are rather than guess.
            CompositeByteBuf c = root.alloc().compositeBuffer(to - from);
            for (int k = from; k < to; k++) {
                c.addComponent(true, contents[k]);
                contents[k] = null;
            }
            return c;
        }
        ByteBuf joined = root.retainedSlice(index, length);
        for (int k = from; k < to; k++) {
            contents[k].release();
            contents[k] = null;
        }
        return joined;
    }

    /** Releases everything held without emitting it; returns how many datagrams were dropped. */
    int release() {
        int n = count;
        for (int i = 0; i < n; i++) {
            ByteBuf b = contents[i];
            contents[i] = null;
            if (b != null) {
                b.release();
            }
        }
        first = null;
        count = 0;
        return n;
    }
}
