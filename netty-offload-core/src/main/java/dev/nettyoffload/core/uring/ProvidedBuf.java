package dev.nettyoffload.core.uring;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledUnsafeDirectByteBuf;

import java.nio.ByteBuffer;

/**
 * The content of one message of a multishot reader: the payload area of provided buffer {@code id}, without a
 * copy. Its slices and duplicates share its reference count; when that reaches 0 the buffer goes back to its
 * {@link ProvidedBuffers} (and from there to the kernel's group). The memory belongs to the group's region and is
 * never freed here. Fixed capacity: the buffer cannot grow out of its area.
 */
final class ProvidedBuf extends UnpooledUnsafeDirectByteBuf {
    private final ProvidedBuffers owner;
    private final int id;

    /** {@code view}: the payload bytes, position 0 to limit (the readable length); not freed by this buffer. */
    ProvidedBuf(ByteBufAllocator alloc, ByteBuffer view, ProvidedBuffers owner, int id) {
        super(alloc, view, view.remaining());
        this.owner = owner;
        this.id = id;
    }

    @Override
    protected void deallocate() {
        super.deallocate(); // drops the view; it does not free memory it did not allocate
        owner.returned(id);
    }
}
