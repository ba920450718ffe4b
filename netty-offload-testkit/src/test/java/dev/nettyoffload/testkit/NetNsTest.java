package dev.nettyoffload.testkit;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NetNsTest {
    @Test
    void vethAndVxlanCarryTrafficAndCloseRemovesEverything() {
        Prerequisites.requireNetns();
        String rootEnd = NetNs.uniqueDeviceName("tkv");
        // The root namespace is shared with concurrent runs: its subnet depends on the pid.
        String rootNet = "10.89." + NetNs.perProcess(100, 50, 1, 0);
        String name;
        try (NetNs a = NetNs.create("tk-a"); NetNs b = NetNs.create("tk-b")) {
            name = a.name();
            assertTrue(name.startsWith("tk-a-" + ProcessHandle.current().pid() + "-"), name);
            NetNs.vethToRoot(rootEnd, rootNet + ".1/24", a, "r0", rootNet + ".2/24", 1400);
            NetNs.veth(a, "ab0", "10.89.2.1/24", b, "ba0", "10.89.2.2/24", 1500);
            a.vxlan("vx0", 42, "10.89.2.1", "10.89.2.2", 4789, "ab0", 1450);
            b.vxlan("vx0", 42, "10.89.2.2", "10.89.2.1", 4789, "ba0", 1450);
            NetNs.configure(a, "vx0", "10.89.3.1/24");
            NetNs.configure(b, "vx0", "10.89.3.2/24");
            NetNs.setMtu(b, "vx0", 1400);
            assertTrue(b.exec("ip", "-o", "link", "show", "vx0").contains("mtu 1400"));

            long before = b.statistic("vx0", "rx_packets");
            assertTrue(a.tryExec(List.of("ping", "-c", "2", "-i", "0.2", "-W", "2", "10.89.3.2"), 20).ok(),
                    "ping across the vxlan overlay");
            assertTrue(b.statistic("vx0", "rx_packets") - before >= 2);
            long rootTx = NetNs.rootStatistic(rootEnd, "tx_packets");
            assertTrue(CommandRunner.tryRun("ping", "-c", "1", "-W", "2", rootNet + ".2").ok(),
                    "ping to the namespace");
            assertTrue(NetNs.rootStatistic(rootEnd, "tx_packets") > rootTx);
        }
        assertFalse(CommandRunner.run("ip", "netns", "list").contains(name), "namespace left behind");
        assertFalse(CommandRunner.tryRun("ip", "link", "show", rootEnd).ok(), "root veth end left behind");
    }

    @Test
    void shutdownHookRemovesWhatAnExitingJvmLeftOpen() throws Exception {
        Prerequisites.requireNetns();
        Process child = new ProcessBuilder(System.getProperty("java.home") + "/bin/java", "-cp",
                System.getProperty("java.class.path"), LeaveOpen.class.getName()).redirectErrorStream(true).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, child.exitValue(), out);
        String[] made = out.split(" ");
        assertEquals(2, made.length, out);
        assertFalse(CommandRunner.run("ip", "netns", "list").contains(made[0]), "namespace left behind: " + made[0]);
        assertFalse(CommandRunner.tryRun("ip", "link", "show", made[1]).ok(), "root veth end left behind: " + made[1]);
    }

    @Test
    void uniqueNamesFitLinuxLimits() {
        String device = NetNs.uniqueDeviceName("abcd");
        assertTrue(device.length() <= 15 && device.endsWith(Long.toString(ProcessHandle.current().pid())), device);
        int n = NetNs.perProcess(200, 10, 5, 4);
        assertEquals(200 + ProcessHandle.current().pid() % 10 * 5 + 4, n);
    }

    /** Makes a namespace and a veth pair to it, prints their names and exits without closing them. */
    public static final class LeaveOpen {
        public static void main(String[] args) {
            NetNs ns = NetNs.create("tk-exit");
            String rootEnd = NetNs.uniqueDeviceName("tkx");
            NetNs.vethToRoot(rootEnd, null, ns, "x0", null, 1500);
            System.out.println(ns.name() + " " + rootEnd);
        }
    }
}
