package dev.nettyoffload.gso;

import io.netty.handler.codec.EncoderException;

/**
 * A write that {@link GsoEncoder} or {@link PacketGsoEncoder} cannot segment; the message says what was wrong and
 * what is allowed.
 */
public class GsoException extends EncoderException {
    private static final long serialVersionUID = 1L;

    public GsoException(String message) {
        super(message);
    }

    public GsoException(String message, Throwable cause) {
        super(message, cause);
    }
}
