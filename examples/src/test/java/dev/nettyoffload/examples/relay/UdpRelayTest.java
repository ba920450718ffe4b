package dev.nettyoffload.examples.relay;

import dev.nettyoffload.core.OffloadCapabilities;
import dev.nettyoffload.core.Transport;
import dev.nettyoffload.testkit.NetNs;
import dev.nettyoffload.testkit.PatternSender;
import dev.nettyoffload.testkit.Prerequisites;
import dev.nettyoffload.testkit.UdpSink;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The relay forwards 64 KiB batches intact: GRO in, GSO out, on loopback and across veth. */
class UdpRelayTest {
    static final int SIZE = 1400;
    static final int SEGMENTS = 46; // 64400 bytes per batch
    static final int ROUNDS = 8;

    static void requireOffload() {
        Prerequisites.requireTransport(Transport.EPOLL.displayName(), Transport.EPOLL.unavailabilityCause());
        OffloadCapabilities caps = OffloadCapabilities.get();
        Prerequisites.require(caps.isUdpGroSupported(), "UDP_GRO (" + caps.udpGroProblem() + ")");
        Prerequisites.require(caps.isKernelSegmentationAvailable(Transport.EPOLL), "UDP_SEGMENT on epoll");
    }

    static void assertIntact(UdpSink.Summary got, UdpRelay.Stats stats) {
        int total = SIZE * SEGMENTS * ROUNDS;
        assertEquals(total, got.bytes, "bytes at the target; relay: " + stats);
        assertEquals(Collections.nCopies(SEGMENTS * ROUNDS, SIZE), got.sizes);
        assertEquals(UdpSink.sha256Hex(PatternSender.pattern(0, total)), got.sha256, "bytes in order");
        assertEquals(SEGMENTS * ROUNDS, stats.datagramsIn);
        assertEquals(ROUNDS, stats.kernelGroBatches, "each batch read with one recvmsg: " + stats);
        assertEquals(ROUNDS, stats.writes, "each batch forwarded as one write: " + stats);
        assertEquals(ROUNDS, stats.usoSends, "each batch sent with one USO sendmsg: " + stats);
        assertEquals((long) (SEGMENTS - 1) * ROUNDS, stats.sendSyscallsSaved());
        assertEquals((long) (SEGMENTS - 1) * ROUNDS, stats.receiveSyscallsSaved());
        assertEquals(0, stats.writeFailures);
    }

    @Test
    void relaysBatchesIntactOnLoopback() throws Exception {
        requireOffload();
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        try (UdpSink sink = new UdpSink(new InetSocketAddress(loopback, 0));
             UdpRelay relay = UdpRelay.start(Transport.EPOLL, new InetSocketAddress(loopback, 0), sink.localAddress())) {
            CompletableFuture<UdpSink.Summary> received = CompletableFuture.supplyAsync(() -> {
                try {
                    return sink.receive(1000, 20_000);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            PatternSender.send(PatternSender.Mode.USO, relay.localAddress(), SIZE, SEGMENTS, 0, ROUNDS, 20);
            UdpSink.Summary got = received.get(30, TimeUnit.SECONDS);
            UdpRelay.Stats stats = relay.stats();
            System.out.println("loopback relay: " + stats);
            assertIntact(got, stats);
        }
    }

    /**
     * Sender namespace -- veth -- relay (this JVM) -- veth -- target namespace. The veth towards the target
     * carries one packet per batch (a GSO packet), so the batch crossed the relay without being split.
     */
    @Test
    void relaysBatchesIntactAcrossVeth() throws Exception {
        requireOffload();
        Prerequisites.requireNetns();
        String toSender = NetNs.uniqueDeviceName("grs");
        String toTarget = NetNs.uniqueDeviceName("grt");
        NetNs senderNs = NetNs.create("grrs");
        NetNs targetNs = NetNs.create("grrt");
        Process sink = null;
        Process sender = null;
        try {
            NetNs.vethToRoot(toSender, "10.82.12.1/24", senderNs, "eth0", "10.82.12.2/24", 1500);
            NetNs.vethToRoot(toTarget, "10.82.13.1/24", targetNs, "eth0", "10.82.13.2/24", 1500);
            sink = targetNs.javaProcess(UdpSink.class, "10.82.13.2", "9082", "1500", "30000")
                    .redirectErrorStream(true).start();
            BufferedReader sinkOut = new BufferedReader(new InputStreamReader(sink.getInputStream(),
                    StandardCharsets.UTF_8));
            String ready = sinkOut.readLine();
            assertEquals("READY", ready);
            try (UdpRelay relay = UdpRelay.start(Transport.EPOLL, new InetSocketAddress("10.82.12.1", 0),
                    new InetSocketAddress("10.82.13.2", 9082))) {
                long txBefore = NetNs.rootStatistic(toTarget, "tx_packets");
                sender = senderNs.javaProcess(PatternSender.class, "uso", "10.82.12.1",
                        Integer.toString(relay.localAddress().getPort()), Integer.toString(SIZE),
                        Integer.toString(SEGMENTS), "0", Integer.toString(ROUNDS), "30")
                        .redirectErrorStream(true).start();
                String sent = new String(sender.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertTrue(sender.waitFor(30, TimeUnit.SECONDS));
                assertTrue(sent.contains("SENT " + (long) SIZE * SEGMENTS * ROUNDS), sent);
                StringBuilder summary = new StringBuilder();
                for (String line; (line = sinkOut.readLine()) != null; ) {
                    summary.append(line).append('\n');
                }
                assertTrue(sink.waitFor(30, TimeUnit.SECONDS));
                UdpRelay.Stats stats = relay.stats();
                long txPackets = NetNs.rootStatistic(toTarget, "tx_packets") - txBefore;
                System.out.println("veth relay: " + stats + "; packets on the veth to the target: " + txPackets);
                assertIntact(UdpSink.Summary.parse(summary.toString()), stats);
                // One GSO packet per batch (plus a few ARP and IPv6 ND/MLD packets of a new link), where a
                // split batch would have made SEGMENTS packets each.
                assertTrue(txPackets >= ROUNDS && txPackets < 2 * ROUNDS,
                        "packets on the veth to the target: " + txPackets + " for " + ROUNDS + " batches");
            }
        } finally {
            if (sender != null) {
                sender.destroyForcibly();
            }
            if (sink != null) {
                sink.destroyForcibly();
            }
            senderNs.close();
            targetNs.close();
        }
    }
}
