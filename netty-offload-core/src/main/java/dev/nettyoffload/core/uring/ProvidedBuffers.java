package dev.nettyoffload.core.uring;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.buffer.UnpooledUnsafeDirectByteBuf;
import io.netty.channel.EventLoop;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.nio.ByteBuffer;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * The memory of a multishot reader: one direct region cut into {@code count} equal buffers that the kernel knows
 * by id (0 to count-1) in buffer group {@link #group()}, and who holds each: the kernel (provided) or the
 * application (a {@link ProvidedBuf} not yet released).
 * <p>
 * Lifetime: the region is freed when both the kernel is done with it (every op of the reader's registration has
 * completed, {@link #kernelDone()}) and the application has released every buffer it was handed. A buffer released
 * while the reader reads goes back to the kernel through {@code reprovide} on the event loop; one released after
 * the reader stopped only counts down. So closing the channel while the application holds messages neither frees
 * memory under them nor leaks the region once they are released. Thread-safe where noted; else event loop only.
 */
final class ProvidedBuffers {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(ProvidedBuffers.class);
    /**
     * Whether Netty's Unsafe buffer classes work in this JVM (not on JDK 24+ by default, where Netty 4.2 runs
     * without {@code sun.misc.Unsafe}). Netty's public API does not say, so one such buffer is tried once.
     */
    private static final boolean UNSAFE = unsafeBuffersWork();

    private final short group;
    private final int count;
    private final int entrySize;
    private final ByteBuf region;
    private final ByteBuffer whole;
    private final long address;
    private final EventLoop loop;
    private final ByteBufAllocator alloc;
    /** Called on the event loop with the id of a buffer the application released while the reader reads. */
    private final IntConsumer reprovide;
    private final AtomicInteger held = new AtomicInteger();
    private final AtomicBoolean freed = new AtomicBoolean();
    private volatile boolean reading = true;
    private volatile boolean kernelDone;
    private volatile boolean groupEmpty;

    private ProvidedBuffers(short group, int count, int entrySize, ByteBuf region, EventLoop loop,
                            ByteBufAllocator alloc, IntConsumer reprovide) {
        this.group = group;
        this.count = count;
        this.entrySize = entrySize;
        this.region = region;
        this.whole = region.nioBuffer(0, region.capacity());
        this.address = region.memoryAddress();
        this.loop = loop;
        this.alloc = alloc;
        this.reprovide = reprovide;
    }

    /**
     * {@code count} buffers of {@code entrySize} bytes (8-aligned) from {@code allocator} under a fresh group id.
     *
     * @throws IllegalStateException when the allocator's direct buffers have no memory address
     */
    static ProvidedBuffers allocate(int count, int entrySize, ByteBufAllocator allocator, EventLoop loop,
                                    IntConsumer reprovide) {
        ByteBuf region = allocator.directBuffer(count * entrySize, count * entrySize);
        if (!region.hasMemoryAddress()) {
            region.release();
            throw new IllegalStateException("direct buffers have no memory address (sun.misc.Unsafe unavailable)");
        }
        short group;
        try {
            group = BufferGroupIds.acquire();
        } catch (Throwable t) {
            region.release();
            throw t;
        }
        return new ProvidedBuffers(group, count, entrySize, region, loop, allocator, reprovide);
    }

    short group() {
        return group;
    }

    int count() {
        return count;
    }

    int entrySize() {
        return entrySize;
    }

    /** The address of buffer {@code id}, as PROVIDE_BUFFERS takes it. */
    long address(int id) {
        return address + (long) id * entrySize;
    }

    /** The region, for reading the header of a received buffer; valid while a buffer of it is not returned. */
    ByteBuf region() {
        return region;
    }

    /** Offset of buffer {@code id} in {@link #region()}. */
    int offset(int id) {
        return id * entrySize;
    }

    /**
     * Hands buffer {@code id}'s payload area, from {@code payloadOffset} to the end of the buffer, to the
     * application as a {@link ProvidedBuf} whose first {@code length} bytes are readable. Its capacity is the room
     * the kernel had, so that, as with a receive buffer from an allocator, a datagram that fills its buffer
     * ({@code writerIndex == capacity}) is one the kernel may have cut. The buffer stays out of the kernel's group
     * until the message is released.
     */
    ByteBuf handOut(int id, int payloadOffset, int length) {
        int from = offset(id) + payloadOffset;
        held.incrementAndGet();
        ByteBuffer view = whole.slice(from, entrySize - payloadOffset);
        ByteBuf buf = UNSAFE ? new ProvidedBuf(alloc, view, this, id) : new ProvidedNioBuf(alloc, view, this, id);
        buf.writerIndex(length);
        return buf;
    }

    private static boolean unsafeBuffersWork() {
        ByteBuf probe = null;
        try {
            probe = new UnpooledUnsafeDirectByteBuf(UnpooledByteBufAllocator.DEFAULT, 8, 8);
            // Bulk copies are what fail first without Unsafe (JDK 25: single-word accessors still work).
            probe.setLong(0, 1);
            byte[] copy = new byte[8];
            probe.getBytes(0, copy);
            return copy[0] == 1 || copy[7] == 1;
        } catch (RuntimeException | LinkageError e) {
            logger.debug("Netty's Unsafe buffers unavailable; provided buffers are read through ByteBuffers", e);
            return false;
        } finally {
            if (probe != null) {
                probe.release();
            }
        }
    }

    /** Buffers the application holds now (any thread). */
    int held() {
        return held.get();
    }

    /** From a released {@link ProvidedBuf} or {@link ProvidedNioBuf}, on any thread. */
    void returned(int id) {
        if (loop.inEventLoop()) {
            onReturned(id);
            return;
        }
        try {
            loop.execute(() -> onReturned(id));
        } catch (RejectedExecutionException e) {
            // The loop is gone and its ring with it: nothing can be provided again, and the kernel writes no more.
            reading = false;
            held.decrementAndGet();
            freeIfDone();
        }
    }

    private void onReturned(int id) {
        held.decrementAndGet();
        if (reading) {
            reprovide.accept(id);
        } else {
            freeIfDone();
        }
    }

    /** The reader stopped: released buffers are no longer provided again. Event loop. */
    void stopReading() {
        reading = false;
    }

    /**
     * Every op of the reader has completed: the kernel no longer writes into the region. {@code emptied}: whether
     * IORING_OP_REMOVE_BUFFERS emptied the group, so that its id may serve another reader.
     */
    void kernelDone(boolean emptied) {
        reading = false;
        groupEmpty = emptied;
        kernelDone = true;
        freeIfDone();
    }

    /** Whether the region has been freed (tests). */
    boolean isFreed() {
        return freed.get();
    }

    private void freeIfDone() {
        if (kernelDone && held.get() == 0 && freed.compareAndSet(false, true)) {
            region.release();
            if (groupEmpty) {
                BufferGroupIds.release(group);
            } else {
                logger.debug("buffer group {} not known to be empty; its id is not reused", group & 0xFFFF);
            }
        }
    }
}
