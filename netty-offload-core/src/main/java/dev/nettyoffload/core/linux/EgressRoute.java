package dev.nettyoffload.core.linux;

import dev.nettyoffload.core.linux.OffloadToolException.Reason;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The route the kernel picks for packets to one destination: output device, source address, gateway and MTU.
 * <p>
 * {@link #lookup(InetAddress)} runs {@code ip -j route get ADDRESS} (Debian package {@code iproute2}), which asks
 * the kernel the same RTM_GETROUTE question a socket's first send asks, so policy routing, VRFs and cached path
 * MTU exceptions are all taken into account. The MTU is the route's (a {@code mtu} metric or a learned path
 * MTU) when it has one, else the output device's ({@code /sys/class/net/DEV/mtu}). The call blocks for a few
 * milliseconds: make it outside the event loop.
 */
public final class EgressRoute {
    private final InetAddress destination;
    private final String device;
    private final InetAddress source;
    private final InetAddress gateway;
    private final String type;
    private final int routeMtu;
    private final int deviceMtu;

    /**
     * @param routeMtu  the route's MTU metric or cached path MTU, or {@link DeviceLimits#UNKNOWN}
     * @param deviceMtu the output device's MTU, or {@link DeviceLimits#UNKNOWN}
     */
    public EgressRoute(InetAddress destination, String device, InetAddress source, InetAddress gateway, String type,
                       int routeMtu, int deviceMtu) {
        this.destination = Objects.requireNonNull(destination, "destination");
        this.device = Objects.requireNonNull(device, "device");
        this.source = source;
        this.gateway = gateway;
        this.type = type == null ? "unicast" : type;
        this.routeMtu = routeMtu;
        this.deviceMtu = deviceMtu;
    }

    /**
     * Looks up the route to {@code destination} in this process's network namespace.
     *
     * @throws OffloadToolException NO_ROUTE when the destination is unreachable, TOOL_MISSING when {@code ip}
     *                              is not installed, TOOL_FAILED otherwise
     */
    public static EgressRoute lookup(InetAddress destination) {
        return lookup(destination, new ExternalCommand(List.of("ip"), "iproute2"));
    }

    static EgressRoute lookup(InetAddress destination, ExternalCommand ip) {
        Objects.requireNonNull(destination, "destination");
        String address = destination.getHostAddress();
        int scope = address.indexOf('%');
        if (scope >= 0) {
            // A scoped link-local address: ip wants the interface as "oif", not as a suffix.
            String dev = address.substring(scope + 1);
            address = address.substring(0, scope);
            ExternalCommand.Result r = ip.run("-j", "route", "get", address, "oif", dev);
            return finish(destination, r);
        }
        return finish(destination, ip.run("-j", destination instanceof Inet6Address ? "-6" : "-4",
                "route", "get", address));
    }

    private static EgressRoute finish(InetAddress destination, ExternalCommand.Result r) {
        if (r.exitCode != 0) {
            throw failure(destination, r);
        }
        EgressRoute parsed = parse(destination, r.stdout);
        DeviceLimits limits = null;
        try {
            limits = DeviceLimits.read(parsed.device);
        } catch (OffloadToolException e) {
            // The device vanished between the two questions; keep the route, the MTU stays unknown.
        }
        return new EgressRoute(destination, parsed.device, parsed.source, parsed.gateway, parsed.type,
                parsed.routeMtu, limits == null ? DeviceLimits.UNKNOWN : limits.mtu());
    }

    static OffloadToolException failure(InetAddress destination, ExternalCommand.Result r) {
        String err = r.stderr;
        if (err.contains("unreachable") || err.contains("No route to host") || err.contains("prohibit")) {
            return new OffloadToolException(Reason.NO_ROUTE, "no route to " + destination.getHostAddress() + ": "
                    + r.diagnostic());
        }
        return new OffloadToolException(Reason.TOOL_FAILED, "'ip route get " + destination.getHostAddress()
                + "' failed: " + r.diagnostic());
    }

