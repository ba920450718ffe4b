package dev.nettyoffload.testkit;

import dev.nettyoffload.testkit.TestPacket.Field;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@link TestPacket} under construction from the inside out: the payload first, then each header in front of
 * it. Prepending shifts the recorded fields, so that every field keeps naming the right bytes.
 */
final class PacketChunk {
    byte[] bytes;
    final List<Field> fields = new ArrayList<>();
    int payloadOffset;

    PacketChunk(byte[] payload) {
        bytes = payload.clone();
    }

    int length() {
        return bytes.length;
    }

    void prepend(byte[] header, Field... headerFields) {
        byte[] n = new byte[header.length + bytes.length];
        System.arraycopy(header, 0, n, 0, header.length);
        System.arraycopy(bytes, 0, n, header.length, bytes.length);
        bytes = n;
        List<Field> shifted = new ArrayList<>();
        for (Field f : headerFields) {
            shifted.add(f);
        }
        for (Field f : fields) {
            shifted.add(new Field(f.name, f.offset + header.length, f.length));
        }
        fields.clear();
        fields.addAll(shifted);
        payloadOffset += header.length;
    }
}
