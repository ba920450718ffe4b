package dev.nettyoffload.core.uring;

import dev.nettyoffload.core.Errno;

/**
 * What the reader does when a RECVMSG completes with {@code -errno}.
 */
enum RecvError {
    /** Transient (EAGAIN, EINTR) or a cancel that is not ours (ECANCELED; we cancel only when stopping): re-arm. */
    RETRY,
    /**
     * Reported once and then gone, mostly a connected socket's pending ICMP error (ECONNREFUSED, EHOSTUNREACH,
     * ...): fire {@code exceptionCaught} and re-arm; the socket is fine afterwards.
     */
    REPORT,
    /**
     * The request itself cannot work (EBADF, ENOTSOCK, EINVAL, EFAULT, EOPNOTSUPP): fire, stop the reader and hand
     * reading back to Netty.
     */
    FATAL;

    /** The action for {@code errno} (positive). */
    static RecvError of(int errno) {
        switch (errno) {
            case Errno.EAGAIN:
            case Errno.EINTR:
            case Errno.ECANCELED:
                return RETRY;
            case Errno.EBADF:
            case Errno.ENOTSOCK:
            case Errno.EINVAL:
            case Errno.EFAULT:
            case Errno.EOPNOTSUPP:
                return FATAL;
            default:
                return REPORT;
        }
    }
}
