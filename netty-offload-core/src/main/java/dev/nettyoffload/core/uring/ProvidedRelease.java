package dev.nettyoffload.core.uring;

import io.netty.buffer.ByteBuf;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import io.netty.util.ResourceLeakTracker;

/**
 * What the two kinds of provided-buffer content ({@link ProvidedBuf} with Unsafe, {@link ProvidedNioBuf} without)
 * share: their leak tracking, and handing the buffer back to its {@link ProvidedBuffers} once released.
 * <p>
 * Leak-tracked like the allocator's buffers (Netty's {@link ResourceLeakDetector}, at its configured level): a
 * message the application never releases keeps its buffer out of the group, and the region, for good.
 */
final class ProvidedRelease {
    private static final ResourceLeakDetector<ByteBuf> LEAKS =
            ResourceLeakDetectorFactory.instance().newResourceLeakDetector(ByteBuf.class);

    private final ProvidedBuffers owner;
    private final int id;
    private final ResourceLeakTracker<ByteBuf> leak;

    ProvidedRelease(ByteBuf content, ProvidedBuffers owner, int id) {
        this.owner = owner;
        this.id = id;
        this.leak = LEAKS.track(content);
    }

    void touch(Object hint) {
        if (leak != null) {
            leak.record(hint);
        }
    }

    void touch() {
        if (leak != null) {
            leak.record();
        }
    }

    /** The content's reference count reached 0: the buffer goes back to the group. */
    void deallocated(ByteBuf content) {
        if (leak != null) {
            leak.close(content);
        }
        owner.returned(id);
    }
}
