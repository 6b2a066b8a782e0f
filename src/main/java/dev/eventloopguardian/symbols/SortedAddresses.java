package dev.eventloopguardian.symbols;

import java.util.Arrays;

/**
 * Sorting and searching of addresses kept in parallel primitive arrays. Kernel addresses have the
 * top bit set, so every comparison here is unsigned; a table of a few hundred thousand symbols as
 * objects would cost several times the memory and the time of these arrays.
 */
final class SortedAddresses {
    private static final int DIGIT_BITS = 16;
    private static final int DIGIT_MASK = (1 << DIGIT_BITS) - 1;

    private SortedAddresses() {
    }

    /**
     * Sorts {@code keys[0..count)} in unsigned order, moving {@code payload} along. Stable, because
     * among symbols at the same address the first listed is the one the kernel names. A radix
     * sort, 16 bits a pass, passes where all keys share the digit skipped: its loops are simple
     * enough for the JIT to compile at once, where {@code Arrays.sort} of libjvm.so's 70k
     * addresses took 30-45 ms in a cold JVM, this takes about 8. Input that is already sorted,
     * as kallsyms is, costs one pass.
     */
    static void sort(long[] keys, int[] payload, int count) {
        if (isSorted(keys, count)) {
            return;
        }
        long[] fromKeys = keys;
        int[] fromPayload = payload;
        long[] toKeys = new long[count];
        int[] toPayload = new int[count];
        int[] histogram = new int[1 << DIGIT_BITS];
        for (int shift = 0; shift < Long.SIZE; shift += DIGIT_BITS) {
            Arrays.fill(histogram, 0);
            for (int i = 0; i < count; i++) {
                histogram[(int) (fromKeys[i] >>> shift) & DIGIT_MASK]++;
            }
            if (histogram[(int) (fromKeys[0] >>> shift) & DIGIT_MASK] == count) {
                continue;
            }
            for (int digit = 0, sum = 0; digit < histogram.length; digit++) {
                int n = histogram[digit];
                histogram[digit] = sum;
                sum += n;
            }
            for (int i = 0; i < count; i++) {
                int to = histogram[(int) (fromKeys[i] >>> shift) & DIGIT_MASK]++;
                toKeys[to] = fromKeys[i];
                toPayload[to] = fromPayload[i];
            }
            long[] swapKeys = fromKeys;
            fromKeys = toKeys;
            toKeys = swapKeys;
            int[] swapPayload = fromPayload;
            fromPayload = toPayload;
            toPayload = swapPayload;
        }
        if (fromKeys != keys) {
            System.arraycopy(fromKeys, 0, keys, 0, count);
            System.arraycopy(fromPayload, 0, payload, 0, count);
        }
    }

    private static boolean isSorted(long[] keys, int count) {
        for (int i = 1; i < count; i++) {
            if (Long.compareUnsigned(keys[i - 1], keys[i]) > 0) {
                return false;
            }
        }
        return true;
    }

    /** The index of the first of the entries with the greatest key {@code <= address}, or -1. */
    static int floor(long[] keys, int count, long address) {
        int low = 0;
        int high = count - 1;
        int found = -1;
        while (low <= high) {
            int middle = (low + high) >>> 1;
            if (Long.compareUnsigned(keys[middle], address) <= 0) {
                found = middle;
                low = middle + 1;
            } else {
                high = middle - 1;
            }
        }
        while (found > 0 && keys[found - 1] == keys[found]) {
            found--;
        }
        return found;
    }

    static String hex(long value) {
        return "0x" + Long.toHexString(value);
    }
}
