package dev.nettyoffload.examples.vxlan;

import io.netty.buffer.ByteBuf;
import io.netty.util.collection.LongObjectHashMap;

import java.net.InetSocketAddress;
import java.util.concurrent.atomic.LongAdder;

/**
 * The gateway's forwarding database: MAC address to the side and remote VTEP it was last seen behind. Bounded
 * Bounded; when full, new addresses are not learned and their frames are flooded. Safe for both sides' event
 * loops: lookups, and learning an address already known at the same place (every frame), read an immutable map
 * through a volatile reference, with no lock and no boxing; a new or moved address (rare) copies the map under a
 * lock and publishes the copy.
 */
final class MacTable {
    /** Where frames to a MAC go. */
    static final class Entry {
        final int side;
        final InetSocketAddress vtep;

        Entry(int side, InetSocketAddress vtep) {
            this.side = side;
            this.vtep = vtep;
        }
    }

    /** Never changed once published: replaced whole by {@link #learn}. */
    private volatile LongObjectHashMap<Entry> entries = new LongObjectHashMap<>();
    private final int maxEntries;
    private final LongAdder learned = new LongAdder();
    private final LongAdder moved = new LongAdder();
    private final LongAdder full = new LongAdder();

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
        if (e != null && e.side == side && e.vtep.getAddress().equals(sender.getAddress())) {
            return;
        }
        synchronized (this) {
            LongObjectHashMap<Entry> current = entries;
            e = current.get(mac);
            if (e == null) {
                if (current.size() >= maxEntries) {
                    full.increment();
                    return;
                }
                learned.increment();
            } else if (e.side == side && e.vtep.getAddress().equals(sender.getAddress())) {
                return;
            } else {
                moved.increment();
            }
            LongObjectHashMap<Entry> copy = new LongObjectHashMap<>(current.size() + 1);
            copy.putAll(current);
            copy.put(mac, new Entry(side, new InetSocketAddress(sender.getAddress(), port)));
            entries = copy;
        }
    }

    /** The entry for {@code mac}, or null when unknown. */
    Entry lookup(long mac) {
        return entries.get(mac);
    }

    int size() {
        return entries.size();
    }

    long learned() {
        return learned.sum();
    }

    long moved() {
        return moved.sum();
    }

    long full() {
        return full.sum();
    }
}
