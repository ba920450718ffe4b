package dev.nettyoffload.core.jfr;

/**
 * Emits this project's JDK Flight Recorder events. Each method costs a flag check when recording is off, and
 * nothing at all on a runtime without the {@code jdk.jfr} module (a jlinked image), where the events are skipped.
 */
public final class OffloadEvents {
    private static final boolean AVAILABLE = jfrPresent();

    private OffloadEvents() {
    }

    private static boolean jfrPresent() {
        try {
            Class.forName("jdk.jfr.Event", false, OffloadEvents.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** Whether the events can be recorded in this runtime. */
    public static boolean isSupported() {
        return AVAILABLE;
    }

    /**
     * The kernel refused a segmented send to {@code destination} with {@code errno} (e.g. {@code "EIO"});
     * {@code segments} of {@code segmentSize} bytes are resent in software.
     */
    public static void kernelRefusal(Object channel, Object destination, String errno, int segmentSize, int segments) {
        if (AVAILABLE) {
            Emit.kernelRefusal(channel, destination, errno, segmentSize, segments);
        }
    }

    /** A received datagram of {@code length} bytes from {@code sender} filled its buffer. */
    public static void receiveTruncation(Object channel, Object sender, int length) {
        if (AVAILABLE) {
            Emit.receiveTruncation(channel, sender, length);
        }
    }

    /** A {@code protocol} packet ({@code "TCP"} or {@code "UDP"}) of {@code length} bytes failed validation. */
    public static void checksumFailure(Object channel, String protocol, int length) {
        if (AVAILABLE) {
            Emit.checksumFailure(channel, protocol, length);
        }
    }

    /** Touches the jdk.jfr types; loaded only when the module is present. */
    private static final class Emit {
        private Emit() {
        }

        static void kernelRefusal(Object channel, Object destination, String errno, int segmentSize, int segments) {
            KernelRefusalEvent e = new KernelRefusalEvent();
            if (e.isEnabled()) {
                e.channel = String.valueOf(channel);
                e.destination = String.valueOf(destination);
                e.errno = errno;
                e.segmentSize = segmentSize;
                e.segments = segments;
                e.commit();
            }
        }

        static void receiveTruncation(Object channel, Object sender, int length) {
            ReceiveTruncationEvent e = new ReceiveTruncationEvent();
            if (e.isEnabled()) {
                e.channel = String.valueOf(channel);
                e.sender = String.valueOf(sender);
                e.length = length;
                e.commit();
            }
        }

        static void checksumFailure(Object channel, String protocol, int length) {
            ChecksumFailureEvent e = new ChecksumFailureEvent();
            if (e.isEnabled()) {
                e.channel = String.valueOf(channel);
                e.protocol = protocol;
                e.length = length;
                e.commit();
            }
        }
    }
}
