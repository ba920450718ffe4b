package dev.nettyoffload.tun;

import dev.nettyoffload.testkit.CommandRunner;
import dev.nettyoffload.testkit.NetNs;
import dev.nettyoffload.testkit.TestPacket;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@link TunChannelOption#PARTIAL_CHECKSUM_WRITES} against the kernel's UDP receive path: a datagram whose checksum
 * is partial (the pseudo-header sum) is a bad checksum when written plain ({@code Udp InCsumErrors}), and a
 * datagram taken as {@code CHECKSUM_PARTIAL} with the option ({@code Udp NoPorts}: it reached the port lookup).
 */
class TunPartialChecksumWriteTest {
    private static EventLoopGroup group;

    @BeforeAll
    static void setUp() {
        group = TunTestLoops.start(1);
    }

    @AfterAll
    static void tearDown() {
        TunTestLoops.stop(group);
    }

    @Test
    void partialUdpChecksumIsBadPlainAndAcceptedWithTheOption() throws Exception {
        String name = NetNs.uniqueDeviceName("tp");
        try (NetNs ns = NetNs.create("tunp")) {
            TunChannel tun = (TunChannel) new Bootstrap().group(group).channel(TunChannel.class)
                    .handler(new ChannelInboundHandlerAdapter())
                    .bind(new TunAddress(name)).syncUninterruptibly().channel();
            try {
                CommandRunner.run("ip", "link", "set", name, "netns", ns.name());
                // TestPacket's IPv4 destination.
                NetNs.configure(ns, name, "10.81.1.2/24");
                TestPacket spec = new TestPacket();
                spec.tcp = false;
                TestPacket.Variant v = spec.original();
                v.partial = true;
                byte[] partial = spec.build(new byte[300], v).bytes;

                long[] before = udp(ns);
                tun.writeAndFlush(Unpooled.wrappedBuffer(partial.clone())).syncUninterruptibly();
                awaitUdp(ns, before, 0, 1);

                tun.config().setPartialChecksumWrites(true);
                before = udp(ns);
                tun.writeAndFlush(Unpooled.wrappedBuffer(partial.clone())).syncUninterruptibly();
                // A complete checksum is overwritten with the partial form: accepted alike.
                byte[] complete = spec.build(new byte[300], spec.original()).bytes;
                tun.writeAndFlush(Unpooled.wrappedBuffer(complete)).syncUninterruptibly();
                awaitUdp(ns, before, 2, 0);
                assertEquals(2, tun.counters().snapshot().partialChecksumWrites());
            } finally {
                tun.close().syncUninterruptibly();
            }
        }
    }

    /** Waits until Udp NoPorts and InCsumErrors have grown by exactly the given counts. */
    private static void awaitUdp(NetNs ns, long[] before, long noPorts, long csumErrors) throws Exception {
        long[] now = before;
        for (int i = 0; i < 50; i++) {
            now = udp(ns);
            if (now[0] - before[0] == noPorts && now[1] - before[1] == csumErrors) {
                return;
            }
            Thread.sleep(40);
        }
        fail("Udp NoPorts/InCsumErrors grew by " + (now[0] - before[0]) + "/" + (now[1] - before[1])
                + ", expected " + noPorts + "/" + csumErrors);
    }

    /** {NoPorts, InCsumErrors} of the namespace's /proc/net/snmp. */
    private static long[] udp(NetNs ns) {
        List<String> udpLines = Arrays.stream(ns.exec("cat", "/proc/net/snmp").split("\n"))
                .filter(l -> l.startsWith("Udp:")).toList();
        List<String> names = Arrays.asList(udpLines.get(0).trim().split("\\s+"));
        String[] values = udpLines.get(1).trim().split("\\s+");
        return new long[] {Long.parseLong(values[names.indexOf("NoPorts")]),
                Long.parseLong(values[names.indexOf("InCsumErrors")])};
    }
}
