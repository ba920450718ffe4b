package dev.nettyoffload.core.uring;

import java.util.Locale;

/**
 * How an {@link IoUringDatagramReader} receives. Both modes deliver the same messages (one per kernel UDP_GRO
 * batch); they differ in how the kernel gets memory to write into.
 */
public enum ReaderMode {
    /**
     * One RECVMSG with IORING_RECV_MULTISHOT and IOSQE_BUFFER_SELECT (Linux 6.0+) that stays armed and takes a
     * buffer from a group the reader filled with IORING_OP_PROVIDE_BUFFERS (Linux 5.7+); each message's content is
     * a slice of that buffer, which goes back to the group when the application releases it. Memory: the group
     * is one direct region per channel, by default 64 x (64 KiB + 176 header bytes), about 4.2 MB, where the
     * single-shot form keeps 4 x 64 KiB in flight and takes a pooled buffer per message.
     */
    MULTISHOT("multishot RECVMSG into provided buffers"),
    /** {@link IoUringDatagramReader#DEFAULT_RECEIVES_IN_FLIGHT} single-shot RECVMSGs, each into its own buffer. */
    SINGLE_SHOT("single-shot RECVMSGs");

    /**
     * System property: {@code multishot} or {@code single-shot} sets the mode {@link #preferred()} returns;
     * unset, it is single-shot (see {@link #preferred()} for why).
     */
    public static final String PROPERTY = "dev.nettyoffload.uringReaderMode";

    private final String description;

    ReaderMode(String description) {
        this.description = description;
    }

    /** What the mode does, in a few words. */
    public String description() {
        return description;
    }

    /**
     * What a reader attached in the {@link #preferred()} mode does, and why it is not multishot when it is not:
     * the reason {@code DatagramReaders} and the offload report give for the io_uring reader.
     */
    public static String preferredDescription() {
        ReaderMode mode = preferred();
        String what = "one SegmentedDatagramPacket per kernel batch";
        if (mode == MULTISHOT) {
            return "io_uring multishot RECVMSG with UDP_GRO into " + IoUringDatagramReader.DEFAULT_PROVIDED_BUFFERS
                    + " provided 64 KiB buffers: " + what + ", a slice of its buffer without copying"
                    + " (single-shot RECVMSGs where the kernel refuses multishot)";
        }
        String problem = MultishotSupport.problem();
        String property = System.getProperty(PROPERTY);
        return "io_uring single-shot RECVMSGs with UDP_GRO into 64 KiB buffers: " + what + " (not multishot: "
                + (property != null ? "-D" + PROPERTY + "=" + property
                        : problem != null ? problem : "the default; -D" + PROPERTY + "=multishot to try it") + ")";
    }

    /**
     * The mode {@link IoUringDatagramReader#attach(io.netty.channel.Channel)} uses: the one the system property
     * {@value #PROPERTY} names ({@link #MULTISHOT} only where {@link IoUringDatagramReader#multishotProblem()}
     * finds nothing missing), else {@link #SINGLE_SHOT}. Single-shot is the default: on loopback (the harness's
     * path 3, 2 vCPUs) both modes deliver 0.90-0.91x of the C reference, and single-shot needs 256 KiB of
     * buffers per channel where multishot's group takes about 4.2 MB. (Before the reader fired a read-complete
     * when half the group is held, multishot got 13 Gbit/s against 35: one event-loop round reaped so many
     * completions before its read-complete that the group ran dry and the socket overflowed while the
     * multishot was re-armed.)
     */
    public static ReaderMode preferred() {
        String property = System.getProperty(PROPERTY, "").trim().toLowerCase(Locale.ROOT).replace("_", "-");
        if (property.equals("single-shot") || property.equals("singleshot")) {
            return SINGLE_SHOT;
        }
        if (property.equals("multishot") && MultishotSupport.problem() == null) {
            return MULTISHOT;
        }
        return SINGLE_SHOT;
    }
}
