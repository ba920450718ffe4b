package dev.nettyoffload.benchmarks;

import dev.nettyoffload.testkit.Prerequisites;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs {@link PacketEngineComparison} in its tiny mode (one round, a few ms per figure) so that it cannot rot:
 * real child JVMs, the real C program when gcc and libdpdk are there, a real report. Nothing here is timed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PacketEngineComparisonTest {
    private PacketEngineComparison.Result result;
    private Path report;

    @BeforeAll
    void runTiny() throws Exception {
        Path dir = Files.createTempDirectory("engine-comparison");
        PacketEngineComparison.Options o = PacketEngineComparison.Options.parse(new String[] {"--tiny", "--out",
            dir.toString()});
        // Surefire's own class path is a manifest-only jar; the children need the real entries (directories, for
        // the multi-release classes of a JDK 22+ child).
        o.classPath = System.getProperty("surefire.test.class.path", o.classPath);
        result = PacketEngineComparison.run(o);
        report = dir.resolve("packet-engine-comparison.md");
    }

    @Test
    void everyJvmReportsEveryFigure() throws Exception {
        String md = Files.readString(report);
        int feature = Runtime.version().feature();
        for (String column : new String[] {"clean", "nio kernel", "mixed", "default leak",
            "mixed default leak"}) {
            Map<String, List<Double>> values = result.columns.get("Java " + feature + " " + column);
            assertNotNull(values, column + " missing:\n" + md);
            for (String figure : PacketEngineComparison.FIGURES) {
                List<Double> v = values.get(figure);
                assertNotNull(v, column + " " + figure);
                assertEquals(1, v.size());
                assertTrue(v.get(0) > 0, column + " " + figure + " = " + v.get(0));
            }
        }
        assertEquals("simple", result.labels.get("Java " + feature + " default leak").get("leak"));
        assertEquals("disabled", result.labels.get("Java " + feature + " mixed").get("leak"));
        assertEquals("simple", result.labels.get("Java " + feature + " mixed default leak").get("leak"));
        assertEquals("nio", result.labels.get("Java " + feature + " nio kernel").get("kernel"));
        assertTrue(md.contains("| checksum of 1448 bytes, ns/call |"), md);
        assertTrue(md.contains("mixed / clean"), md);
    }

    /** The DPDK reference: skipped without gcc, pkg-config and libdpdk, failed under OFFLOAD_REQUIRE_ALL=1. */
    @Test
    void cReferenceRuns() throws Exception {
        String why = PacketEngineComparison.cUnavailability();
        Prerequisites.require(why == null, "the DPDK C reference: " + why
                + " (apt-get install gcc pkg-config libdpdk-dev)");
        Map<String, List<Double>> c = result.columns.get("C (DPDK)");
        assertNotNull(c, Files.readString(report));
        for (String key : new String[] {"cksum", "gso_partial", "gso_full", "gro1", "gro16", "gro1_ck", "gro16_ck"}) {
            assertTrue(c.get(key).get(0) > 0, key);
        }
        assertTrue(Files.readString(report).contains("## Java / C"));
    }
}
