package dev.nettyoffload.examples.vxlan;

import java.util.EnumMap;
import java.util.Map;

/**
 * A snapshot of the gateway's counters, both sides summed: inner frames in and out, coalescing (merge ratio),
 * segments the egress cut, outer datagrams against the writes that carried them, drops by reason.
 */
public final class VxlanGatewayCounters {
    final long framesIn;
    final long groPacketsIn;
    final long mergedPacketsOut;
    final long packetsMerged;
    final long checksumFailures;
    final long egressPacketsIn;
    final long resegmented;
    final long segmentsOut;
    final long framesOut;
    final long outerDatagrams;
    final long outerWrites;
    final long kernelSends;
    final long kernelSegments;
    final long singleDatagrams;
    final long softwareDatagrams;
    final int macs;
    final EnumMap<VxlanDropReason, Long> drops;

    VxlanGatewayCounters(long framesIn, long groPacketsIn, long mergedPacketsOut, long packetsMerged,
                         long checksumFailures, long egressPacketsIn, long resegmented, long segmentsOut,
                         long framesOut, long outerDatagrams, long outerWrites, long kernelSends,
                         long kernelSegments, long singleDatagrams, long softwareDatagrams, int macs,
                         EnumMap<VxlanDropReason, Long> drops) {
        this.framesIn = framesIn;
        this.groPacketsIn = groPacketsIn;
        this.mergedPacketsOut = mergedPacketsOut;
        this.packetsMerged = packetsMerged;
        this.checksumFailures = checksumFailures;
        this.egressPacketsIn = egressPacketsIn;
        this.resegmented = resegmented;
        this.segmentsOut = segmentsOut;
        this.framesOut = framesOut;
        this.outerDatagrams = outerDatagrams;
        this.outerWrites = outerWrites;
        this.kernelSends = kernelSends;
        this.kernelSegments = kernelSegments;
        this.singleDatagrams = singleDatagrams;
        this.softwareDatagrams = softwareDatagrams;
        this.macs = macs;
        this.drops = drops;
    }

    /** Inner frames decoded from both sides. */
    public long framesIn() {
        return framesIn;
    }

    /** Inner frames sent to both sides. */
    public long framesOut() {
        return framesOut;
    }

    /** Merged packets the ingress {@code PacketGroAggregator}s emitted. */
    public long mergedPacketsOut() {
        return mergedPacketsOut;
    }

    /** Frames that went into merged packets. */
    public long packetsMerged() {
        return packetsMerged;
    }

    /** Frames per merged packet (0 when nothing merged). */
    public double mergeRatio() {
        return mergedPacketsOut == 0 ? 0 : (double) packetsMerged / mergedPacketsOut;
    }

    /** Merged runs whose MSS the egress lowered to its MTU, plus oversize single segments it cut. */
    public long resegmented() {
        return resegmented;
    }

    /** Frames the egress segmenter cut from merged packets. */
    public long segmentsOut() {
        return segmentsOut;
    }

    /** Outer VXLAN datagrams sent. */
    public long outerDatagrams() {
        return outerDatagrams;
    }

    /** Writes that carried them: one per {@code SegmentedDatagramPacket} (one USO send) or plain datagram. */
    public long outerWrites() {
        return outerWrites;
    }

    /** Outer datagrams per write. */
    public double datagramsPerWrite() {
        return outerWrites == 0 ? 0 : (double) outerDatagrams / outerWrites;
    }

    /** Segmented sends the kernel performed (UDP_SEGMENT), from the channels' {@code GsoEncoder}s. */
    public long kernelSends() {
        return kernelSends;
    }

    public long checksumFailures() {
        return checksumFailures;
    }

    /** Drops for {@code reason}, both sides. */
    public long drops(VxlanDropReason reason) {
        return drops.getOrDefault(reason, 0L);
    }

    public long totalDrops() {
        long sum = 0;
        for (long v : drops.values()) {
            sum += v;
        }
        return sum;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        sb.append("frames in ").append(framesIn).append(", out ").append(framesOut)
                .append("; GRO packets in ").append(groPacketsIn).append(", merged packets ").append(mergedPacketsOut)
                .append(" of ").append(packetsMerged).append(" frames (ratio ")
                .append(String.format("%.1f", mergeRatio())).append("), checksum failures ").append(checksumFailures)
                .append("; egress packets ").append(egressPacketsIn).append(", resegmented ").append(resegmented)
                .append(", segments out ").append(segmentsOut)
                .append("; outer datagrams ").append(outerDatagrams).append(" in ").append(outerWrites)
                .append(" writes (").append(String.format("%.1f", datagramsPerWrite())).append(" per write), kernel ")
                .append(kernelSends).append(" USO sends of ").append(kernelSegments).append(" datagrams + ")
                .append(singleDatagrams).append(" single, software ")
                .append(softwareDatagrams).append("; MACs ").append(macs).append("; drops");
        boolean any = false;
        for (Map.Entry<VxlanDropReason, Long> e : drops.entrySet()) {
            if (e.getValue() > 0) {
                sb.append(' ').append(e.getKey()).append('=').append(e.getValue());
                any = true;
            }
        }
        if (!any) {
            sb.append(" none");
        }
        return sb.toString();
    }
}
