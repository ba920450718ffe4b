package dev.nettyoffload.core.uring;

import dev.nettyoffload.core.Errno;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.uring.IoUringIoEvent;
import io.netty.channel.uring.IoUringIoOps;

/**
 * The multishot form of {@link IoUringDatagramReader}'s receive: its {@link ProvidedBuffers} given to the kernel
 * with IORING_OP_PROVIDE_BUFFERS, one {@link MultishotRecv} kept armed, buffers provided again one by one as the
 * application releases them. Event loop only.
 * <ul>
 *   <li>Start: all buffers in one PROVIDE_BUFFERS; the RECVMSG is armed when the kernel has accepted them, so that
 *       a kernel without the op (or a group id Netty's own buffer ring took) is a refusal, not a failed read.</li>
 *   <li>Each completion with IORING_CQE_F_BUFFER takes buffer {@code flags >>> 16} out of the kernel's group; it
 *       becomes a message or, when nothing of it is delivered, is provided again at once.</li>
 *   <li>A completion without IORING_CQE_F_MORE means the kernel ended the multishot: -ENOBUFS when every buffer is
 *       held (counted in {@link #noBufferStalls()}), or for its own reasons. It is armed again as soon as the group
 *       has a buffer: at once, or after the next buffer the application releases.</li>
 *   <li>A kernel that refuses the ops (EINVAL, EOPNOTSUPP before anything was received) makes the reader fall back
 *       to single-shot RECVMSGs ({@link IoUringDatagramReader} records why); a refused multishot RECVMSG also makes
 *       later readers of the JVM start single-shot ({@link MultishotSupport}).</li>
 *   <li>Stop: IORING_OP_ASYNC_CANCEL for the RECVMSG, IORING_OP_REMOVE_BUFFERS for the group; the memory goes when
 *       the kernel is done and the application has released every buffer ({@link ProvidedBuffers}).</li>
 * </ul>
 */
final class MultishotReceiver {
    // The data field of our ops (the single-shot slots use 0..63, the reader -2 and -3).
    static final short RECV_DATA = -4;
    static final short PROVIDE_ALL_DATA = -5;
    static final short PROVIDE_ONE_DATA = -6;
    static final short REMOVE_DATA = -7;
    static final short CANCEL_DATA = -8;

    private final IoUringDatagramReader reader;
    private final ProvidedBuffers buffers;
    private final MultishotRecv recv;
    /** The user_data of the armed RECVMSG; 0 when the kernel has ended it (or it was never armed). */
    private long recvId;
    /** Buffers in the kernel's group, counting provides submitted but not yet completed. */
    private int inKernel;
    /** Whether the multishot RECVMSG delivered data once: a later EINVAL is an error, not a missing feature. */
    private boolean proven;
    private boolean started;
    private boolean stopped;
    private int removeExpected = -1;
    private boolean removed;
    private boolean emptied;
    /** Whether the kernel ever accepted buffers into the group; if not, the group id holds nothing of ours. */
    private boolean everProvided;
    private boolean released;
    private long noBufferStalls;
    private long lostBuffers;

    private MultishotReceiver(IoUringDatagramReader reader, ProvidedBuffers buffers, MultishotRecv recv) {
        this.reader = reader;
        this.buffers = buffers;
        this.recv = recv;
    }

    /** {@code count} buffers with room for {@code payloadSize} payload bytes each, and the RECVMSG's memory. */
    static MultishotReceiver allocate(IoUringDatagramReader reader, int count, int payloadSize,
                                      ByteBufAllocator allocator, EventLoop loop) {
        int entrySize = (MultishotRecv.PAYLOAD_OFFSET + payloadSize + 7) & ~7;
        MultishotRecv recv = MultishotRecv.allocate(allocator);
        // The buffers call back into the receiver they are made for: the array closes that loop.
        MultishotReceiver[] self = new MultishotReceiver[1];
        try {
            ProvidedBuffers buffers = ProvidedBuffers.allocate(count, entrySize, allocator, loop,
                    id -> self[0].provideOne(id));
            self[0] = new MultishotReceiver(reader, buffers, recv);
            return self[0];
        } catch (Throwable t) {
            recv.release();
            throw t;
        }
    }

    /** Gives every buffer to the kernel; the RECVMSG follows when it accepted them. Returns false when stopped. */
    boolean start() {
        return provide(0, buffers.count(), PROVIDE_ALL_DATA);
    }

    private boolean provide(int firstId, int n, short data) {
        // PROVIDE_BUFFERS: fd = number of buffers, addr = the first, len = bytes of each, off = the first id.
        long id = reader.submit(new IoUringIoOps(UringConstants.IORING_OP_PROVIDE_BUFFERS, (byte) 0, (short) 0, n,
                firstId, buffers.address(firstId), buffers.entrySize(), 0, data, buffers.group(), (short) 0, 0, 0L));
        if (id == 0) {
            return false;
        }
        inKernel += n;
        return true;
    }

    /** A buffer the application released while the reader reads (from {@link ProvidedBuffers}). */
    private void provideOne(int id) {
        if (stopped) {
            return;
        }
        // Issued before the RECVMSG that may follow in the same submission, so the buffer is there for it.
        if (provide(id, 1, PROVIDE_ONE_DATA)) {
            arm();
        }
    }

    private void arm() {
        if (recvId != 0 || stopped || !started || inKernel == 0) {
            return;
        }
        long id = reader.submitRecv(recv, buffers.group(), RECV_DATA);
        if (id != 0) {
            recvId = id;
        }
    }

