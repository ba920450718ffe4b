package dev.nettyoffload.benchmarks.harness;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The progress line: what runs now, how far the harness is and an estimate of what is left. On a terminal it
 * rewrites one line; otherwise (CI logs, tests) it prints one line per run.
 */
final class Progress {
    private final PrintStream err;
    private final boolean terminal = System.console() != null;
    private long startNanos;
    private int total;
    private int lastLength;

    Progress(PrintStream err) {
        this.err = err;
    }

    void start(int total) {
        this.total = total;
        this.startNanos = System.nanoTime();
    }

    void update(int done, String what) {
        double elapsed = (System.nanoTime() - startNanos) / 1e9;
        String left = done == 0 ? "?" : clock(elapsed / done * (total - done));
        String line = String.format(Locale.ROOT, "[%3d/%d %3d%%] %s   elapsed %s, left ~%s", done + 1, total,
                done * 100 / total, what, clock(elapsed), left);
        if (terminal) {
            String pad = line.length() < lastLength ? " ".repeat(lastLength - line.length()) : "";
            err.print("\r" + line + pad);
            lastLength = line.length();
        } else {
            err.println(line);
        }
        err.flush();
    }

    /** A message on its own line, without losing the progress line. */
    void note(String message) {
        if (terminal) {
            err.print("\r" + " ".repeat(lastLength) + "\r");
            lastLength = 0;
        }
        err.println(message);
    }

    void finish(int done) {
        note(String.format(Locale.ROOT, "%d runs in %s", done, clock((System.nanoTime() - startNanos) / 1e9)));
    }

    static String clock(double seconds) {
        long s = Math.round(seconds);
        return String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
