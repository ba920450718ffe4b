package dev.nettyoffload.core.uring;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which kernels get the multishot reader, and what the mode property does. */
class MultishotSupportTest {

    @ParameterizedTest(name = "{0}: has multishot RECVMSG {1}")
    @CsvSource({
        "5.4.0-150-generic, false",
        "5.19.17, false",
        "6.0.0, true",
        "6.1.55-cloud-amd64, true",
        "6.18.44-fc-v1272, true",
        "7.0, true",
        "not-a-version, true", // unknown: try, and fall back if the kernel refuses
    })
    void kernelRelease(String release, boolean multishot) {
        String problem = MultishotSupport.kernelProblem(release);
        if (multishot) {
            assertNull(problem, release);
        } else {
            assertTrue(problem.contains(release) && problem.contains("6.0+"), problem);
        }
    }

    @Test
    void propertyChoosesTheMode() {
        String old = System.getProperty(ReaderMode.PROPERTY);
        try {
            System.setProperty(ReaderMode.PROPERTY, "single-shot");
            assertEquals(ReaderMode.SINGLE_SHOT, ReaderMode.preferred());
            assertTrue(ReaderMode.preferredDescription().contains("-D" + ReaderMode.PROPERTY + "=single-shot")
                    || MultishotSupport.problem() != null, ReaderMode.preferredDescription());
            System.setProperty(ReaderMode.PROPERTY, "MULTISHOT");
            assertEquals(MultishotSupport.problem() == null ? ReaderMode.MULTISHOT : ReaderMode.SINGLE_SHOT,
                    ReaderMode.preferred());
            // Unset: single-shot, which measured faster (ReaderMode.preferred's javadoc).
            System.clearProperty(ReaderMode.PROPERTY);
            assertEquals(ReaderMode.SINGLE_SHOT, ReaderMode.preferred());
        } finally {
            if (old == null) {
                System.clearProperty(ReaderMode.PROPERTY);
            } else {
                System.setProperty(ReaderMode.PROPERTY, old);
            }
        }
    }
}
