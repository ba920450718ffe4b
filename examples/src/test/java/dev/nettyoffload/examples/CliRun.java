package dev.nettyoffload.examples;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.ToIntFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs a main's {@code run(String...)} in this JVM with stdout and stderr captured. */
public final class CliRun {
    public final int exitCode;
    public final String out;
    public final String err;

    private CliRun(int exitCode, String out, String err) {
        this.exitCode = exitCode;
        this.out = out;
        this.err = err;
    }

    public static CliRun of(ToIntFunction<String[]> main, String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            System.setOut(o);
            System.setErr(e);
            code = main.applyAsInt(args);
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        return new CliRun(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Exit 0, the usage on stdout with every {@code expected} text (option names, shown defaults), no stderr. */
    public CliRun assertHelp(String... expected) {
        assertEquals(0, exitCode, err);
        assertTrue(out.startsWith("Usage: "), out);
        assertTrue(out.contains("--help") && out.contains("(default: "), out);
        for (String e : expected) {
            assertTrue(out.contains(e), "'" + e + "' in: " + out);
        }
        assertEquals("", err);
        return this;
    }

    /**
     * Exit 2, one line on stderr that names {@code option} and contains {@code allowed}, and nothing on stdout:
     * the command did not start.
     */
    public CliRun assertRefused(String option, String allowed) {
        assertEquals(2, exitCode, out + err);
        assertEquals(1, err.lines().count(), err);
        assertTrue(err.contains(option), "'" + option + "' in: " + err);
        assertTrue(err.contains(allowed), "'" + allowed + "' in: " + err);
        assertEquals("", out, "nothing should have started");
        return this;
    }
}
