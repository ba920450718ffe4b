package dev.nettyoffload.examples.video;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The clip the server streams: the embedded sample (H.264 640x360 25 fps, see the README next to it) or
 * files given on the command line. HTTP serves files with zero-copy file regions, so the embedded clip is
 * copied to a temporary directory first.
 */
final class SampleClip implements AutoCloseable {
    static final String RESOURCE_DIR = "/dev/nettyoffload/examples/video/";
    static final String MP4 = "sample.mp4";
    static final String TS = "sample.ts";

    final Path mp4;
    final Path ts;
    private final Path tempDir;

    private SampleClip(Path mp4, Path ts, Path tempDir) {
        this.mp4 = mp4;
        this.ts = ts;
        this.tempDir = tempDir;
    }

    /** The given files, or the embedded clip for each that is null. */
    static SampleClip open(Path mp4, Path ts) {
        Path dir = null;
        try {
            if (mp4 == null || ts == null) {
                dir = Files.createTempDirectory("netty-offload-video");
            }
            Path m = mp4 != null ? mp4 : extract(MP4, dir);
            Path t = ts != null ? ts : extract(TS, dir);
            return new SampleClip(m, t, dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the sample clip", e);
        }
    }

    private static Path extract(String name, Path dir) throws IOException {
        Path target = dir.resolve(name);
        try (InputStream in = SampleClip.class.getResourceAsStream(RESOURCE_DIR + name)) {
            if (in == null) {
                throw new IOException("resource " + RESOURCE_DIR + name + " is missing from the class path");
            }
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        }
        return target;
    }

    @Override
    public void close() {
        if (tempDir == null) {
            return;
        }
        try {
            for (String name : new String[] {MP4, TS}) {
                Files.deleteIfExists(tempDir.resolve(name));
            }
            Files.deleteIfExists(tempDir);
        } catch (IOException e) {
            // A leftover temporary file is harmless.
        }
    }
}
