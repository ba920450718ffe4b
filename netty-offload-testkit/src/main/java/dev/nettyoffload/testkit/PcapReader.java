package dev.nettyoffload.testkit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads the classic libpcap file format (as written by {@code tcpdump -w}): a 24-byte global header with the
 * magic number telling byte order and time resolution, then per packet a 16-byte record header and the bytes.
 */
public final class PcapReader {
    private static final int MAGIC_MICROS = 0xA1B2C3D4;
    private static final int MAGIC_NANOS = 0xA1B23C4D;
    /** LINKTYPE_ETHERNET from the tcpdump.org link-layer header type list. */
    public static final int LINKTYPE_ETHERNET = 1;

    private PcapReader() {
    }

    /** The packets of a capture file. */
    public static final class Capture {
        public final int linkType;
        public final List<byte[]> packets;

        Capture(int linkType, List<byte[]> packets) {
            this.linkType = linkType;
            this.packets = packets;
        }
    }

    /** Reads {@code file}; throws if it is not a pcap file or a record is cut short (truncated captures). */
    public static Capture read(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file));
        if (b.remaining() < 24) {
            throw new IOException("not a pcap file (" + b.remaining() + " bytes): " + file);
        }
        int magic = b.order(ByteOrder.BIG_ENDIAN).getInt(0);
        if (magic != MAGIC_MICROS && magic != MAGIC_NANOS) {
            b.order(ByteOrder.LITTLE_ENDIAN);
            magic = b.getInt(0);
            if (magic != MAGIC_MICROS && magic != MAGIC_NANOS) {
                throw new IOException("bad pcap magic 0x" + Integer.toHexString(magic) + ": " + file);
            }
        }
        int linkType = b.getInt(20);
        List<byte[]> packets = new ArrayList<>();
        int at = 24;
        while (at + 16 <= b.limit()) {
            int captured = b.getInt(at + 8);
            int original = b.getInt(at + 12);
            at += 16;
            if (captured < 0 || at + captured > b.limit()) {
                break; // a record being written when the capture stopped
            }
            if (captured != original) {
                throw new IOException("packet truncated by the snap length: " + captured + " of " + original);
            }
            packets.add(Arrays.copyOfRange(b.array(), at, at + captured));
            at += captured;
        }
        return new Capture(linkType, packets);
    }
}
