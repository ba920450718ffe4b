package dev.nettyoffload.examples.vxlan;

import dev.nettyoffload.examples.CliRun;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The command lines of VxlanGateway and VxlanGatewayBenchmark: help, and bad input refused in one line before
 * anything is bound or any namespace exists (so these tests need neither root nor peers).
 */
class VxlanCliTest {
    private static final String A = "127.0.0.1,100,1450,127.0.0.2";
    private static final String B = "127.0.0.3,200,1450,127.0.0.4";

    @Test
    void gatewayHelpShowsTheSidesAndDefaults() {
        CliRun.of(VxlanGateway::run, "--help").assertHelp("SIDE1", "SIDE2", "LOCAL_IP,VNI,MTU,REMOTE_IP",
                "--no-offload", "--transport=epoll|io_uring|nio");
    }

    @Test
    void gatewayRefusesBadSidesAndOptionsInOneLine() {
        CliRun.of(VxlanGateway::run, A, "127.0.0.3,16777216,1450,127.0.0.4").assertRefused("SIDE2", "0-16777215");
        CliRun.of(VxlanGateway::run, "127.0.0.1,100,100,127.0.0.2", B).assertRefused("SIDE1", "576-65535");
        CliRun.of(VxlanGateway::run, "127.0.0.1,x,1450,127.0.0.2", B).assertRefused("SIDE1", "VNI");
        CliRun.of(VxlanGateway::run, "127.0.0.1,100,1450", B).assertRefused("SIDE1", "LOCAL_IP,VNI,MTU,REMOTE_IP");
        CliRun.of(VxlanGateway::run, A).assertRefused("SIDE2", "Missing");
        CliRun.of(VxlanGateway::run, A, B, "--transport", "foo").assertRefused("--transport",
                "epoll, io_uring or nio");
        CliRun.of(VxlanGateway::run, A, B, "--bogus").assertRefused("--bogus", "--no-offload");
    }

    @Test
    void benchmarkHelpShowsTheOptionsAndDefaults() {
        CliRun.of(VxlanGatewayBenchmark::run, "--help").assertHelp("--rounds=N", "(default: 3)", "--seconds=S",
                "--mtu-a=M", "--mtu-b=M", "(default: 1500)", "626-65535", "--transport=epoll|io_uring|nio",
                "--veth-gro=true|false", "(default: true)", "--no-kernel");
    }

    @Test
    void benchmarkRefusesBadOptionsWithoutCreatingNamespaces() {
        CliRun.of(VxlanGatewayBenchmark::run, "--rounds", "-1").assertRefused("--rounds", "1-100");
        CliRun.of(VxlanGatewayBenchmark::run, "--rounds", "0").assertRefused("--rounds", "1-100");
        CliRun.of(VxlanGatewayBenchmark::run, "--seconds", "abc").assertRefused("--seconds", "1-3600");
        CliRun.of(VxlanGatewayBenchmark::run, "--mtu-b", "600").assertRefused("--mtu-b", "626-65535");
        CliRun.of(VxlanGatewayBenchmark::run, "--mtu-a", "70000").assertRefused("--mtu-a", "626-65535");
        CliRun.of(VxlanGatewayBenchmark::run, "--transport", "foo").assertRefused("--transport",
                "epoll, io_uring or nio");
        CliRun.of(VxlanGatewayBenchmark::run, "--veth-gro", "maybe").assertRefused("--veth-gro", "maybe");
        CliRun.of(VxlanGatewayBenchmark::run, "--bogus").assertRefused("--bogus", "--rounds");
        long pid = ProcessHandle.current().pid() % 1_000_000;
        assertFalse(Files.exists(Path.of("/var/run/netns", "vxgw-a-" + pid)), "namespace created");
        assertFalse(Files.exists(Path.of("/var/run/netns", "vxgw-b-" + pid)), "namespace created");
        assertFalse(Files.exists(Path.of("/var/run/netns", "vxgw-k-" + pid)), "namespace created");
    }
}
