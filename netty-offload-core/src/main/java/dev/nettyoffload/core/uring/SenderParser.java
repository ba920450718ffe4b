package dev.nettyoffload.core.uring;

import io.netty.buffer.ByteBuf;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * Turns the {@code sockaddr_in} or {@code sockaddr_in6} a {@code recvmsg} returned into an
 * {@link InetSocketAddress}, reusing the previous instance while the sender repeats (most datagrams come from the
 * same peer, and an address costs two allocations and a lookup of its family). Not thread-safe.
 */
final class SenderParser {
    private int lastFamily;
    private int lastPort;
    private long lastHigh;
    private long lastLow;
    private int lastScope;
    private InetSocketAddress lastSender;

    /**
     * The sender in the {@code nameLength} bytes at {@code offset} in {@code buf}, or {@code null} when they are
     * neither a {@code sockaddr_in} nor a {@code sockaddr_in6}.
     */
    InetSocketAddress parse(ByteBuf buf, int offset, int nameLength) {
        int family = buf.getShortLE(offset) & 0xFFFF;
        // sin_port and sin6_port are in network byte order.
        int port = buf.getUnsignedShort(offset + 2);
        long high;
        long low;
        int scope;
        if (family == UringConstants.AF_INET && nameLength >= 16) {
            high = 0;
            low = buf.getUnsignedInt(offset + 4);
            scope = 0;
        } else if (family == UringConstants.AF_INET6 && nameLength >= 28) {
            high = buf.getLong(offset + 8);
            low = buf.getLong(offset + 16);
            scope = buf.getIntLE(offset + 24);
        } else {
            return null;
        }
        InetSocketAddress last = lastSender;
        if (last != null && family == lastFamily && port == lastPort && high == lastHigh && low == lastLow
                && scope == lastScope) {
            return last;
        }
        InetSocketAddress sender = new InetSocketAddress(address(buf, offset, family, scope), port);
        lastFamily = family;
        lastPort = port;
        lastHigh = high;
        lastLow = low;
        lastScope = scope;
        lastSender = sender;
        return sender;
    }

    private static InetAddress address(ByteBuf buf, int offset, int family, int scope) {
        byte[] bytes = new byte[family == UringConstants.AF_INET ? 4 : 16];
        buf.getBytes(offset + (family == UringConstants.AF_INET ? 4 : 8), bytes);
        try {
            // getByAddress turns an IPv4-mapped IPv6 address (a dual-stack socket) into an Inet4Address.
            InetAddress a = InetAddress.getByAddress(bytes);
            if (scope != 0 && a instanceof Inet6Address) {
                return Inet6Address.getByAddress(null, bytes, scope);
            }
            return a;
        } catch (UnknownHostException e) {
            throw new IllegalStateException("address of " + bytes.length + " bytes", e); // cannot happen
        }
    }
}
