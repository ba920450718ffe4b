package dev.nettyoffload.tun;

import dev.nettyoffload.ffm.Syscalls;
import io.netty.channel.unix.FileDescriptor;

/** A TUN device's descriptor; closed through {@link Syscalls}, so that Netty sees it closed. */
final class TunDescriptor extends FileDescriptor {
    TunDescriptor(int fd) {
        super(fd);
    }

    void closeNow() {
        if (markClosed()) {
            Syscalls.close(intValue());
        }
    }
}
