package dev.nettyoffload.benchmarks.harness;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MachineLoadTest {
    @Test
    void stealIsTheStolenShareOfAllCpuTimeBetweenTheSamples() {
        MachineLoad load = MachineLoad.between(new MachineLoad.Sample(0.1, 1000, 10),
                new MachineLoad.Sample(0.2, 3000, 110));
        assertEquals(0.05, load.steal, 1e-9);
        assertEquals(0.1, load.loadBefore, 1e-9);
        assertEquals(0.2, load.loadAfter, 1e-9);
    }

    @Test
    void warnsOnlyWhenLoadOrStealIsHigh() {
        assertNull(new MachineLoad(0.4, 2.0, 0.01, 2).warning());
        String busy = new MachineLoad(4.3, 4.0, 0.01, 2).warning();
        assertTrue(busy.contains("the load average was 4.30 on 2 CPUs"), busy);
        assertFalse(busy.contains("stole"), busy);
        String stolen = new MachineLoad(0.2, 0.2, 0.12, 2).warning();
        assertTrue(stolen.contains("the hypervisor stole 12.0% of the CPU time"), stolen);
    }

    @Test
    void unreadableCountersSayUnknown() {
        MachineLoad load = MachineLoad.between(new MachineLoad.Sample(Double.NaN, -1, -1),
                new MachineLoad.Sample(Double.NaN, -1, -1));
        assertNull(load.warning());
        assertTrue(load.toString().contains("CPU steal unknown"), load.toString());
        assertTrue(Double.isNaN(load.loadBefore) && Double.isNaN(load.steal));
    }

    @Test
    void readsThisMachine() {
        MachineLoad.Sample s = MachineLoad.sample();
        assertTrue(s.load >= 0, "load average " + s.load);
        assertTrue(s.totalJiffies > 0 && s.stealJiffies >= 0, s.totalJiffies + " " + s.stealJiffies);
    }
}
