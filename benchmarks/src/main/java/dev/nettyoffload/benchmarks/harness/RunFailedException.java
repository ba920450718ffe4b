package dev.nettyoffload.benchmarks.harness;

/** One run did not produce a result (no traffic arrived, a worker died or timed out); the harness goes on. */
final class RunFailedException extends RuntimeException {
    RunFailedException(String message) {
        super(message);
    }

    RunFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
