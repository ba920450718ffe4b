package dev.nettyoffload.core.linux;

import dev.nettyoffload.core.linux.OffloadToolException.Reason;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Parses {@code ip -j route get} output recorded on this project's test machine (iproute2 6.1). */
class EgressRouteParseTest {

    @Test
    void onLinkIpv4() throws Exception {
        InetAddress dst = InetAddress.getByName("10.83.250.2");
        EgressRoute r = EgressRoute.parse(dst, TestResources.read("ip-route-get-veth4.json"));
        assertEquals("ncrec0", r.device());
        assertEquals(InetAddress.getByName("10.83.250.1"), r.source());
        assertNull(r.gateway());
        assertEquals("unicast", r.type());
        assertFalse(r.isLocal());
        assertEquals(DeviceLimits.UNKNOWN, r.routeMtu());
        assertEquals(DeviceLimits.UNKNOWN, r.mtu());
        assertEquals("10.83.250.2 dev ncrec0 src 10.83.250.1 mtu unknown", r.toString());
    }

    @Test
    void onLinkIpv6() throws Exception {
        InetAddress dst = InetAddress.getByName("fd83:250::2");
        EgressRoute r = EgressRoute.parse(dst, TestResources.read("ip-route-get-veth6.json"));
        assertEquals("ncrec0", r.device());
        assertEquals(InetAddress.getByName("fd83:250::1"), r.source());
    }

    @Test
    void gatewayWithMtuMetric() throws Exception {
        InetAddress dst = InetAddress.getByName("10.83.251.7");
        EgressRoute parsed = EgressRoute.parse(dst, TestResources.read("ip-route-get-gateway-mtu.json"));
        assertEquals(InetAddress.getByName("10.83.250.2"), parsed.gateway());
        assertEquals(1400, parsed.routeMtu());
        EgressRoute r = new EgressRoute(dst, parsed.device(), parsed.source(), parsed.gateway(), parsed.type(),
                parsed.routeMtu(), 1500);
        assertEquals(1400, r.mtu());
        assertEquals("10.83.251.7 via 10.83.250.2 dev ncrec0 src 10.83.250.1 mtu 1400 (route; device 1500)",
                r.toString());
    }

    @Test
    void localAddressesGoThroughLoopback() throws Exception {
        EgressRoute v4 = EgressRoute.parse(InetAddress.getByName("127.0.0.1"),
                TestResources.read("ip-route-get-loopback4.json"));
        assertEquals("lo", v4.device());
        assertTrue(v4.isLocal());
        EgressRoute v6 = EgressRoute.parse(InetAddress.getByName("::1"),
                TestResources.read("ip-route-get-loopback6.json"));
        assertEquals("lo", v6.device());
        assertEquals(InetAddress.getByName("::1"), v6.source());
        assertTrue(v6.toString().startsWith("0:0:0:0:0:0:0:1 (local) dev lo"), v6.toString());
    }

    @Test
    void unreachable() throws Exception {
        InetAddress dst = InetAddress.getByName("10.83.1.1");
        OffloadToolException e = EgressRoute.failure(dst, new ExternalCommand.Result(2, "",
                TestResources.read("ip-route-get-unreachable.stderr")));
        assertEquals(Reason.NO_ROUTE, e.reason());
        assertEquals("no route to 10.83.1.1: RTNETLINK answers: Network is unreachable", e.getMessage());
    }

    @Test
    void unreadableOutput() throws Exception {
        InetAddress dst = InetAddress.getByName("10.83.1.1");
        for (String bad : new String[] {"", "[]", "[{\"dst\":\"10.83.1.1\"}]", "[{\"dev\":\"x\",\"prefsrc\":\"host\"}]"}) {
            OffloadToolException e = assertThrows(OffloadToolException.class, () -> EgressRoute.parse(dst, bad));
            assertEquals(Reason.TOOL_FAILED, e.reason());
            assertTrue(e.getMessage().startsWith("cannot read the output of 'ip -j route get 10.83.1.1'"),
                    e.getMessage());
        }
    }
}
