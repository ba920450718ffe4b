package dev.nettyoffload.core.packet;

import io.netty.buffer.ByteBuf;

/**
 * The exact classes of the direct buffers that Netty's own allocators hand out, for fast paths on which the JIT
 * knows a buffer's class. A program that touches several buffer classes (pooled, unpooled, heap, slices,
 * composites: any real one) makes each {@link ByteBuf} call site it shares megamorphic, and each call there
 * costs a virtual dispatch without inlining. Behind a {@code buf.getClass() == X} test, C2 compiles the calls
 * for class {@code X} alone and inlines them. {@link InternetChecksum#sum} of 1448 bytes of a pooled direct
 * buffer, in a JVM that had first run the engine over seven buffer classes ({@code PacketEngineWorker mixed}),
 * took 55.0 ns on Java 17 and 28.5 ns on Java 25 without this path; with it, 48.6 and 24.5 ns (49.0 and 19.9 ns
 * in JVMs that saw one class; {@code PacketEngineComparison}, 2026-12-05).
 * <p>
 * The classes are Netty internals, found by name so that nothing here links against them: a name that a Netty
 * release no longer has leaves its constant {@code null}, which no buffer's class equals, and every buffer then
 * takes the generic path. So do buffers inside the leak detector's wrapper (about 1 in 128 at Netty's default
 * level, every one at the paranoid level).
 */
final class AllocatorBufferClasses {
    /** {@code PooledByteBufAllocator}'s direct buffers when Netty uses {@code sun.misc.Unsafe} (Java 17-23). */
    static final Class<?> POOLED_UNSAFE = find("io.netty.buffer.PooledUnsafeDirectByteBuf");
    /** {@code PooledByteBufAllocator}'s direct buffers without Unsafe (Netty's default on Java 24+). */
    static final Class<?> POOLED = find("io.netty.buffer.PooledDirectByteBuf");
    /** Netty 4.2's default allocator ({@code AdaptiveByteBufAllocator}), direct and heap alike. */
    static final Class<?> ADAPTIVE = find("io.netty.buffer.AdaptivePoolingAllocator$AdaptiveByteBuf");

    private AllocatorBufferClasses() {
    }

    private static Class<?> find(String name) {
        try {
            Class<?> c = Class.forName(name, false, ByteBuf.class.getClassLoader());
            return ByteBuf.class.isAssignableFrom(c) ? c : null;
        } catch (ClassNotFoundException | LinkageError | SecurityException e) {
            return null;
        }
    }
}
