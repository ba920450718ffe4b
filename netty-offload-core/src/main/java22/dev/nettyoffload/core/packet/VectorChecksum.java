package dev.nettyoffload.core.packet;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * The Vector API loop of {@link ChecksumKernel}, loaded only when {@code jdk.incubator.vector} is in the boot
 * layer. Each 64-bit lane of a little-endian load {@code v = H * 2^32 + L} is added whole to wrapping lane
 * accumulators {@code w} and shifted down to its high half {@code H} into accumulators {@code h}; at the end
 * the low halves' sum per lane is {@code w - (h << 32)}, exact because it is below 2^64. Three vector
 * operations per load instead of the four of splitting both halves: 26 against 31 ns for 1448 bytes on the EPYC
 * test machine. Native segments and arrays have their own loops, so no load in the JVM's Vector API code sees
 * both kinds of memory.
 * <p>
 * 256-bit vectors even where 512-bit ones are preferred: AMD Zen 4 runs a 512-bit operation as two 256-bit
 * halves, and the 512-bit loop measured 32 ns, its longer scalar tail included.
 * <p>
 * One vector per loop step, which C2 unrolls, and the last 0-31 bytes straight to the scalar kernel's tail
 * loop. Two vectors per step, then one more vector and a call to the whole scalar kernel for the rest, measured
 * 26-27 ns for 1448 bytes against 22 ns for this form; it was faster only for 100 bytes (7.3 against 8.7 ns)
 * and 9000 bytes (88 against 92 ns). A masked vector load for the tail was no faster for 1448 bytes and needs
 * masked byte loads, which AVX2 lacks.
 */
final class VectorChecksum {
    private static final VectorSpecies<Long> SPECIES = LongVector.SPECIES_PREFERRED.vectorBitSize() >= 256
            ? LongVector.SPECIES_256 : LongVector.SPECIES_PREFERRED;
    private static final int STEP = SPECIES.vectorByteSize();
    /** Byte lanes of the same width, for loads from arrays. */
    private static final VectorSpecies<Byte> BYTES = VectorSpecies.of(byte.class, SPECIES.vectorShape());
    private static final boolean LITTLE = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;

    private VectorChecksum() {
    }

    /** Whether vectors are wide enough to beat the scalar loop (at least 128 bits). */
    static boolean usable() {
        return SPECIES.vectorBitSize() >= 128;
    }

    /**
     * Little-endian sum of a native segment's bytes, unfolded. Each {@code h} lane gains below 2^32 per load,
     * from at most 2^27 loads (a 2 GiB range in vectors of at least 16 bytes); the result adds at most 8 lanes'
     * {@code h} and low sums and the tail: below 2^62.
     */
    static long sumNative(MemorySegment s, long offset, int length) {
        LongVector w = LongVector.zero(SPECIES);
        LongVector h = w;
        long bound = length - length % STEP;
        long i = 0;
        for (; i < bound; i += STEP) {
            LongVector x = LongVector.fromMemorySegment(SPECIES, s, offset + i, ByteOrder.LITTLE_ENDIAN);
            w = w.add(x);
            h = h.add(x.lanewise(VectorOperators.LSHR, 32));
        }
        return total(w, h) + ChecksumKernel.tail(s, offset + i, length - i);
    }

    /**
     * {@link #sumNative} over {@code length} bytes of {@code array} from {@code offset}, loaded from the array
     * (never through a heap segment, see {@code ChecksumKernel.sum}). The bytes of a load are reinterpreted as
     * lanes in native order, so on a big-endian platform the lanes hold big-endian words and their sum is swapped
     * back to little-endian at the end (RFC 1071 section 2(B): the sum is byte-order independent).
     */
    static long sumArray(byte[] array, int offset, int length) {
        LongVector w = LongVector.zero(SPECIES);
        LongVector h = w;
        int bound = length - length % STEP;
        int i = 0;
        for (; i < bound; i += STEP) {
            LongVector x = ByteVector.fromArray(BYTES, array, offset + i).reinterpretAsLongs();
            w = w.add(x);
            h = h.add(x.lanewise(VectorOperators.LSHR, 32));
        }
        long vectors = total(w, h);
        if (!LITTLE) {
            // Lanes were big-endian words: fold, swap the bytes of the 16-bit result to little-endian order.
            vectors = ChecksumKernel.swap16(InternetChecksum.fold(vectors));
        }
        return vectors + ChecksumKernel.sumScalar(MemorySegment.ofArray(array), offset + i, length - i);
    }

    /** The high halves plus the low halves recovered from the wrapped whole-word sums, over all lanes. */
    private static long total(LongVector whole, LongVector high) {
        LongVector low = whole.sub(high.lanewise(VectorOperators.LSHL, 32));
        return high.add(low).reduceLanes(VectorOperators.ADD);
    }
}
