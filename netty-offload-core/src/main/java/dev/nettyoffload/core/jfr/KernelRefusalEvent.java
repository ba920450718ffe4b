package dev.nettyoffload.core.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** The kernel refused a segmented (UDP_SEGMENT) send; the channel falls back to software segmentation. */
@Name("dev.nettyoffload.KernelRefusal")
@Label("Kernel Refused Segmented Send")
@Category({"Netty", "Offload"})
@Description("The kernel refused a UDP_SEGMENT send; the write is resent in software and the channel stays there")
final class KernelRefusalEvent extends Event {
    @Label("Channel")
    String channel;

    @Label("Destination")
    String destination;

    @Label("Errno")
    String errno;

    @Label("Segment Size")
    int segmentSize;

    @Label("Segments")
    int segments;
}
