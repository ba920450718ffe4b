package dev.nettyoffload.core.packet;

import io.netty.handler.codec.EncoderException;

/**
 * A packet cannot be segmented or parsed: truncated headers, length fields that disagree with the buffer,
 * metadata that contradicts the headers, refused extension headers or limits exceeded. The message states the
 * actual value and the allowed one.
 */
public class PacketOffloadException extends EncoderException {
    private static final long serialVersionUID = 1L;

    /** Creates an exception with a message naming what is wrong. */
    public PacketOffloadException(String message) {
        super(message);
    }
}