    /** A completion of one of this receiver's ops; returns false when it was not one. */
    boolean onCompletion(IoUringIoEvent e) {
        switch (e.data()) {
            case RECV_DATA:
                onRecvmsg(e.res(), e.flags());
                return true;
            case PROVIDE_ALL_DATA:
            case PROVIDE_ONE_DATA:
                onProvided(e.res(), e.data() == PROVIDE_ALL_DATA ? buffers.count() : 1);
                return true;
            case REMOVE_DATA:
                removed = true;
                emptied = e.res() >= 0 && e.res() == removeExpected;
                releaseIfDone();
                return true;
            case CANCEL_DATA:
                return true; // 0, -ENOENT (already ended) or -EALREADY: the RECVMSG's own completion follows
            default:
                return false;
        }
    }

    private void onProvided(int res, int n) {
        if (res < 0) {
            inKernel -= n;
            if (!started && !stopped) {
                // Not recorded for the JVM: on a kernel with multishot RECVMSG (6.0+) the op exists, and EINVAL
                // here means our group id is a buffer ring of Netty's on this event loop.
                reader.multishotRefused("IORING_OP_PROVIDE_BUFFERS: " + Errno.name(-res), false);
            } else if (!stopped) {
                // The buffer stays out of the group until the reader stops; reading goes on with the others.
                if (lostBuffers == 0) {
                    reader.multishotBufferLost(-res); // logged once per reader; lostBuffers() counts them all
                }
                lostBuffers += n;
            }
            return;
        }
        everProvided = true;
        if (!started) {
            started = true;
            reader.multishotStarted();
        }
        arm();
    }

    private void onRecvmsg(int res, int flags) {
        boolean more = (flags & UringConstants.IORING_CQE_F_MORE) != 0;
        if (!more) {
            recvId = 0;
        }
        if ((flags & UringConstants.IORING_CQE_F_BUFFER) != 0) {
            int id = flags >>> UringConstants.IORING_CQE_BUFFER_SHIFT;
            inKernel--;
            if (!stopped) {
                DatagramPacket packet = res >= 0 ? reader.multishotMessage(recv, buffers, id, res) : null;
                if (packet != null) {
                    proven = true;
                    reader.deliver(packet);
                } else {
                    provideOne(id);
                }
            }
        } else if (res < 0 && !stopped) {
            int errno = -res;
            if (errno == Errno.ENOBUFS) {
                noBufferStalls++;
            } else if (!proven && (errno == Errno.EINVAL || errno == Errno.EOPNOTSUPP)) {
                reader.multishotRefused("RECVMSG with IORING_RECV_MULTISHOT: " + Errno.name(errno), true);
                return;
            } else if (!reader.onRecvError(errno)) {
                return; // the reader stopped
            }
        }
        if (!more) {
            if (stopped) {
                releaseIfDone();
            } else {
                arm();
            }
        }
    }

    /**
     * Stops receiving: cancels the RECVMSG and removes the buffers from the kernel's group. Call while
     * {@code registration} is valid; the memory is released by {@link #kernelDone()} or when the removal and the
     * RECVMSG's end are both seen.
     */
    void stop(IoRegistration registration) {
        if (stopped) {
            return;
        }
        stopped = true;
        buffers.stopReading();
        if (recvId != 0) {
            registration.submit(new IoUringIoOps(UringConstants.IORING_OP_ASYNC_CANCEL, (byte) 0, (short) 0, -1, 0L,
                    recvId, 0, 0, CANCEL_DATA, (short) 0, (short) 0, 0, 0L));
        }
        removeExpected = inKernel;
        if (registration.submit(new IoUringIoOps(UringConstants.IORING_OP_REMOVE_BUFFERS, (byte) 0, (short) 0,
                buffers.count(), 0L, 0L, 0, 0, REMOVE_DATA, buffers.group(), (short) 0, 0, 0L)) == 0) {
            removed = true; // no ring to remove from any more
        }
    }

    private void releaseIfDone() {
        if (stopped && removed && recvId == 0) {
            kernelDone();
        }
    }

    /** Every op has completed, or the ring is gone: the kernel no longer writes into the memory. */
    void kernelDone() {
        stopped = true;
        if (released) {
            return;
        }
        released = true;
        recv.release();
        buffers.kernelDone(emptied || !everProvided);
    }

    /** Whether the RECVMSG is armed. */
    boolean isArmed() {
        return recvId != 0;
    }

    /** Completions that ended the multishot with -ENOBUFS: every buffer was held by the application. */
    long noBufferStalls() {
        return noBufferStalls;
    }

    /** Buffers whose return to the group the kernel refused; out of use until the reader stops. */
    long lostBuffers() {
        return lostBuffers;
    }

    ProvidedBuffers buffers() {
        return buffers;
    }

    /** Appends the buffer state for the reader's {@code toString()}. */
    StringBuilder appendTo(StringBuilder sb) {
        return sb.append(buffers.count()).append(" x ").append(buffers.entrySize() - MultishotRecv.PAYLOAD_OFFSET)
                .append("-byte provided buffers in group ").append(buffers.group() & 0xFFFF).append(", ")
                .append(buffers.held()).append(" held by the application, ")
                .append(noBufferStalls).append(" ENOBUFS stalls")
                .append(lostBuffers > 0 ? ", " + lostBuffers + " refused back into the group" : "");
    }
}
