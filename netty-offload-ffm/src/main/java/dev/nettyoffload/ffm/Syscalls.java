package dev.nettyoffload.ffm;

import dev.nettyoffload.core.Errno;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Locale;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Linux system calls through {@code java.lang.foreign} downcalls into the C library, with {@code errno}
 * captured by {@link Linker.Option#captureCallState(String...)} in the same call.
 * <p>
 * Every call returns its result when it succeeds and the negated {@code errno} when it fails (the convention of
 * the kernel's own syscall return and of Netty's native code), so that the expected failures of a hot loop
 * ({@code EAGAIN}) cost no exception. Check {@link #isSupported()} before the first call. Calls are
 * thread-safe: each thread captures {@code errno} into its own small segment.
 * <p>
 * The structure offsets this class and {@link NativeLayouts} assume are those of 64-bit Linux (x86_64,
 * aarch64); {@link #isSupported()} is false anywhere else.
 */
public final class Syscalls {

    /** {@code MSG_CTRUNC}: the control buffer was too small ({@code include/linux/socket.h}). */
    public static final int MSG_CTRUNC = 0x8;
    /** {@code MSG_TRUNC}: the datagram was longer than the buffer ({@code include/linux/socket.h}). */
    public static final int MSG_TRUNC = 0x20;
    /** {@code MSG_DONTWAIT}: non-blocking for this call only ({@code include/linux/socket.h}). */
    public static final int MSG_DONTWAIT = 0x40;

    /** {@code F_GETFL}, from {@code include/uapi/asm-generic/fcntl.h}. */
    public static final int F_GETFL = 3;
    /** {@code F_SETFL}, from {@code include/uapi/asm-generic/fcntl.h}. */
    public static final int F_SETFL = 4;
    /** {@code F_DUPFD_CLOEXEC}: {@code dup} with close-on-exec set ({@code include/uapi/linux/fcntl.h}). */
    public static final int F_DUPFD_CLOEXEC = 1030;

    /** {@code O_RDWR}, from {@code include/uapi/asm-generic/fcntl.h}. */
    public static final int O_RDWR = 2;
    /** {@code O_NONBLOCK}, from {@code include/uapi/asm-generic/fcntl.h} (octal 04000). */
    public static final int O_NONBLOCK = 0x800;
    /** {@code O_CLOEXEC}, from {@code include/uapi/asm-generic/fcntl.h} (octal 02000000). */
    public static final int O_CLOEXEC = 0x80000;

    private static final Throwable UNAVAILABILITY_CAUSE = probe();

    private Syscalls() {
    }

    /**
     * Whether the calls work here: 64-bit Linux, a JVM with {@code java.lang.foreign} and native access not
     * denied. Without {@code --enable-native-access=ALL-UNNAMED} (or the jar's {@code Enable-Native-Access}
     * manifest entry) the JDK prints a warning at the first downcall, and denies it under
     * {@code --illegal-native-access=deny}.
     */
    public static boolean isSupported() {
        return UNAVAILABILITY_CAUSE == null;
    }

    /** Why {@link #isSupported()} is false, or {@code null} when it is true. */
    public static Throwable unavailabilityCause() {
        return UNAVAILABILITY_CAUSE;
    }

    private static Throwable probe() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        if (!os.startsWith("linux")) {
            return new UnsupportedOperationException("not Linux: " + os);
        }
        if (ADDRESS.byteSize() != 8) {
            return new UnsupportedOperationException("not a 64-bit platform");
        }
        try {
            // Links every handle, and proves errno capture: close(-1) fails with EBADF.
            int result = close(-1);
            if (result != -Errno.EBADF) {
                return new IllegalStateException("close(-1) returned " + result + ", expected -EBADF");
            }
            return null;
        } catch (Throwable t) {
            return t;
        }
    }

    /**
     * {@code recvmsg(2)}: receives one message (with {@code UDP_GRO}, one batch) into the buffers {@code msghdr}
     * points to. Returns the number of bytes received or {@code -errno}.
     */
    public static long recvmsg(int fd, MemorySegment msghdr, int flags) {
        MemorySegment state = Handles.callState();
        try {
            long result = (long) Handles.RECVMSG.invokeExact(state, fd, msghdr, flags);
            return result < 0 ? -Handles.errno(state) : result;
        } catch (Throwable t) {
            throw Handles.unexpected(t);
        }
    }

    /** {@code dup(2)}: a new descriptor for the same open file description, or {@code -errno}. */
    public static int dup(int fd) {
        MemorySegment state = Handles.callState();
        try {
            int result = (int) Handles.DUP.invokeExact(state, fd);
            return result < 0 ? -Handles.errno(state) : result;
        } catch (Throwable t) {
            throw Handles.unexpected(t);
        }
    }

    /**
     * {@code fcntl(2)} with an integer argument ({@link #F_DUPFD_CLOEXEC}, {@link #F_GETFL}, {@link #F_SETFL}):
     * the call's result or {@code -errno}.
     */
    public static int fcntl(int fd, int cmd, int arg) {
        MemorySegment state = Handles.callState();
        try {
            int result = (int) Handles.FCNTL.invokeExact(state, fd, cmd, arg);
            return result < 0 ? -Handles.errno(state) : result;
        } catch (Throwable t) {
            throw Handles.unexpected(t);
        }
    }

    /**
     * {@code close(2)}: 0 or {@code -errno}. As on Linux, the descriptor is released even when this reports
     * {@code EINTR}; never retry it.
     */
    public static int close(int fd) {
        MemorySegment state = Handles.callState();
        try {
            int result = (int) Handles.CLOSE.invokeExact(state, fd);
            return result < 0 ? -Handles.errno(state) : result;
        } catch (Throwable t) {
            throw Handles.unexpected(t);
        }
    }

    /** {@code ioctl(2)} whose argument is a pointer (a {@code struct ifreq}, an int): its result or {@code -errno}. */
    public static int ioctl(int fd, long request, MemorySegment arg) {
        MemorySegment state = Handles.callState();
        try {
            int result = (int) Handles.IOCTL_POINTER.invokeExact(state, fd, request, arg);
            return result < 0 ? -Handles.errno(state) : result;
        } catch (Throwable t) {
            throw Handles.unexpected(t);
        }
    }

    /**
     * {@code ioctl(2)} whose argument is a value ({@code TUNSETOFFLOAD} takes its flags this way): its result or
     * {@code -errno}.
     */
    public static int ioctl(int fd, long request, long arg) {
        MemorySegment state = Handles.callState();
        try {
            int result = (int) Handles.IOCTL_VALUE.invokeExact(state, fd, request, arg);
            return result < 0 ? -Handles.errno(state) : result;
        } catch (Throwable t) {
            throw Handles.unexpected(t);
        }
    }

    /** {@code read(2)} of up to {@code count} bytes into {@code buf}: bytes read or {@code -errno}. */
    public static long read(int fd, MemorySegment buf, long count) {
        checkCount(buf, count);
        MemorySegment state = Handles.callState();
        try {
            long result = (long) Handles.READ.invokeExact(state, fd, buf, count);
            return result < 0 ? -Handles.errno(state) : result;
        } catch (Throwable t) {
            throw Handles.unexpected(t);
        }
    }

    /** {@code write(2)} of {@code count} bytes from {@code buf}: bytes written or {@code -errno}. */
    public static long write(int fd, MemorySegment buf, long count) {
        checkCount(buf, count);
        MemorySegment state = Handles.callState();
        try {
            long result = (long) Handles.WRITE.invokeExact(state, fd, buf, count);
            return result < 0 ? -Handles.errno(state) : result;
        } catch (Throwable t) {
            throw Handles.unexpected(t);
        }
    }

    /**
     * {@code readv(2)} into {@code iovcnt} {@link NativeLayouts#IOVEC iovec}s at {@code iov}: bytes read or
     * {@code -errno}.
     */
    public static long readv(int fd, MemorySegment iov, int iovcnt) {
        checkIovecs(iov, iovcnt);
        MemorySegment state = Handles.callState();
        try {
            long result = (long) Handles.READV.invokeExact(state, fd, iov, iovcnt);
            return result < 0 ? -Handles.errno(state) : result;
        } catch (Throwable t) {
            throw Handles.unexpected(t);
        }
    }

    /**
     * {@code writev(2)} from {@code iovcnt} {@link NativeLayouts#IOVEC iovec}s at {@code iov}: bytes written or
     * {@code -errno}.
     */
    public static long writev(int fd, MemorySegment iov, int iovcnt) {
        checkIovecs(iov, iovcnt);
        MemorySegment state = Handles.callState();
        try {
            long result = (long) Handles.WRITEV.invokeExact(state, fd, iov, iovcnt);
            return result < 0 ? -Handles.errno(state) : result;
        } catch (Throwable t) {
            throw Handles.unexpected(t);
        }
    }

    /**
     * {@code open(2)} of {@code path} with {@code flags} (such as {@code O_RDWR | O_CLOEXEC} for
     * {@code /dev/net/tun}) and {@code mode} for a created file: the new descriptor or {@code -errno}.
     */
    public static int open(String path, int flags, int mode) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cPath = arena.allocateFrom(path);
            MemorySegment state = Handles.callState();
            int result = (int) Handles.OPEN.invokeExact(state, cPath, flags, mode);
            return result < 0 ? -Handles.errno(state) : result;
        } catch (Throwable t) {
            throw Handles.unexpected(t);
        }
    }

    /** {@code socket(2)}: a new socket descriptor or {@code -errno} (e.g. for interface ioctls like SIOCSIFMTU). */
    public static int socket(int domain, int type, int protocol) {
        MemorySegment state = Handles.callState();
        try {
            int result = (int) Handles.SOCKET.invokeExact(state, domain, type, protocol);
            return result < 0 ? -Handles.errno(state) : result;
        } catch (Throwable t) {
            throw Handles.unexpected(t);
        }
    }

    private static void checkCount(MemorySegment buf, long count) {
        if (count < 0 || count > buf.byteSize()) {
            throw new IndexOutOfBoundsException("count: " + count + " (expected: 0-" + buf.byteSize() + ")");
        }
    }

    private static void checkIovecs(MemorySegment iov, int iovcnt) {
        if (iovcnt < 0 || iovcnt * NativeLayouts.IOVEC.byteSize() > iov.byteSize()) {
            throw new IndexOutOfBoundsException("iovcnt: " + iovcnt + " (expected: 0-"
                    + iov.byteSize() / NativeLayouts.IOVEC.byteSize() + ")");
        }
    }

    /** Linked on first use, so that a JVM that denies native access fails {@link #probe()}, not class loading. */
    private static final class Handles {
        private static final Linker LINKER = Linker.nativeLinker();
        private static final MemoryLayout STATE_LAYOUT = Linker.Option.captureStateLayout();
        private static final long ERRNO_OFFSET =
                STATE_LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement("errno"));
        private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
        private static final ThreadLocal<MemorySegment> STATE =
                ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(STATE_LAYOUT));

        static final MethodHandle RECVMSG = link("recvmsg",
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle DUP = link("dup", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        // fcntl, ioctl and open are variadic in C: the arguments after the second are passed as variadic ones.
        static final MethodHandle FCNTL = link("fcntl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT),
                Linker.Option.firstVariadicArg(2));
        static final MethodHandle CLOSE = link("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        static final MethodHandle IOCTL_POINTER = link("ioctl",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), Linker.Option.firstVariadicArg(2));
        static final MethodHandle IOCTL_VALUE = link("ioctl",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(2));
        static final MethodHandle READ = link("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
        static final MethodHandle WRITE = link("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
        static final MethodHandle READV = link("readv", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle WRITEV = link("writev",
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle SOCKET = link("socket",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
        static final MethodHandle OPEN = link("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
                Linker.Option.firstVariadicArg(2));

        private Handles() {
        }

        // Restricted: the JDK warns at run time unless native access is enabled (see isSupported()).
        @SuppressWarnings("restricted")
        private static MethodHandle link(String name, FunctionDescriptor descriptor, Linker.Option... options) {
            MemorySegment symbol = LINKER.defaultLookup().find(name)
                    .orElseThrow(() -> new UnsatisfiedLinkError("no symbol " + name + " in the C library"));
            Linker.Option[] all = new Linker.Option[options.length + 1];
            all[0] = ERRNO;
            System.arraycopy(options, 0, all, 1, options.length);
            return LINKER.downcallHandle(symbol, descriptor, all);
        }

        static MemorySegment callState() {
            return STATE.get();
        }

        static int errno(MemorySegment state) {
            return state.get(ValueLayout.JAVA_INT, ERRNO_OFFSET);
        }

        static RuntimeException unexpected(Throwable t) {
            if (t instanceof RuntimeException e) {
                return e;
            }
            if (t instanceof Error e) {
                throw e;
            }
            return new IllegalStateException(t);
        }
    }
}
