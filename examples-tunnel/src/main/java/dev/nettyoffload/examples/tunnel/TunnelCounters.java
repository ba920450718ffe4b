package dev.nettyoffload.examples.tunnel;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Counts of every stage of one tunnel endpoint, written by its event loop in plain fields; read them on that loop
 * ({@link TunnelEndpoint#stats()} does).
 */
public final class TunnelCounters {
    // Send side: TUN -> segment -> encapsulate -> UDP.
    long tunPacketsIn;
    long tunSuperPacketsIn;
    long segmentsCut;
    long unsegmentable;
    long innerPacketsSent;
    long partialChecksumsSent;
    long udpSends;
    long udpBatchSends;
    long sendsDroppedUnwritable;
    long sealFailures;
    // Receive side: UDP -> decapsulate -> GRO -> TUN.
    long udpReads;
    long udpBatchReads;
    long datagramsReceived;
    long innerPacketsReceived;
    long partialChecksumsReceived;
    long innerChecksumsVerified;
    long innerChecksumsCompleted;
    long innerChecksumFailures;
    long garbageTooShort;
    long garbageBadHeader;
    long garbageBadInner;
    long garbageAuthFailed;
    long tunWrites;
    long tunSuperPacketWrites;

    TunnelCounters() {
    }

    /** Datagrams received and dropped as not from a tunnel peer, by any reason. */
    public long garbage() {
        return garbageTooShort + garbageBadHeader + garbageBadInner + garbageAuthFailed;
    }

    /** Every count by name, in stage order. */
    public Map<String, Long> toMap() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("tunPacketsIn", tunPacketsIn);
        m.put("tunSuperPacketsIn", tunSuperPacketsIn);
        m.put("segmentsCut", segmentsCut);
        m.put("unsegmentable", unsegmentable);
        m.put("innerPacketsSent", innerPacketsSent);
        m.put("partialChecksumsSent", partialChecksumsSent);
        m.put("udpSends", udpSends);
        m.put("udpBatchSends", udpBatchSends);
        m.put("sendsDroppedUnwritable", sendsDroppedUnwritable);
        m.put("sealFailures", sealFailures);
        m.put("udpReads", udpReads);
        m.put("udpBatchReads", udpBatchReads);
        m.put("datagramsReceived", datagramsReceived);
        m.put("innerPacketsReceived", innerPacketsReceived);
        m.put("partialChecksumsReceived", partialChecksumsReceived);
        m.put("innerChecksumsVerified", innerChecksumsVerified);
        m.put("innerChecksumsCompleted", innerChecksumsCompleted);
        m.put("innerChecksumFailures", innerChecksumFailures);
        m.put("garbageTooShort", garbageTooShort);
        m.put("garbageBadHeader", garbageBadHeader);
        m.put("garbageBadInner", garbageBadInner);
        m.put("garbageAuthFailed", garbageAuthFailed);
        m.put("tunWrites", tunWrites);
        m.put("tunSuperPacketWrites", tunSuperPacketWrites);
        return m;
    }
}
