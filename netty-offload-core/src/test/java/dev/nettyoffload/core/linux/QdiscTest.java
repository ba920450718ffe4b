package dev.nettyoffload.core.linux;

import dev.nettyoffload.testkit.Prerequisites;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QdiscTest {
    @Test
    void fqDetectionFromRecordedTcOutput() {
        assertFalse(Qdisc.hasFq("lo", TestResources.read("tc-qdisc-show-lo.json")));
        assertFalse(Qdisc.hasFq("eth0", TestResources.read("tc-qdisc-show-pfifo-fast.json")));
        assertFalse(Qdisc.hasFq("down0", "[]\n"));
        // Not recordable here (the test machine's kernel lacks fq): a multi-queue NIC with fq on each queue,
        // as tc prints it when net.core.default_qdisc=fq.
        assertTrue(Qdisc.hasFq("eth1", "[{\"kind\":\"mq\",\"handle\":\"0:\",\"root\":true,"
                + "\"options\":{}},{\"kind\":\"fq\",\"handle\":\"0:\",\"parent\":\":1\",\"options\":{}}]"));
        OffloadToolException e = assertThrows(OffloadToolException.class, () -> Qdisc.hasFq("x", "{oops"));
        assertEquals(OffloadToolException.Reason.TOOL_FAILED, e.reason());
    }

    @Test
    void fqDetectionOnRealDevices() throws Exception {
        Prerequisites.requireCommand("tc", "iproute2");
        // Loopback has "noqueue" on every Linux; it never has fq.
        assertFalse(Qdisc.isFqAttached("lo"));
        OffloadToolException e = assertThrows(OffloadToolException.class,
                () -> Qdisc.isFqAttached("ncnosuch0"));
        assertEquals(OffloadToolException.Reason.NO_SUCH_DEVICE, e.reason());
        String problem = Qdisc.udpPacingProblem(InetAddress.getLoopbackAddress());
        assertTrue(problem.startsWith("the fq qdisc is not attached to lo, so SO_MAX_PACING_RATE does not pace "
                + "UDP to 127.0.0.1; attach it with 'tc qdisc replace dev lo root fq'"), problem);
    }
}
