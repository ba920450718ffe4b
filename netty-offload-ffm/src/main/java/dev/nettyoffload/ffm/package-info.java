/**
 * Linux system calls through {@code java.lang.foreign} (Java 22+, no JNI), and the epoll batch reader that
 * delivers each {@code UDP_GRO} batch as one {@link io.netty.channel.unix.SegmentedDatagramPacket}.
 */
package dev.nettyoffload.ffm;
