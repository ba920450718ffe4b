package dev.nettyoffload.core;

/**
 * Prints what a JVM finds ({@link Transport#best()} and {@link OffloadCapabilities}), for tests that start it
 * with a chosen classpath.
 */
public final class CapabilitiesMain {
    private CapabilitiesMain() {
    }

    public static void main(String[] args) {
        System.out.println("best transport: " + Transport.best().displayName());
        System.out.print(OffloadCapabilities.get());
    }
}
