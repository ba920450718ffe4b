package dev.nettyoffload.ffm;

import dev.nettyoffload.core.Errno;
import dev.nettyoffload.testkit.Prerequisites;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SyscallsTest {
    /** {@code FIONREAD}: bytes waiting to be read, from {@code include/uapi/asm-generic/ioctls.h}. */
    private static final long FIONREAD = 0x541B;

    @BeforeEach
    void requireSupported() {
        Prerequisites.require(Syscalls.isSupported(), "java.lang.foreign downcalls: " + Syscalls.unavailabilityCause());
    }

    @Test
    void errnoIsCaptured() {
        assertEquals(-Errno.EBADF, Syscalls.close(-1));
        assertEquals(-Errno.EBADF, Syscalls.dup(-1));
        assertEquals(-Errno.EBADF, Syscalls.fcntl(-1, Syscalls.F_GETFL, 0));
        assertEquals(-2 /* ENOENT */, Syscalls.open("/nonexistent/dir/file", Syscalls.O_RDWR, 0));
    }

    @Test
    void socketOpensAndRefusesAnUnknownFamily() {
        int fd = Syscalls.socket(2 /* AF_INET */, 2 /* SOCK_DGRAM */, 0);
        assertTrue(fd >= 0, "socket: " + fd);
        assertEquals(0, Syscalls.close(fd));
        assertEquals(-97 /* EAFNOSUPPORT */, Syscalls.socket(12345, 2, 0));
    }

    @Test
    void writeReadIoctlDupFcntlClose() {
        int fd = Syscalls.open("/dev/null", Syscalls.O_RDWR | Syscalls.O_CLOEXEC, 0);
        assertTrue(fd >= 0, "open: " + fd);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(16);
            assertEquals(16, Syscalls.write(fd, buf, 16));
            assertEquals(0, Syscalls.read(fd, buf, 16)); // /dev/null reads end of file
            int flags = Syscalls.fcntl(fd, Syscalls.F_GETFL, 0);
            assertEquals(Syscalls.O_RDWR, flags & 3);
            assertEquals(0, Syscalls.fcntl(fd, Syscalls.F_SETFL, flags | Syscalls.O_NONBLOCK));
            assertTrue((Syscalls.fcntl(fd, Syscalls.F_GETFL, 0) & Syscalls.O_NONBLOCK) != 0);

            int dup = Syscalls.dup(fd);
            int cloexec = Syscalls.fcntl(fd, Syscalls.F_DUPFD_CLOEXEC, 0);
            assertTrue(dup >= 0 && cloexec >= 0);
            assertNotEquals(fd, dup);
            // A duplicate shares the open file description, so it sees the O_NONBLOCK set above.
            assertTrue((Syscalls.fcntl(cloexec, Syscalls.F_GETFL, 0) & Syscalls.O_NONBLOCK) != 0);
            assertEquals(0, Syscalls.close(dup));
            assertEquals(0, Syscalls.close(cloexec));
            assertEquals(-Errno.EBADF, Syscalls.close(dup));
        } finally {
            assertEquals(0, Syscalls.close(fd));
        }
    }

    @Test
    void writevReadvAndFionreadThroughAFifo() throws Exception {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("ffm");
        java.nio.file.Path fifo = dir.resolve("fifo");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertEquals(0, mkfifo.waitFor());
        // O_RDWR on a FIFO opens both ends without blocking (Linux fifo(7)).
        int fd = Syscalls.open(fifo.toString(), Syscalls.O_RDWR | Syscalls.O_CLOEXEC, 0);
        assertTrue(fd >= 0, "open: " + fd);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment hello = arena.allocateFrom("hello ", StandardCharsets.US_ASCII);
            MemorySegment world = arena.allocateFrom("world", StandardCharsets.US_ASCII);
            MemorySegment iov = arena.allocate(NativeLayouts.IOVEC, 2);
            iov.set(JAVA_LONG, NativeLayouts.IOV_BASE, hello.address());
            iov.set(JAVA_LONG, NativeLayouts.IOV_LEN, 6);
            iov.set(JAVA_LONG, NativeLayouts.IOVEC.byteSize() + NativeLayouts.IOV_BASE, world.address());
            iov.set(JAVA_LONG, NativeLayouts.IOVEC.byteSize() + NativeLayouts.IOV_LEN, 5);
            assertEquals(11, Syscalls.writev(fd, iov, 2));

            MemorySegment pending = arena.allocate(JAVA_INT);
            assertEquals(0, Syscalls.ioctl(fd, FIONREAD, pending));
            assertEquals(11, pending.get(JAVA_INT, 0));

            MemorySegment a = arena.allocate(4);
            MemorySegment b = arena.allocate(16);
            iov.set(JAVA_LONG, NativeLayouts.IOV_BASE, a.address());
            iov.set(JAVA_LONG, NativeLayouts.IOV_LEN, 4);
            iov.set(JAVA_LONG, NativeLayouts.IOVEC.byteSize() + NativeLayouts.IOV_BASE, b.address());
            iov.set(JAVA_LONG, NativeLayouts.IOVEC.byteSize() + NativeLayouts.IOV_LEN, 16);
            assertEquals(11, Syscalls.readv(fd, iov, 2));
            assertArrayEquals("hell".getBytes(StandardCharsets.US_ASCII), a.toArray(JAVA_BYTE));
            assertArrayEquals("o world".getBytes(StandardCharsets.US_ASCII), b.asSlice(0, 7).toArray(JAVA_BYTE));

            int flags = Syscalls.fcntl(fd, Syscalls.F_GETFL, 0);
            Syscalls.fcntl(fd, Syscalls.F_SETFL, flags | Syscalls.O_NONBLOCK);
            assertEquals(-Errno.EAGAIN, Syscalls.read(fd, b, 16));
        } finally {
            Syscalls.close(fd);
            java.nio.file.Files.deleteIfExists(fifo);
            java.nio.file.Files.deleteIfExists(dir);
        }
    }

    @Test
    void layoutsMatchLp64() {
        assertEquals(16, NativeLayouts.IOVEC.byteSize());
        assertEquals(56, NativeLayouts.MSGHDR.byteSize());
        assertEquals(48, NativeLayouts.MSG_FLAGS);
        assertEquals(16, NativeLayouts.CMSG_DATA);
        assertEquals(24, NativeLayouts.cmsgSpace(4));
    }
}
