package dev.nettyoffload.core;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The native transport jars are the application's choice (core does not bring them): a JVM without them must
 * fall back to NIO and say why, not fail.
 */
class NoNativeLibraryTest {
    @Test
    void withoutNativeJarsEverythingRunsOnNio() throws Exception {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> kept = new ArrayList<>();
        int removed = 0;
        for (String entry : classpath.split(File.pathSeparator)) {
            String name = Path.of(entry).getFileName().toString();
            if (name.startsWith("netty-transport-native-epoll-") || name.startsWith("netty-transport-native-io_uring-")) {
                removed++;
            } else {
                kept.add(entry);
            }
        }
        assertEquals(2, removed, "the test classpath should hold both native jars: " + classpath);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-cp", String.join(File.pathSeparator, kept),
                CapabilitiesMain.class.getName())
                .redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the probe JVM did not finish");
        String text = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), text);
        assertTrue(text.contains("best transport: nio"), text);
        assertTrue(text.contains("transport epoll     unavailable: UnsatisfiedLinkError"), text);
        assertTrue(text.contains("transport io_uring  unavailable: UnsatisfiedLinkError"), text);
        assertTrue(text.contains("UDP_SEGMENT (USO)  unsupported: no native transport"), text);
        assertTrue(text.contains("transport nio       available"), text);
        assertTrue(!text.contains("Exception in thread"), text);
    }
}
