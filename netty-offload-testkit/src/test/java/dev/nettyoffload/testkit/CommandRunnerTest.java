package dev.nettyoffload.testkit;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CommandRunnerTest {
    /** More than a pipe holds (64 KiB) many times over, on each stream. */
    private static final int HUGE = 4 * 1024 * 1024;

    @Test
    void timeoutFiresOnACommandThatFloodsStderrAndNeverExits() {
        long start = System.nanoTime();
        CommandRunner.Result r = CommandRunner.tryRun(List.of("sh", "-c",
                "while :; do echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx >&2; done"), 1);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(r.timedOut(), r.toString());
        assertEquals(CommandRunner.EXIT_TIMED_OUT, r.exitCode);
        assertTrue(millis < 10_000, "returned after " + millis + " ms");
        assertTrue(r.stderr.startsWith("xxxxxxxx"), "stderr captured until the kill");
        assertTrue(r.stderr.endsWith("timed out after 1 s"), r.stderr.substring(Math.max(0, r.stderr.length() - 80)));
    }

    @Test
    void timeoutKillsTheCommandsChildren() throws Exception {
        CommandRunner.Result r = CommandRunner.tryRun(List.of("sh", "-c", "sleep 300 & echo $!; wait"), 1);
        assertTrue(r.timedOut(), r.toString());
        long child = Long.parseLong(r.stdout.trim());
        Optional<ProcessHandle> h = ProcessHandle.of(child);
        if (h.isPresent()) {
            h.get().onExit().get(5, TimeUnit.SECONDS);
        }
        assertFalse(ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false), "sleep " + child + " alive");
    }

    @Test
    void capturesHugeStdoutAndStderrWrittenStderrFirst() {
        // Stderr is written (and fills its pipe) before stdout is opened: a runner that reads stdout to the end
        // before stderr deadlocks here.
        String script = "head -c " + HUGE + " /dev/zero | tr '\\0' e >&2; head -c " + HUGE + " /dev/zero | tr '\\0' o";
        CommandRunner.Result r = CommandRunner.tryRun(List.of("sh", "-c", script), 60);
        assertEquals(0, r.exitCode, r.toString());
        assertEquals(HUGE, r.stdout.length());
        assertEquals(HUGE, r.stderr.length());
        assertTrue(r.stdout.chars().allMatch(c -> c == 'o'));
        assertTrue(r.stderr.chars().allMatch(c -> c == 'e'));
    }

    @Test
    void stdinIsEmpty() {
        CommandRunner.Result r = CommandRunner.tryRun(List.of("cat"), 10);
        assertTrue(r.ok(), r.toString());
        assertEquals("", r.stdout);
    }

    @Test
    void failuresAreResultsOrExceptions() {
        CommandRunner.Result failed = CommandRunner.tryRun("sh", "-c", "echo out; echo err >&2; exit 3");
        assertEquals(3, failed.exitCode);
        assertEquals("out\n", failed.stdout);
        assertEquals("err\n", failed.stderr);
        assertEquals("out\nerr\n", failed.output());
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> CommandRunner.run("sh", "-c", "echo why >&2; exit 1"));
        assertTrue(e.getMessage().contains("exit 1") && e.getMessage().contains("why"), e.getMessage());

        CommandRunner.Result missing = CommandRunner.tryRun("/nonexistent/command");
        assertEquals(CommandRunner.EXIT_NOT_STARTED, missing.exitCode);
        assertTrue(missing.stderr.contains("/nonexistent/command"), missing.stderr);
        assertEquals("hello\n", CommandRunner.run("echo", "hello"));
    }
}
