package dev.nettyoffload.benchmarks.harness;

import dev.nettyoffload.core.Transport;

import java.util.Objects;

/** One measured configuration: a network, a path and (for Java paths) a transport. */
final class Config {
    final String network;
    /** {@code null} for the C reference. */
    final Transport transport;
    final BenchPath path;

    Config(String network, Transport transport, BenchPath path) {
        this.network = network;
        this.transport = transport;
        this.path = path;
    }

    String transportName() {
        return transport == null ? "c" : transport.displayName();
    }

    String describe() {
        return network + " " + transportName() + " path " + path.label + " (" + path.description + ")";
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Config)) {
            return false;
        }
        Config c = (Config) o;
        return network.equals(c.network) && transport == c.transport && path == c.path;
    }

    @Override
    public int hashCode() {
        return Objects.hash(network, transport, path);
    }
}
