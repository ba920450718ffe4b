package dev.nettyoffload.benchmarks;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;

import java.util.Random;

/**
 * The buffers {@link PacketFuzz} hands its packets in: each packet in one of six classes drawn at random, since
 * the engine must read, retain and release all of them alike. Counts how often each class was drawn.
 * <p>
 * Create it only after the leak detection properties are set: the allocators initialise Netty's buffer classes.
 */
final class FuzzBuffers {
    /** Buffer classes an input packet arrives in. */
    enum BufferClass { POOLED_DIRECT, UNPOOLED_DIRECT, POOLED_HEAP, UNPOOLED_HEAP, SLICED, COMPOSITE }

    private final ByteBufAllocator pooled = PooledByteBufAllocator.DEFAULT;
    private final ByteBufAllocator unpooled = new UnpooledByteBufAllocator(true);
    private final long[] perBufferClass = new long[BufferClass.values().length];
    private final Random r;

    FuzzBuffers(Random r) {
        this.r = r;
    }

    /** The pooled allocator, also used for the segments the check segments merged packets into. */
    ByteBufAllocator pooled() {
        return pooled;
    }

    /** Both allocators the packets come from, so that the leak check can exercise each. */
    ByteBufAllocator[] allocators() {
        return new ByteBufAllocator[] {pooled, unpooled};
    }

    /** How many buffers of class {@code c} were handed out (a packet each, or a burst of packets). */
    long count(BufferClass c) {
        return perBufferClass[c.ordinal()];
    }

    /** The packet in one of the buffer classes, chosen at random. */
    ByteBuf buffer(byte[] bytes) {
        BufferClass c = BufferClass.values()[r.nextInt(BufferClass.values().length)];
        perBufferClass[c.ordinal()]++;
        switch (c) {
            case POOLED_DIRECT:
                return pooled.directBuffer(bytes.length).writeBytes(bytes);
            case UNPOOLED_DIRECT:
                return unpooled.directBuffer(bytes.length).writeBytes(bytes);
            case POOLED_HEAP:
                return pooled.heapBuffer(bytes.length).writeBytes(bytes);
            case UNPOOLED_HEAP:
                return unpooled.heapBuffer(bytes.length).writeBytes(bytes);
            case SLICED: {
                ByteBuf parent = (r.nextBoolean() ? pooled : unpooled).directBuffer(bytes.length + 32);
                parent.writeZero(16).writeBytes(bytes).writeZero(16);
                ByteBuf slice = parent.retainedSlice(16, bytes.length);
                parent.release();
                return slice;
            }
            default: {
                CompositeByteBuf comp = pooled.compositeDirectBuffer(4);
                int at = 0;
                int parts = 1 + r.nextInt(3);
                for (int p = 0; p < parts; p++) {
                    int len = p == parts - 1 ? bytes.length - at : r.nextInt(bytes.length - at + 1);
                    ByteBuf part = (r.nextBoolean() ? pooled.heapBuffer(len) : pooled.directBuffer(len));
                    comp.addComponent(true, part.writeBytes(bytes, at, len));
                    at += len;
                }
                return comp;
            }
        }
    }
}
