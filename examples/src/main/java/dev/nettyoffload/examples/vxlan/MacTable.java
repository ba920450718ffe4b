package dev.nettyoffload.examples.vxlan;

import io.netty.buffer.ByteBuf;
import io.netty.util.collection.LongObjectHashMap;

import java.net.InetSocketAddress;

/**
 * The gateway's forwarding database: MAC address to the side and remote VTEP it was last seen behind. Bounded;
 * when full, new addresses are not learned and their frames are flooded. Used on one event loop only.
 */
final class MacTable {
    /** Where frames to a MAC go. */
    static final class Entry {
        int side;
        InetSocketAddress vtep;
    }

    private final LongObjectHashMap<Entry> entries = new LongObjectHashMap<>();
    private final int maxEntries;
    private long learned;
    private long moved;
    private long full;

    MacTable(int maxEntries) {
        this.maxEntries = maxEntries;
    }

    /** The 48-bit MAC at {@code index} of {@code buf}. */
    static long mac(ByteBuf buf, int index) {
        return (buf.getUnsignedInt(index) << 16) | buf.getUnsignedShort(index + 4);
    }

    /** Whether the I/G bit marks a group (multicast or broadcast) address. */
    static boolean isGroup(long mac) {
        return (mac & (1L << 40)) != 0;
    }

    /**
     * Learns that {@code mac} is behind the VTEP at {@code sender}'s address on {@code side}. The VTEP listens on
     * {@code port}: a Linux VTEP sends from a per-flow hashed source port (RFC 7348 section 5 suggests it for
     * ECMP) and receives on the VXLAN port only.
     */
    void learn(long mac, int side, InetSocketAddress sender, int port) {
        Entry e = entries.get(mac);
        if (e == null) {
            if (entries.size() >= maxEntries) {
                full++;
                return;
            }
            e = new Entry();
            entries.put(mac, e);
            learned++;
        } else if (e.side == side && e.vtep.getAddress().equals(sender.getAddress())) {
            return;
        } else {
            moved++;
        }
        e.side = side;
        e.vtep = new InetSocketAddress(sender.getAddress(), port);
    }

    /** The entry for {@code mac}, or null when unknown. */
    Entry lookup(long mac) {
        return entries.get(mac);
    }

    int size() {
        return entries.size();
    }

    long learned() {
        return learned;
    }

    long moved() {
        return moved;
    }

    long full() {
        return full;
    }
}
