package dev.nettyoffload.gro;

import dev.nettyoffload.core.OffloadCapabilities;
import dev.nettyoffload.core.Transport;
import dev.nettyoffload.testkit.CommandRunner;
import dev.nettyoffload.testkit.NetNs;
import dev.nettyoffload.testkit.PatternSender;
import dev.nettyoffload.testkit.Prerequisites;
import io.netty.channel.Channel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GRO across a real interface: a sender in a network namespace, a veth pair, and the epoll receiver with
 * UDP_GRO and a {@link GroAggregator} in the test JVM (root namespace).
 * <p>
 * What the kernel needs (found with these tests on Linux 6.18): a USO send crosses veth as one GSO packet
 * and reaches a UDP_GRO socket whole, with no feature change. Plain datagrams are coalesced only when the
 * receiving veth end has GRO on (which gives it a NAPI context) <em>and</em> {@code rx-udp-gro-forwarding}
 * (or {@code rx-gro-list}) on: veth only passes a locally sent packet through NAPI/GRO when the sending end
 * has no TSO features or the receiving end has one of those two ({@code veth_skb_is_eligible_for_gro}), and
 * veth has TSO on by default. Even then each datagram a local sender writes is usually polled on its own
 * (the sender's softirq runs NAPI at once), so batches need {@code gro_flush_timeout} on the receiving end
 * too, which lets GRO hold packets across polls. With GRO alone, or off, each datagram arrives alone.
 */
class GroNetnsTest {
    static final int SIZE = 1400;
    static final int PER_ROUND = 40;
    static final int TAIL = 500;
    static final int ROUNDS = 5;

    @AfterAll
    static void shutdown() {
        GroLoopbackTest.shutdown();
    }

    @ParameterizedTest(name = "{0} sender, ethtool -K veth {1}, gro_flush_timeout {2}")
    @CsvSource({
        "uso,   gro off,                         0,      yes",
        "plain, gro off,                         0,      no",
        "plain, gro on,                          0,      no",
        "plain, gro on,                          200000, no",
        // Eligible for GRO, but each datagram tends to get a NAPI poll of its own: batches are by chance.
        "plain, gro on rx-udp-gro-forwarding on, 0,      maybe",
        "plain, gro on rx-udp-gro-forwarding on, 200000, yes",
    })
    void groAcrossVeth(String senderMode, String features, String flushTimeout, String expectKernelBatches)
            throws Exception {
        Prerequisites.requireNetns();
        Prerequisites.requireTransport(Transport.EPOLL.displayName(), Transport.EPOLL.unavailabilityCause());
        Prerequisites.requireCommand("ethtool", "ethtool");
        OffloadCapabilities caps = OffloadCapabilities.get();
        Prerequisites.require(caps.isUdpGroSupported(), "UDP_GRO (" + caps.udpGroProblem() + ")");
        Prerequisites.require(caps.isKernelSegmentationAvailable(Transport.EPOLL), "UDP_SEGMENT on epoll");

        String rootEnd = "gr" + ProcessHandle.current().pid() % 100000 + "g";
        NetNs ns = NetNs.create("grsend");
        Channel receiver = null;
        Process sender = null;
        try {
            NetNs.vethToRoot(rootEnd, "10.82.11.1/24", ns, "eth0", "10.82.11.2/24", 1500);
            List<String> ethtool = new ArrayList<>(List.of("ethtool", "-K", rootEnd));
            ethtool.addAll(Arrays.asList(features.trim().split("\\s+")));
            CommandRunner.run(ethtool.toArray(new String[0]));
            // Lets GRO hold packets across NAPI polls: each sent datagram is otherwise polled on its own.
            Files.writeString(Path.of("/sys/class/net/" + rootEnd + "/gro_flush_timeout"), flushTimeout);
            GroAggregator agg = new GroAggregator();
            BatchCollector sink = new BatchCollector();
            receiver = GroLoopbackTest.bindReceiver(Transport.EPOLL, InetAddress.getByName("10.82.11.1"), agg, sink);
            int port = ((InetSocketAddress) receiver.localAddress()).getPort();
            sender = ns.javaProcess(PatternSender.class, senderMode, "10.82.11.1", Integer.toString(port),
                    Integer.toString(SIZE), Integer.toString(PER_ROUND), Integer.toString(TAIL),
                    Integer.toString(ROUNDS), "50").redirectErrorStream(true).start();
            String out = readAll(sender.getInputStream(), 30_000);
            assertTrue(sender.waitFor(30, TimeUnit.SECONDS), "sender did not finish");
            assertEquals(0, sender.exitValue(), out);
            int total = ROUNDS * (PER_ROUND * SIZE + TAIL);
            assertTrue(out.contains("SENT " + total), out);
            GroLoopbackTest.await(() -> sink.size() >= total, 10_000, "all bytes (" + sink.size() + " of " + total + ")");
            byte[] want = new byte[total];
            for (int i = 0; i < total; i++) {
                want[i] = PatternSender.patternAt(i);
            }
            assertArrayEquals(want, sink.bytes(), "concatenated segments equal the bytes sent, in order");
            assertEquals(List.of(), sink.problems());
            long kernelBatches = GroLoopbackTest.onLoop(receiver, agg.counters()::kernelGroBatches);
            String summary = GroLoopbackTest.onLoop(receiver, agg::toString);
            System.out.println(senderMode + " sender, " + features + ", gro_flush_timeout " + flushTimeout + ": "
                    + summary + ", messages "+ sink.messages() + ", largest batch " + sink.maxSegments());
            if (expectKernelBatches.equals("yes")) {
                assertTrue(kernelBatches > 0, "no kernel GRO batch: " + summary);
            } else if (expectKernelBatches.equals("no")) {
                assertEquals(0, kernelBatches, "kernel batches where veth cannot GRO: " + summary);
            }
            if (senderMode.equals("uso")) {
                assertEquals(ROUNDS, sink.messages(), "each USO send arrives as one batch: " + summary);
                assertEquals(PER_ROUND + 1, sink.maxSegments());
            }
        } finally {
            if (sender != null) {
                sender.destroyForcibly();
            }
            if (receiver != null) {
                receiver.close().sync();
            }
            CommandRunner.tryRun("ip", "link", "del", rootEnd);
            ns.close();
        }
    }

    static String readAll(InputStream in, long timeoutMillis) throws IOException {
        StringBuilder sb = new StringBuilder();
        long deadline = System.currentTimeMillis() + timeoutMillis;
        byte[] buf = new byte[4096];
        while (System.currentTimeMillis() < deadline) {
            int n = in.read(buf);
            if (n < 0) {
                break;
            }
            sb.append(new String(buf, 0, n, StandardCharsets.UTF_8));
        }
        return sb.toString();
    }
}
