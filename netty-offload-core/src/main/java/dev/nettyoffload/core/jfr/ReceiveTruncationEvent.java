package dev.nettyoffload.core.jfr;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** A received datagram or batch filled its whole receive buffer, so the kernel probably cut it short. */
@Name("dev.nettyoffload.ReceiveTruncation")
@Label("Received Datagram Probably Truncated")
@Category({"Netty", "Offload"})
@Description("A received datagram or UDP_GRO batch exactly filled its receive buffer: the rest was probably lost")
final class ReceiveTruncationEvent extends Event {
    @Label("Channel")
    String channel;

    @Label("Sender")
    String sender;

    @Label("Length")
    @DataAmount
    int length;
}
