package dev.nettyoffload.gro;

import dev.nettyoffload.core.packet.Ipv4Header;
import dev.nettyoffload.core.packet.Ipv6Header;
import dev.nettyoffload.core.packet.TunnelType;
import dev.nettyoffload.core.packet.UdpHeader;

import java.util.Arrays;

/**
 * The flows held by a {@link PacketCoalescer}, in arrival order (oldest first), bounded in number. Every slot is
 * allocated with the table and reused; finding a flow scans a small array of precomputed hashes, like the
 * kernel's bounded GRO lists, and compares the candidate's copy of its first packet's headers with the
 * {@link PacketKey}'s: nothing is allocated per packet. Holds no accounting of bytes; that is the coalescer's.
 * <p>
 * A flow is the link header (Ethernet), the addresses, protocol and ports, the IPv6 flow label and extension
 * headers, and for a tunnel the outer addresses, the outer UDP ports, VXLAN header and inner Ethernet header as
 * well: the kernel's {@code same_flow}. Everything else is a merge condition ({@link PacketRules}).
 */
final class PacketFlowTable {
    /** The IPv6 first word without traffic class: version and flow label identify the flow. */
    private static final int IPV6_FLOW_MASK = 0xF00FFFFF;

    private final PacketFlow[] active;
    private final int[] activeHashes;
    /**
     * The flow last found (or started) for each hash bucket, a hint checked before scanning {@link #activeHashes}:
     * the scan visits half the held flows on average. A hint may be stale (its flow since removed, or its slot
     * reused for another flow); {@link #find} verifies it like any candidate.
     */
    private final PacketFlow[] hints;
    private final int hintMask;
    private final PacketFlow[] free;
    private int activeCount;
    private int freeCount;

    PacketFlowTable(int maxFlows, int maxSegmentsPerPacket) {
        active = new PacketFlow[maxFlows];
        activeHashes = new int[maxFlows];
        free = new PacketFlow[maxFlows];
        for (int i = 0; i < maxFlows; i++) {
            free[i] = new PacketFlow(maxSegmentsPerPacket);
        }
        freeCount = maxFlows;
        // At least four buckets per flow (a power of two) keep collisions between held flows rare.
        int buckets = Integer.highestOneBit(Math.max(maxFlows, 4) * 4 - 1) << 1;
        hints = new PacketFlow[buckets];
        hintMask = buckets - 1;
    }

    /** Flows held right now. */
    int size() {
        return activeCount;
    }

    boolean isFull() {
        return activeCount == active.length;
    }

    /** The flow held longest; the table must not be empty. */
    PacketFlow oldest() {
        return active[0];
    }

    /** The held flow packet {@code k} belongs to, or {@code null}. */
    PacketFlow find(PacketKey k) {
        final int hash = k.hash;
        final int bucket = hash & hintMask;
        PacketFlow f = hints[bucket];
        // A held flow has at least one packet: a removed one has none.
        if (f != null && f.count > 0 && f.hash == hash && sameFlow(f, k)) {
            return f;
        }
        final int[] hashes = activeHashes;
        for (int i = 0, n = activeCount; i < n; i++) {
            if (hashes[i] == hash && sameFlow(active[i], k)) {
                f = active[i];
                hints[bucket] = f;
                return f;
            }
        }
        return null;
    }

    /**
     * Starts a new flow for {@code k} in a free slot, newest in arrival order; the table must not be
     * {@linkplain #isFull() full}.
     */
    PacketFlow insert(PacketKey k, int maxIpLength) {
        PacketFlow f = free[--freeCount];
        free[freeCount] = null;
        f.start(k, maxIpLength);
        active[activeCount] = f;
        activeHashes[activeCount] = k.hash;
        activeCount++;
        hints[k.hash & hintMask] = f;
        return f;
    }

    /** Forgets flow {@code f} (not its packets' references, which the caller has taken) and frees its slot. */
    void remove(PacketFlow f) {
        f.clear();
        int i = 0;
        while (active[i] != f) {
            i++;
        }
        int n = activeCount - i - 1;
        System.arraycopy(active, i + 1, active, i, n);
        System.arraycopy(activeHashes, i + 1, activeHashes, i, n);
        active[--activeCount] = null;
        free[freeCount++] = f;
    }

    /** Whether the packet belongs to the flow: the kernel's same_flow, everything else is a merge condition. */
    private static boolean sameFlow(PacketFlow f, PacketKey k) {
        if (f.tcp != k.tcp || f.tunnel != k.tunnel || f.l3 != k.l3 || f.l4 != k.l4
                || f.l3Version != k.l3Version || f.outerL3 != k.outerL3 || f.tunnelL4 != k.tunnelL4
                || f.innerL2 != k.innerL2 || f.outerVersion != k.outerL3Version) {
            return false;
        }
        final byte[] p = k.headers;
        final byte[] head = f.headers;
        if (f.firstL3 > 0 && !Arrays.equals(head, 0, f.firstL3, p, 0, f.firstL3)) {
            return false; // dev_gro_receive compares the link-layer header
        }
        if (f.tunnel != TunnelType.NONE) {
            if (!sameIpFlow(head, p, f.outerL3, f.outerVersion, f.outerHeaderLength)) {
                return false;
            }
            if (f.tunnel == TunnelType.VXLAN) {
                int t = f.tunnelL4;
                // udp_gro_receive: ports; vxlan_gro_receive: flags and VNI; eth_gro_receive: the inner MAC header.
                if (HeaderBytes.getInt(head, t) != HeaderBytes.getInt(p, t)
                        || HeaderBytes.getLong(head, t + UdpHeader.LENGTH)
                        != HeaderBytes.getLong(p, t + UdpHeader.LENGTH)
                        || !Arrays.equals(head, f.innerL2, f.l3, p, f.innerL2, f.l3)) {
                    return false;
                }
            }
        }
        if (f.ports != k.ports) {
            return false;
        }
        // IPv4: addresses read once for the hash; the protocol is TCP or UDP as f.tcp says (no options held).
        return f.l3Version == 4 ? f.address == k.address : sameIpFlow(head, p, f.l3, f.l3Version, f.l4 - f.l3);
    }

    /** The IP headers at {@code ip} of both copies belong to one flow; {@code headerLength} with extensions. */
    private static boolean sameIpFlow(byte[] a, byte[] c, int ip, int version, int headerLength) {
        if (version == 4) {
            return a[ip + Ipv4Header.PROTOCOL_OFFSET] == c[ip + Ipv4Header.PROTOCOL_OFFSET]
                    && HeaderBytes.getLong(a, ip + Ipv4Header.SOURCE_OFFSET)
                    == HeaderBytes.getLong(c, ip + Ipv4Header.SOURCE_OFFSET);
        }
        // ipv6_gro_receive: version, flow label, next header, addresses and all extension headers byte for byte.
        final int from = ip + Ipv6Header.SOURCE_OFFSET;
        final int to = ip + headerLength;
        return ((HeaderBytes.getInt(a, ip) ^ HeaderBytes.getInt(c, ip)) & IPV6_FLOW_MASK) == 0
                && a[ip + Ipv6Header.NEXT_HEADER_OFFSET] == c[ip + Ipv6Header.NEXT_HEADER_OFFSET]
                && Arrays.equals(a, from, to, c, from, to);
    }
}
