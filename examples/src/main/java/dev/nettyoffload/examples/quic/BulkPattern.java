package dev.nettyoffload.examples.quic;

import io.netty.buffer.ByteBuf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The bytes of a bulk transfer: byte {@code p} of the stream is a fixed function of {@code p}, so a receiver
 * checks every byte, and its position, without the sender keeping anything.
 */
final class BulkPattern {
    private BulkPattern() {
    }

    /** The 8 bytes at stream offset {@code 8 * word}, little-endian (SplitMix64's finalizer of the index). */
    static long word(long word) {
        long z = word * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    static byte byteAt(long position) {
        return (byte) (word(position >>> 3) >>> ((position & 7) << 3));
    }

    /** Appends the {@code length} bytes that start at stream offset {@code position} to {@code buf}. */
    static void fill(ByteBuf buf, long position, int length) {
        buf.ensureWritable(length);
        // One NIO view instead of a ByteBuf call per word: under paranoid leak detection every ByteBuf access
        // records a stack trace, which would dominate a 64 MiB transfer.
        ByteBuffer out = buf.nioBuffer(buf.writerIndex(), length).order(ByteOrder.LITTLE_ENDIAN);
        long end = position + length;
        while (position < end && (position & 7) != 0) {
            out.put(byteAt(position++));
        }
        while (end - position >= 8) {
            out.putLong(word(position >>> 3));
            position += 8;
        }
        while (position < end) {
            out.put(byteAt(position++));
        }
        buf.writerIndex(buf.writerIndex() + length);
    }

    /**
     * Checks the readable bytes of {@code buf} against the stream from {@code position}; returns the stream
     * offset of the first wrong byte, or -1 when all are right.
     */
    static long mismatch(ByteBuf buf, long position) {
        ByteBuffer in = buf.nioBuffer().order(ByteOrder.LITTLE_ENDIAN);
        while (in.hasRemaining() && (position & 7) != 0) {
            if (in.get() != byteAt(position)) {
                return position;
            }
            position++;
        }
        while (in.remaining() >= 8) {
            int i = in.position();
            if (in.getLong() != word(position >>> 3)) {
                for (int k = 0; k < 8; k++) {
                    if (in.get(i + k) != byteAt(position + k)) {
                        return position + k;
                    }
                }
            }
            position += 8;
        }
        while (in.hasRemaining()) {
            if (in.get() != byteAt(position)) {
                return position;
            }
            position++;
        }
        return -1;
    }
}
