package dev.nettyoffload.tun;

import java.net.SocketAddress;

/**
 * The address a {@link TunChannel} binds to: the name of a TUN interface, at most {@value #MAX_NAME_LENGTH}
 * characters. Binding creates the interface (or attaches to an existing one owned by this user); a name with
 * {@code %d}, such as {@code "tun%d"}, lets the kernel pick the number, and the channel's
 * {@link TunChannel#localAddress()} then holds the name it picked.
 */
public final class TunAddress extends SocketAddress {
    private static final long serialVersionUID = 1L;

    /** {@code IFNAMSIZ - 1}: the longest Linux interface name. */
    public static final int MAX_NAME_LENGTH = 15;

    private final String name;

    /** An address for the interface {@code name}. */
    public TunAddress(String name) {
        if (name == null || name.isEmpty() || name.length() > MAX_NAME_LENGTH) {
            throw new IllegalArgumentException("name: " + name + " (expected: 1.." + MAX_NAME_LENGTH + " characters)");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c <= ' ' || c >= 0x7F || c == '/' || c == ':') {
                throw new IllegalArgumentException("name: " + name + " (expected: printable ASCII without '/' or ':')");
            }
        }
        this.name = name;
    }

    /** The interface name. */
    public String name() {
        return name;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TunAddress a && a.name.equals(name);
    }

    @Override
    public int hashCode() {
        return name.hashCode();
    }

    @Override
    public String toString() {
        return name;
    }
}
