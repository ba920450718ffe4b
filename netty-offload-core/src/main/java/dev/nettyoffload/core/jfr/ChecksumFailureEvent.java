package dev.nettyoffload.core.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** A received packet had a bad IPv4 header, TCP or UDP checksum; it was passed on unmerged. */
@Name("dev.nettyoffload.ChecksumFailure")
@Label("Packet Checksum Failure")
@Category({"Netty", "Offload"})
@Description("A packet failed checksum validation in the packet aggregator and was passed on unmerged")
final class ChecksumFailureEvent extends Event {
    @Label("Channel")
    String channel;

    @Label("Protocol")
    String protocol;

    @Label("Packet Length")
    int length;
}
