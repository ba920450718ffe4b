package dev.nettyoffload.benchmarks.harness;

import dev.nettyoffload.testkit.CommandRunner;
import dev.nettyoffload.testkit.Prerequisites;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/** Builds udpbench (src/main/c/udpbench.c, packaged in the jar) with gcc at run time. */
final class CReference {
    static final String SOURCE_RESOURCE = "/c/udpbench.c";

    private CReference() {
    }

    /** Why the C reference cannot be built here, or {@code null}. */
    static String unavailabilityReason() {
        if (!Prerequisites.hasCommand("gcc")) {
            return "gcc not found (apt-get install gcc); the report will have no C reference";
        }
        if (CReference.class.getResource(SOURCE_RESOURCE) == null) {
            return SOURCE_RESOURCE + " is missing from the class path";
        }
        return null;
    }

    /** Compiles udpbench into {@code dir} and returns the binary's path. */
    static Path build(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path source = dir.resolve("udpbench.c");
        try (InputStream in = CReference.class.getResourceAsStream(SOURCE_RESOURCE)) {
            Files.copy(in, source, StandardCopyOption.REPLACE_EXISTING);
        }
        Path binary = dir.resolve("udpbench");
        CommandRunner.Result r = CommandRunner.tryRun(List.of("gcc", "-O2", "-Wall", "-o", binary.toString(),
                source.toString()), 120);
        if (!r.ok()) {
            throw new IOException("gcc failed to build " + source + ": " + r.output().trim());
        }
        return binary;
    }
}
