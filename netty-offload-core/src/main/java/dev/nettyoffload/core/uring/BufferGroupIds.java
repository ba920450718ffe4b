package dev.nettyoffload.core.uring;

import java.util.BitSet;

/**
 * Buffer group ids for the multishot readers of this JVM. A group id names a list of provided buffers within one
 * ring, and two readers on one event loop must not share one, or one's RECVMSG could write into the other's memory.
 * Ids are unique per JVM (simpler than per ring, and 32767 of them suffice) and taken from the upper half of the
 * 16-bit space, which Netty's own buffer rings cannot use ({@code IoUringBufferRingConfig} takes 0 to 32767).
 */
final class BufferGroupIds {
    static final int FIRST = 0x8000;
    static final int LAST = 0xFFFE;

    private static final BitSet used = new BitSet();
    /** Where {@link #acquire()} starts looking: {@link #FIRST}; a test moves it onto a Netty buffer ring's id. */
    private static int first = FIRST;

    private BufferGroupIds() {
    }

    /** A free id, as the {@code short} an SQE's {@code buf_group} takes. */
    static synchronized short acquire() {
        int id = used.nextClearBit(first);
        if (id > LAST) {
            throw new IllegalStateException("all " + (LAST - FIRST + 1) + " buffer group ids are in use");
        }
        used.set(id);
        return (short) id;
    }

    /**
     * Frees {@code id} for another reader. Only once the kernel's list of that group is known to be empty: a stale
     * entry would point a later reader's RECVMSG at freed memory.
     */
    static synchronized void release(short id) {
        used.clear(id & 0xFFFF);
    }

    /** Makes {@link #acquire()} start at {@code id} (tests: a conflict with a Netty buffer ring). */
    static synchronized void startAt(int id) {
        first = id;
    }

    /** Whether {@code id} is taken (tests). */
    static synchronized boolean isInUse(int id) {
        return used.get(id);
    }
}
