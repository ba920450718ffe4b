package dev.nettyoffload.core.uring;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledDirectByteBuf;

import java.nio.ByteBuffer;

/**
 * {@link ProvidedBuf} for a JVM where Netty does not use {@code sun.misc.Unsafe} (JDK 24+ by default): the same
 * content over the provided buffer's payload area, read and written through its {@link ByteBuffer}.
 */
final class ProvidedNioBuf extends UnpooledDirectByteBuf {
    private final ProvidedRelease release;

    /** {@code view}: the payload area, position 0 to limit (the capacity); not freed by this buffer. */
    ProvidedNioBuf(ByteBufAllocator alloc, ByteBuffer view, ProvidedBuffers owner, int id) {
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
