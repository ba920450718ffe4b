package dev.nettyoffload.examples.vxlan;

import io.netty.buffer.ByteBuf;

import java.net.InetSocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The gateway's forwarding database: MAC address to the side and remote VTEP it was last seen behind. Bounded
 * (two sides learning at once may overshoot the bound by one entry each); when full, new addresses are not
 * learned and their frames are flooded. Safe for both sides' event loops: entries are immutable and replaced
 * whole, lookups take no lock.
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

    private final ConcurrentHashMap<Long, Entry> entries = new ConcurrentHashMap<>();
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
        if (e == null) {
            if (entries.size() >= maxEntries) {
                full.increment();
                return;
            }
            learned.increment();
        } else if (e.side == side && e.vtep.getAddress().equals(sender.getAddress())) {
            return;
        } else {
            moved.increment();
        }
        entries.put(mac, new Entry(side, new InetSocketAddress(sender.getAddress(), port)));
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
