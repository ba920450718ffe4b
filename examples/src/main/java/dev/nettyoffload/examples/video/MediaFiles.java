package dev.nettyoffload.examples.video;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/** The files the HTTP servers serve by path, with a count of body bytes sent (shared by all connections). */
final class MediaFiles {
    /** One file and its length, read once at start-up. */
    static final class Media {
        final Path path;
        final long length;

        Media(Path path) {
            this.path = path;
            try {
                this.length = Files.size(path);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private final Media mp4;
    private final Media ts;
    private final AtomicLong bodyBytes = new AtomicLong();
    private final AtomicLong bodies = new AtomicLong();

    MediaFiles(SampleClip clip) {
        this.mp4 = new Media(clip.mp4);
        this.ts = new Media(clip.ts);
    }

    /** The file for {@link VideoPage#PATH_MP4} or {@link VideoPage#PATH_TS}. */
    Media get(String path) {
        return VideoPage.PATH_TS.equals(path) ? ts : mp4;
    }

    void served(long bytes) {
        bodies.incrementAndGet();
        bodyBytes.addAndGet(bytes);
    }

    long bodyBytes() {
        return bodyBytes.get();
    }

    long bodies() {
        return bodies.get();
    }
}
