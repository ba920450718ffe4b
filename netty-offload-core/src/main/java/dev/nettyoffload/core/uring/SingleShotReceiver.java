package dev.nettyoffload.core.uring;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.IoRegistration;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.uring.IoUringIoEvent;
import io.netty.channel.uring.IoUringIoOps;

/**
 * The single-shot form of {@link IoUringDatagramReader}'s receive: its {@link RecvSlots}, each with one RECVMSG
 * in flight into its own buffer, re-armed as soon as it completes. Event loop only.
 */
final class SingleShotReceiver {
    private final IoUringDatagramReader reader;
    private final RecvSlots slots;
    private final int bufferSize;
    private boolean allocated;

    SingleShotReceiver(IoUringDatagramReader reader, int receives, int bufferSize) {
        this.reader = reader;
        this.slots = new RecvSlots(receives);
        this.bufferSize = bufferSize;
    }

    /** Allocates the slots' memory; on failure nothing stays allocated. */
    void allocate(ByteBufAllocator allocator) {
        slots.allocate(allocator);
        allocated = true;
    }

    /** Puts every idle slot's RECVMSG in flight, in slot order. */
    void arm() {
        for (int i = 0; i < slots.count(); i++) {
            arm(slots.get(i));
        }
    }

    private void arm(RecvSlot slot) {
        if (slot == null || slot.isInFlight() || !reader.canSubmit()) {
            return;
        }
        IoUringIoOps op;
        try {
            op = slot.prepare(reader.fdValue(), reader.allocator(), bufferSize);
        } catch (IllegalStateException e) {
            reader.fail(e);
            return;
        }
        long id = reader.submit(op);
        if (id != 0) {
            slot.submitted(id);
        }
    }

    /** A completion of one of the slots' RECVMSGs; returns false when it was not one. */
    boolean onCompletion(IoUringIoEvent e) {
        RecvSlot slot = e.opcode() == UringConstants.IORING_OP_RECVMSG ? slots.get(e.data()) : null;
        if (slot == null) {
            return false;
        }
        slot.completed();
        int res = e.res();
        if (!reader.isReading()) {
            return true; // stopping: the buffers are released once the registration is gone
        }
        if (res >= 0) {
            DatagramPacket packet = reader.singleShotMessage(slot, res);
            if (packet != null) {
                reader.deliver(packet);
            }
        } else if (!reader.onRecvError(-res)) {
            return true;
        }
        // Re-armed at once: if the socket holds more, Netty's completion loop submits it and reaps the result in
        // this same round.
        arm(slot);
        return true;
    }

    /** Cancels every RECVMSG in flight (IORING_OP_ASYNC_CANCEL tagged {@code data}). */
    void cancel(IoRegistration registration, short data) {
        slots.cancelAll(registration, data);
    }

    /** Releases the memory; only when no RECVMSG is in flight. */
    void release() {
        if (allocated) {
            allocated = false;
            slots.release();
        }
    }

    int count() {
        return slots.count();
    }

    int inFlight() {
        return slots.inFlight();
    }
}
