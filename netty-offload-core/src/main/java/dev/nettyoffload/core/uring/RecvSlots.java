package dev.nettyoffload.core.uring;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.IoRegistration;
import io.netty.channel.uring.IoUringIoOps;

/**
 * The reader's {@link RecvSlot}s, indexed by the {@code data} field their RECVMSGs carry. Event loop only.
 */
final class RecvSlots {
    private final RecvSlot[] slots;

    RecvSlots(int count) {
        slots = new RecvSlot[count];
    }

    int count() {
        return slots.length;
    }

    /** Allocates every slot's memory; on failure releases what was allocated and rethrows. */
    void allocate(ByteBufAllocator allocator) {
        try {
            for (int i = 0; i < slots.length; i++) {
                slots[i] = RecvSlot.allocate(i, allocator);
            }
        } catch (Throwable t) {
            release();
            throw t;
        }
    }

    /** The slot at {@code index}, or {@code null} when there is none (released, or not a slot index). */
    RecvSlot get(int index) {
        return index >= 0 && index < slots.length ? slots[index] : null;
    }

    /** RECVMSGs in flight. */
    int inFlight() {
        int n = 0;
        for (RecvSlot slot : slots) {
            n += slot != null && slot.isInFlight() ? 1 : 0;
        }
        return n;
    }

    /**
     * Submits an IORING_OP_ASYNC_CANCEL (tagged {@code data}) for each RECVMSG in flight: {@code addr} is the
     * user_data of the request to cancel, which then completes with -ECANCELED (or with data that had already
     * arrived, which the reader drops).
     */
    void cancelAll(IoRegistration registration, short data) {
        for (RecvSlot slot : slots) {
            if (slot != null && slot.isInFlight()) {
                registration.submit(new IoUringIoOps(UringConstants.IORING_OP_ASYNC_CANCEL, (byte) 0, (short) 0, -1,
                        0L, slot.id(), 0, 0, data, (short) 0, (short) 0, 0, 0L));
            }
        }
    }

    /** Releases every slot; only when none is in flight. */
    void release() {
        for (int i = 0; i < slots.length; i++) {
            if (slots[i] != null) {
                slots[i].release();
                slots[i] = null;
            }
        }
    }
}
