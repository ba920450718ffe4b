package dev.nettyoffload.tun;

import dev.nettyoffload.testkit.CommandRunner;
import dev.nettyoffload.testkit.NetNs;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;


import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link TunChannelOption#MULTI_QUEUE}: two channels on two event loops bound to one device name are its two
 * queues, and the kernel spreads flows over them; a channel without the flag cannot join.
 */
class TunMultiQueueTest {
    private static EventLoopGroup group;

    @BeforeAll
    static void setUp() {
        group = TunTestLoops.start(2);
    }

    @AfterAll
    static void tearDown() {
        TunTestLoops.stop(group);
    }

    @Test
    void oneQueuePerChannelAndFlowsSpreadOverThem() throws Exception {
        String name = NetNs.uniqueDeviceName("tq");
        try (NetNs ns = NetNs.create("tunq")) {
            TunChannel q0 = (TunChannel) bind(name, true).syncUninterruptibly().channel();
            TunChannel q1 = (TunChannel) bind(name, true).syncUninterruptibly().channel();
            try {
                assertTrue(q0.eventLoop() != q1.eventLoop(), "one queue per event loop");
                ChannelFuture single = bind(name, false).awaitUninterruptibly();
                assertFalse(single.isSuccess(), "a queue without IFF_MULTI_QUEUE joined a multi-queue device");
                // The kernel refuses the flag mismatch at TUNSETIFF.
                assertTrue(String.valueOf(single.cause().getMessage()).contains("TUNSETIFF"), single.cause()::toString);
                CommandRunner.run("ip", "link", "set", name, "netns", ns.name());
                NetNs.configure(ns, name, "10.203.0.1/24");
                String queues = ns.exec("ls", "/sys/class/net/" + name + "/queues");
                assertTrue(queues.contains("rx-0") && queues.contains("rx-1") && !queues.contains("rx-2"), queues);
                // 64 UDP flows (distinct destination ports) routed into the device: the kernel picks a queue by
                // flow hash, so both queues see some (all on one: a chance of 2^-63).
                ns.exec("bash", "-c", "for p in $(seq 9001 9064); do echo x > /dev/udp/10.203.0.2/$p; done");
                long r0 = 0;
                long r1 = 0;
                for (int i = 0; i < 50 && r0 + r1 < 64; i++) {
                    Thread.sleep(40);
                    r0 = q0.counters().snapshot().reads();
                    r1 = q1.counters().snapshot().reads();
                }
                // ARP is not used on a TUN device; IPv6 router solicitations may add reads, never remove them.
                assertTrue(r0 + r1 >= 64, r0 + " + " + r1);
                assertTrue(r0 > 0 && r1 > 0, "flows on one queue only: " + r0 + " / " + r1);
            } finally {
                q0.close().syncUninterruptibly();
                q1.close().syncUninterruptibly();
            }
            assertFalse(q0.isOpen());
        }
    }

    private static ChannelFuture bind(String name, boolean multiQueue) {
        return new Bootstrap()
                .group(group)
                .channel(TunChannel.class)
                .option(TunChannelOption.MULTI_QUEUE, multiQueue)
                .handler(new ChannelInboundHandlerAdapter())
                .bind(new TunAddress(name));
    }
}
