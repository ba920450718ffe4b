package dev.nettyoffload.gro;

import dev.nettyoffload.testkit.TestPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The aggregators emit the JFR events of {@code dev.nettyoffload.core.jfr} where they count the problem. */
class GroFlightRecorderTest {
    @Test
    void badChecksumAndTruncationAreRecorded(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("gro.jfr");
        byte[] bytes;
        try (Recording r = new Recording()) {
            r.enable("dev.nettyoffload.ChecksumFailure");
            r.enable("dev.nettyoffload.ReceiveTruncation");
            r.start();

            TestPacket spec = new TestPacket();
            spec.tcpFlags = TestPacket.ACK;
            bytes = new RawRun(spec).next(1448).bytes;
            bytes[bytes.length - 1] ^= 0x5a; // the payload no longer matches the TCP checksum
            EmbeddedChannel packets = new EmbeddedChannel(new PacketGroAggregator());
            ByteBuf bad = PacketChecks.input(bytes, true);
            packets.writeInbound(bad);
            ReferenceCountUtil.release(packets.readInbound());
            assertFalse(packets.finish());

            EmbeddedChannel datagrams = new EmbeddedChannel();
            datagrams.config().setRecvByteBufAllocator(new FixedRecvByteBufAllocator(2048));
            datagrams.pipeline().addLast(new GroAggregator());
            InetSocketAddress local = new InetSocketAddress("10.82.0.1", 4000);
            InetSocketAddress peer = new InetSocketAddress("10.82.0.2", 5000);
            datagrams.writeInbound(new DatagramPacket(Unpooled.buffer(2048, 2048).writeZero(2048), local, peer));
            ReferenceCountUtil.release(datagrams.readInbound());
            assertFalse(datagrams.finish());

            r.stop();
            r.dump(file);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file);
        assertEquals(2, events.size(), events.toString());
        RecordedEvent checksum = events.stream()
                .filter(e -> e.getEventType().getName().equals("dev.nettyoffload.ChecksumFailure")).findFirst()
                .orElseThrow();
        assertEquals("TCP", checksum.getString("protocol"));
        assertEquals(bytes.length, checksum.getInt("length"));
        RecordedEvent truncation = events.stream()
                .filter(e -> e.getEventType().getName().equals("dev.nettyoffload.ReceiveTruncation")).findFirst()
                .orElseThrow();
        assertEquals(2048, truncation.getInt("length"));
        assertEquals("/10.82.0.2:5000", truncation.getString("sender"));
    }
}
