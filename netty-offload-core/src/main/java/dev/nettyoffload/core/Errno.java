package dev.nettyoffload.core;

import io.netty.channel.unix.Errors;

/**
 * The Linux errno values this project reacts to, in one place for every module (sends, the io_uring and FFM
 * readers, TUN I/O). Values are from {@code include/uapi/asm-generic/errno-base.h} and {@code errno.h} (x86_64,
 * arm64).
 */
public final class Errno {
    public static final int EPERM = 1;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EFAULT = 14;
    public static final int EINVAL = 22;
    public static final int ENOTSOCK = 88;
    public static final int EMSGSIZE = 90;
    public static final int EOPNOTSUPP = 95;
    public static final int ENOBUFS = 105;
    public static final int ECONNREFUSED = 111;
    public static final int ECANCELED = 125;

    private Errno() {
    }

    /**
     * The positive errno carried by {@code cause} or one of its causes when it is a Netty native I/O error,
     * or 0 when there is none.
     */
    public static int of(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof Errors.NativeIoException) {
                return -((Errors.NativeIoException) t).expectedErr();
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return 0;
    }

    /** A symbolic name for {@code errno}, such as {@code EINVAL}, or {@code errno N}. */
    public static String name(int errno) {
        switch (errno) {
            case EPERM: return "EPERM";
            case EIO: return "EIO";
            case EAGAIN: return "EAGAIN";
            case EINVAL: return "EINVAL";
            case EMSGSIZE: return "EMSGSIZE";
            case EOPNOTSUPP: return "EOPNOTSUPP";
            case ENOBUFS: return "ENOBUFS";
            case ECONNREFUSED: return "ECONNREFUSED";
            default: return "errno " + errno;
        }
    }
}
