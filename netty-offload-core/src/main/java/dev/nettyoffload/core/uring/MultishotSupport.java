package dev.nettyoffload.core.uring;

import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

/**
 * Whether this kernel runs the multishot form of {@link IoUringDatagramReader}: known from the kernel release
 * before the first try, then from the kernel's own answer. A reader whose PROVIDE_BUFFERS or multishot RECVMSG the
 * kernel refuses records it here, so later readers of this JVM start in single-shot mode at once.
 */
final class MultishotSupport {
    /** IORING_RECV_MULTISHOT for RECVMSG arrived in Linux 6.0. */
    static final int MIN_MAJOR = 6;
    static final int MIN_MINOR = 0;

    private static final InternalLogger logger = InternalLoggerFactory.getInstance(IoUringDatagramReader.class);
    private static final String KERNEL_PROBLEM = kernelProblem(System.getProperty("os.version", ""));
    private static volatile String refusal;

    private MultishotSupport() {
    }

    /** Why readers start in single-shot mode, or {@code null} when multishot is expected to work. */
    static String problem() {
        String r = refusal;
        return r != null ? r : KERNEL_PROBLEM;
    }

    /** Records that the kernel refused the multishot form; logged once per JVM. */
    static void refused(String why) {
        if (refusal == null) {
            refusal = "the kernel refused it: " + why;
            logger.info("io_uring multishot RECVMSG unavailable ({}); readers use single-shot RECVMSGs", why);
        }
    }

    /** Why a kernel of release {@code release} ({@code uname -r}) lacks multishot RECVMSG, or {@code null}. */
    static String kernelProblem(String release) {
        String[] parts = release.split("[.-]", 3);
        try {
            int major = Integer.parseInt(parts[0]);
            int minor = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
            if (major < MIN_MAJOR || major == MIN_MAJOR && minor < MIN_MINOR) {
                return "Linux " + release + " has no multishot RECVMSG (needs " + MIN_MAJOR + "." + MIN_MINOR + "+)";
            }
            return null;
        } catch (NumberFormatException e) {
            return null; // unknown release: try, and fall back if refused
        }
    }
}
