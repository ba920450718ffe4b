package dev.nettyoffload.gro;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Table-driven cases for the pipeline-free engine. Input: datagrams as {@code FLOW SIZE} ({@code a1400}),
 * {@code |} for a flush (read complete). Output: {@code FLOW SEGMENT_SIZE x COUNT / TOTAL} for a batch,
 * {@code FLOW SIZE} for a datagram that left alone.
 */
class DatagramBatcherTest {
    static final InetSocketAddress LOCAL = new InetSocketAddress("10.82.0.1", 4000);
    static final InetSocketAddress LOCAL6 = new InetSocketAddress("fd82::1", 4000);
    static final InetSocketAddress A = new InetSocketAddress("10.82.0.2", 5000);
    static final InetSocketAddress B = new InetSocketAddress("10.82.0.3", 5000);
    static final InetSocketAddress V6 = new InetSocketAddress("fd82::2", 5000);

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("equal sizes", GroConfig.DEFAULT, "a100 a100 a100 |", "a100x3/300"),
                Arguments.of("shorter last", GroConfig.DEFAULT, "a100 a100 a60 |", "a100x3/260"),
                Arguments.of("shorter ends the run", GroConfig.DEFAULT, "a100 a60 a100 a100 |", "a100x2/160 a100x2/200"),
                Arguments.of("larger next", GroConfig.DEFAULT, "a100 a100 a200 a200 |", "a100x2/200 a200x2/400"),
                Arguments.of("lone datagram", GroConfig.DEFAULT, "a1400 |", "a1400"),
                Arguments.of("interleaved flows", GroConfig.DEFAULT, "a100 b100 a100 b100 |", "a100 b100 a100 b100"),
                Arguments.of("flow change", GroConfig.DEFAULT, "a100 a100 b100 b100 b100 |", "a100x2/200 b100x3/300"),
                Arguments.of("read complete ends the run", GroConfig.DEFAULT, "a100 a100 | a100 a100 |",
                        "a100x2/200 a100x2/200"),
                Arguments.of("zero length", GroConfig.DEFAULT, "a100 a100 a0 a100 |", "a100x2/200 a0 a100"),
                Arguments.of("max segments", GroConfig.newBuilder().maxSegmentsPerBatch(2).build(), "a10 a10 a10 a10 a10 |",
                        "a10x2/20 a10x2/20 a10"),
                Arguments.of("byte limit", GroConfig.newBuilder().maxBatchBytes(250).build(), "a100 a100 a100 |",
                        "a100x2/200 a100"),
                Arguments.of("byte limit takes a short last", GroConfig.newBuilder().maxBatchBytes(250).build(),
                        "a100 a100 a50 a100 |", "a100x3/250 a100"),
                Arguments.of("over the byte limit", GroConfig.newBuilder().maxBatchBytes(250).build(),
                        "a100 a300 a100 |", "a100 a300 a100"),
                Arguments.of("IPv4 limit 65507", GroConfig.DEFAULT, rep("a32000", 2) + " a1507 a1 |",
                        "a32000x3/65507 a1"),
                Arguments.of("IPv6 limit 65527", GroConfig.DEFAULT, rep("v32000", 2) + " v1527 v1 |",
                        "v32000x3/65527 v1"));
    }

    static String rep(String token, int n) {
        return String.join(" ", java.util.Collections.nCopies(n, token));
    }

    static InetSocketAddress sender(char flow) {
        return flow == 'a' ? A : flow == 'b' ? B : V6;
    }

    static char flowOf(InetSocketAddress sender) {
        return sender.equals(A) ? 'a' : sender.equals(B) ? 'b' : 'v';
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void batches(String name, GroConfig config, String input, String expected) {
        GroCounters counters = new GroCounters();
        DatagramBatcher batcher = new DatagramBatcher(config, counters);
        List<String> out = new ArrayList<>();
        List<DatagramPacket> inputs = new ArrayList<>();
        DatagramBatcher.Output output = p -> {
            int length = p.content().readableBytes();
            char flow = flowOf(p.sender());
            if (p instanceof SegmentedDatagramPacket) {
                int seg = ((SegmentedDatagramPacket) p).segmentSize();
                out.add(flow + "" + seg + "x" + ((length + seg - 1) / seg) + "/" + length);
            } else {
                out.add(flow + "" + length);
            }
            p.release();
        };
        for (String token : input.trim().split("\\s+")) {
            if (token.equals("|")) {
                batcher.flush(ByteBufAllocator.DEFAULT, output);
                continue;
            }
            char flow = token.charAt(0);
            int size = Integer.parseInt(token.substring(1));
            ByteBuf b = Unpooled.buffer(size + 8).writeZero(size);
            DatagramPacket p = new DatagramPacket(b, flow == 'v' ? LOCAL6 : LOCAL, sender(flow));
            inputs.add(p);
            batcher.add(p, ByteBufAllocator.DEFAULT, output);
        }
        assertEquals(0, batcher.pending());
        assertEquals(expected, String.join(" ", out));
        assertEquals(inputs.size(), counters.datagramsIn());
        for (DatagramPacket p : inputs) {
            assertEquals(0, p.refCnt(), "input not released");
        }
    }
}
