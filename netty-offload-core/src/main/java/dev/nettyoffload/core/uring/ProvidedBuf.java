package dev.nettyoffload.core.uring;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledUnsafeDirectByteBuf;

import java.nio.ByteBuffer;

/**
 * The content of one message of a multishot reader where Netty uses {@code sun.misc.Unsafe}: the payload area of
 * provided buffer {@code id}, without a copy. Its slices and duplicates share its reference count; when that
 * reaches 0 the buffer goes back to its {@link ProvidedBuffers} (and from there to the kernel's group). The memory
 * belongs to the group's region and is never freed here. Its capacity is the area's (the payload room of the
 * provided buffer), and it cannot grow out of it. Where Netty runs without Unsafe (JDK 24+ by default), the same
 * is a {@link ProvidedNioBuf}: Netty's Unsafe accessors would fail there.
 */
final class ProvidedBuf extends UnpooledUnsafeDirectByteBuf {
    private final ProvidedRelease release;

    /** {@code view}: the payload area, position 0 to limit (the capacity); not freed by this buffer. */
    ProvidedBuf(ByteBufAllocator alloc, ByteBuffer view, ProvidedBuffers owner, int id) {
        super(alloc, view, view.remaining());
        this.release = new ProvidedRelease(this, owner, id);
    }

    @Override
    public ByteBuf touch(Object hint) {
        release.touch(hint);
        return this;
    }

    @Override
    public ByteBuf touch() {
        release.touch();
        return this;
    }

    @Override
    protected void deallocate() {
        super.deallocate(); // drops the view; it does not free memory it did not allocate
        release.deallocated(this);
    }
}