    /**
     * Parses the output of {@code ip -j route get ADDRESS}; the device MTU is left unknown.
     *
     * @throws OffloadToolException (TOOL_FAILED) when the text is not the expected JSON
     */
    public static EgressRoute parse(InetAddress destination, String ipRouteJson) {
        try {
            Object doc = Json.parse(ipRouteJson);
            if (!(doc instanceof List) || ((List<?>) doc).isEmpty() || !(((List<?>) doc).get(0) instanceof Map)) {
                throw new IllegalArgumentException("expected a non-empty array of objects");
            }
            Map<?, ?> route = (Map<?, ?>) ((List<?>) doc).get(0);
            Object dev = route.get("dev");
            if (!(dev instanceof String)) {
                throw new IllegalArgumentException("the route names no output device");
            }
            int mtu = DeviceLimits.UNKNOWN;
            Object metrics = route.get("metrics");
            if (metrics instanceof List) {
                for (Object m : (List<?>) metrics) {
                    if (m instanceof Map && ((Map<?, ?>) m).get("mtu") instanceof Long) {
                        mtu = (int) (long) (Long) ((Map<?, ?>) m).get("mtu");
                    }
                }
            }
            Object type = route.get("type");
            return new EgressRoute(destination, (String) dev, address(route.get("prefsrc")),
                    address(route.get("gateway")), type instanceof String ? (String) type : "unicast", mtu,
                    DeviceLimits.UNKNOWN);
        } catch (IllegalArgumentException e) {
            throw new OffloadToolException(Reason.TOOL_FAILED, "cannot read the output of 'ip -j route get "
                    + destination.getHostAddress() + "': " + e.getMessage(), e);
        }
    }

    private static InetAddress address(Object literal) {
        if (!(literal instanceof String)) {
            return null;
        }
        String s = (String) literal;
        // Only numeric literals reach InetAddress.getByName, so it never resolves a name.
        if (!s.matches("[0-9a-fA-F:.]+")) {
            throw new IllegalArgumentException("not an IP address: " + s);
        }
        try {
            return InetAddress.getByName(s);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP address: " + s, e);
        }
    }

    public InetAddress destination() {
        return destination;
    }

    /** The output device, e.g. {@code eth0}; {@code lo} for local addresses. */
    public String device() {
        return device;
    }

    /** The source address the kernel would pick, or {@code null} if the route does not say. */
    public InetAddress source() {
        return source;
    }

    /** The next hop, or {@code null} when the destination is on the link. */
    public InetAddress gateway() {
        return gateway;
    }

    /** The route type: {@code unicast}, {@code local}, ... */
    public String type() {
        return type;
    }

    /** Whether the destination is an address of this host (the packets go through loopback). */
    public boolean isLocal() {
        return "local".equals(type);
    }

    /** The route's MTU metric or learned path MTU, or {@link DeviceLimits#UNKNOWN} when it has none. */
    public int routeMtu() {
        return routeMtu;
    }

    /** The output device's MTU, or {@link DeviceLimits#UNKNOWN}. */
    public int deviceMtu() {
        return deviceMtu;
    }

    /** The MTU that applies to this destination: the route's if it has one, else the device's. */
    public int mtu() {
        return routeMtu != DeviceLimits.UNKNOWN ? routeMtu : deviceMtu;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(128).append(destination.getHostAddress());
        if (isLocal()) {
            sb.append(" (local)");
        }
        if (gateway != null) {
            sb.append(" via ").append(gateway.getHostAddress());
        }
        sb.append(" dev ").append(device);
        if (source != null) {
            sb.append(" src ").append(source.getHostAddress());
        }
        sb.append(" mtu ").append(mtu() == DeviceLimits.UNKNOWN ? "unknown" : Integer.toString(mtu()));
        if (routeMtu != DeviceLimits.UNKNOWN) {
            sb.append(" (route; device ").append(deviceMtu == DeviceLimits.UNKNOWN ? "unknown" : deviceMtu)
                    .append(')');
        }
        return sb.toString();
    }
}
