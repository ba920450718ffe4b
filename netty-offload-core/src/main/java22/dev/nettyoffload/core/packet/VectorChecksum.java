package dev.nettyoffload.core.packet;

import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * The Vector API loop of {@link ChecksumKernel}, loaded only when {@code jdk.incubator.vector} is in the boot
 * layer. Each 64-bit lane of a little-endian load is split into its two 32-bit halves, which are added to 64-bit
 * lane accumulators (two vectors, to hide the add latency); the lanes are added up at the end.
 */
final class VectorChecksum {
    private static final VectorSpecies<Long> SPECIES = LongVector.SPECIES_PREFERRED;
    private static final int STEP = SPECIES.vectorByteSize();
    private static final long LOW32 = 0xFFFFFFFFL;

    private VectorChecksum() {
    }

    /** Whether vectors are wide enough to beat the scalar loop (at least 128 bits). */
    static boolean usable() {
        return SPECIES.vectorBitSize() >= 128;
    }

    /**
     * Little-endian sum, unfolded. Each lane gains at most 2^33 per load, from at most 2^31 / 16 loads of a
     * 2 GiB range, and there are at most 8 lanes in two accumulators: below 2^62. Native and heap segments have
     * their own copies of the loop, so that each copy's type profile has one segment class.
     */
    static long sum(MemorySegment s, long offset, int length) {
        return s.isNative() ? sumNative(s, offset, length) : sumHeap(s, offset, length);
    }

    private static long sumNative(MemorySegment s, long offset, int length) {
        LongVector a = LongVector.zero(SPECIES);
        LongVector b = LongVector.zero(SPECIES);
        long bound = length - length % (2L * STEP);
        for (long i = 0; i < bound; i += 2L * STEP) {
            LongVector x = LongVector.fromMemorySegment(SPECIES, s, offset + i, ByteOrder.LITTLE_ENDIAN);
            LongVector y = LongVector.fromMemorySegment(SPECIES, s, offset + i + STEP, ByteOrder.LITTLE_ENDIAN);
            a = a.add(x.and(LOW32)).add(x.lanewise(VectorOperators.LSHR, 32));
            b = b.add(y.and(LOW32)).add(y.lanewise(VectorOperators.LSHR, 32));
        }
        return a.add(b).reduceLanes(VectorOperators.ADD) + ChecksumKernel.sumScalar(s, offset + bound, length - bound);
    }

    /** {@link #sumNative}'s twin for heap segments. */
    private static long sumHeap(MemorySegment s, long offset, int length) {
        LongVector a = LongVector.zero(SPECIES);
        LongVector b = LongVector.zero(SPECIES);
        long bound = length - length % (2L * STEP);
        for (long i = 0; i < bound; i += 2L * STEP) {
            LongVector x = LongVector.fromMemorySegment(SPECIES, s, offset + i, ByteOrder.LITTLE_ENDIAN);
            LongVector y = LongVector.fromMemorySegment(SPECIES, s, offset + i + STEP, ByteOrder.LITTLE_ENDIAN);
            a = a.add(x.and(LOW32)).add(x.lanewise(VectorOperators.LSHR, 32));
            b = b.add(y.and(LOW32)).add(y.lanewise(VectorOperators.LSHR, 32));
        }
        return a.add(b).reduceLanes(VectorOperators.ADD) + ChecksumKernel.sumScalar(s, offset + bound, length - bound);
    }
}
