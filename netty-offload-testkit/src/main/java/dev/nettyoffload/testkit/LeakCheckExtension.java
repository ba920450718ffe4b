package dev.nettyoffload.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.List;

/**
 * Fails a test when Netty's leak detector reported a buffer leak during or before it.
 * <p>
 * Registered for every test through the JUnit service loader (this test-jar's
 * {@code META-INF/services}) with extension auto-detection turned on in the parent pom. Leaks are found when
 * the garbage collector reclaims an unreleased buffer, so the check collects garbage and allocates a few
 * tracked buffers (detection runs on allocation) before asking the detector.
 */
public final class LeakCheckExtension implements AfterEachCallback {
    @Override
    public void afterEach(ExtensionContext context) throws InterruptedException {
        for (int round = 0; round < 2; round++) {
            System.gc();
            Thread.sleep(10);
            for (int i = 0; i < 4; i++) {
                ByteBuf a = UnpooledByteBufAllocator.DEFAULT.buffer(8);
                ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(8);
                a.release();
                b.release();
            }
        }
        List<String> leaks = FailingLeakDetector.drain();
        if (!leaks.isEmpty()) {
            throw new AssertionError("Netty reported " + leaks.size() + " buffer leak(s) by the end of "
                    + context.getDisplayName() + " (possibly from an earlier test in this JVM):\n"
                    + String.join("\n", leaks));
        }
    }
}
