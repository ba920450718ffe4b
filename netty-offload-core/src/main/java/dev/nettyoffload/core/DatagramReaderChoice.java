package dev.nettyoffload.core;

import java.util.Objects;

/** A {@link DatagramReader} for a transport (or a channel) and why it was chosen. Immutable. */
public final class DatagramReaderChoice {
    private final Transport transport;
    private final DatagramReader reader;
    private final String reason;

    public DatagramReaderChoice(Transport transport, DatagramReader reader, String reason) {
        this.transport = Objects.requireNonNull(transport, "transport");
        this.reader = Objects.requireNonNull(reader, "reader");
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public Transport transport() {
        return transport;
    }

    public DatagramReader reader() {
        return reader;
    }

    /** Why this reader: what it does, or why a better one is not used. */
    public String reason() {
        return reason;
    }

    /** A copy with another reader and reason (after a fallback). */
    DatagramReaderChoice fallback(DatagramReader to, String why) {
        return new DatagramReaderChoice(transport, to, why);
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof DatagramReaderChoice)) {
            return false;
        }
        DatagramReaderChoice c = (DatagramReaderChoice) o;
        return transport == c.transport && reader == c.reader && reason.equals(c.reason);
    }

    @Override
    public int hashCode() {
        return Objects.hash(transport, reader, reason);
    }

    @Override
    public String toString() {
        return reader.displayName() + ": " + reason;
    }
}
