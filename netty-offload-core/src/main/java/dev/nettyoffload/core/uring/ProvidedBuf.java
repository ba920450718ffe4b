package dev.nettyoffload.core.uring;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledUnsafeDirectByteBuf;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import io.netty.util.ResourceLeakTracker;

import java.nio.ByteBuffer;

/**
 * The content of one message of a multishot reader: the payload area of provided buffer {@code id}, without a
 * copy. Its slices and duplicates share its reference count; when that reaches 0 the buffer goes back to its
 * {@link ProvidedBuffers} (and from there to the kernel's group). The memory belongs to the group's region and is
 * never freed here. Its capacity is the area's (the payload room of the provided buffer), and it cannot grow out of
 * it.
 * <p>
 * Leak-tracked like the allocator's buffers (Netty's {@link ResourceLeakDetector}, at its configured level): a
 * message the application never releases keeps its buffer out of the group, and the region, for good.
 */
final class ProvidedBuf extends UnpooledUnsafeDirectByteBuf {
    private static final ResourceLeakDetector<ProvidedBuf> LEAKS =
            ResourceLeakDetectorFactory.instance().newResourceLeakDetector(ProvidedBuf.class);

    private final ProvidedBuffers owner;
    private final int id;
    private final ResourceLeakTracker<ProvidedBuf> leak;

    /** {@code view}: the payload area, position 0 to limit (the capacity); not freed by this buffer. */
    ProvidedBuf(ByteBufAllocator alloc, ByteBuffer view, ProvidedBuffers owner, int id) {
        super(alloc, view, view.remaining());
        this.owner = owner;
        this.id = id;
        this.leak = LEAKS.track(this);
    }

    @Override
    public ByteBuf touch(Object hint) {
        if (leak != null) {
            leak.record(hint);
        }
        return this;
    }

    @Override
    public ByteBuf touch() {
        if (leak != null) {
            leak.record();
        }
        return this;
    }

    @Override
    protected void deallocate() {
        super.deallocate(); // drops the view; it does not free memory it did not allocate
        if (leak != null) {
            leak.close(this);
        }
        owner.returned(id);
    }
}
