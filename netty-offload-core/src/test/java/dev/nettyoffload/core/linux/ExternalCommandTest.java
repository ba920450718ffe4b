package dev.nettyoffload.core.linux;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExternalCommandTest {
    private static final int HUGE = 1024 * 1024;

    @Test
    void capturesLargeOutputOnBothStreams() {
        // Stderr first: more than a pipe holds, before anything goes to stdout.
        ExternalCommand.Result r = new ExternalCommand(List.of("sh"), "dash").run("-c", "head -c " + HUGE
                + " /dev/zero | tr '\\0' e >&2; head -c " + HUGE + " /dev/zero | tr '\\0' o; exit 3");
        assertEquals(3, r.exitCode);
        assertEquals(HUGE, r.stdout.length());
        assertEquals(HUGE, r.stderr.length());
        assertTrue(r.stdout.chars().allMatch(c -> c == 'o') && r.stderr.chars().allMatch(c -> c == 'e'));
    }

    @Test
    void stdinIsEmpty() {
        assertEquals("", new ExternalCommand(List.of("cat"), "coreutils").run().stdout);
    }

    @Test
    void timeoutFailsTheCallAndKillsTheTool() {
        long start = System.nanoTime();
        OffloadToolException e = assertThrows(OffloadToolException.class,
                () -> new ExternalCommand(List.of("sh"), "dash", 1).run("-c", "while :; do echo xxxxxxxx >&2; done"));
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertEquals(OffloadToolException.Reason.TOOL_FAILED, e.reason());
        assertTrue(e.getMessage().contains("did not finish within 1 s"), e.getMessage());
        assertTrue(millis < 10_000, "returned after " + millis + " ms");
    }
}
