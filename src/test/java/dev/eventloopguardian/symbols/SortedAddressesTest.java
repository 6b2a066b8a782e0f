package dev.eventloopguardian.symbols;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class SortedAddressesTest {
    @Test
    void sortsUnsignedAndStably() {
        Random random = new Random(42);
        int count = 50_000;
        long[] keys = new long[count];
        int[] payload = new int[count];
        for (int i = 0; i < count; i++) {
            // Kernel-like (top bit set) and user-like addresses, with many repeats.
            keys[i] = (random.nextBoolean() ? 0xffffffff81000000L : 0x400000L) + random.nextInt(5_000) * 16L;
            payload[i] = i;
        }
        long[] expected = keys.clone();
        for (int i = 0; i < count; i++) {
            expected[i] ^= Long.MIN_VALUE;
        }
        Arrays.sort(expected);
        for (int i = 0; i < count; i++) {
            expected[i] ^= Long.MIN_VALUE;
        }
        long[] original = keys.clone();

        SortedAddresses.sort(keys, payload, count);

        assertThat(keys).containsExactly(expected);
        for (int i = 0; i < count; i++) {
            assertThat(original[payload[i]]).isEqualTo(keys[i]);
            if (i > 0 && keys[i] == keys[i - 1]) {
                assertThat(payload[i]).isGreaterThan(payload[i - 1]);
            }
        }
    }

    @Test
    void floorFindsTheFirstOfEqualKeysAtOrBelow() {
        long[] keys = {0x10, 0x20, 0x20, 0x30, 0xffffffff81000000L};
        assertThat(SortedAddresses.floor(keys, keys.length, 0x0f)).isEqualTo(-1);
        assertThat(SortedAddresses.floor(keys, keys.length, 0x10)).isZero();
        assertThat(SortedAddresses.floor(keys, keys.length, 0x2f)).isEqualTo(1);
        assertThat(SortedAddresses.floor(keys, keys.length, 0x7fffffffffffffffL)).isEqualTo(3);
        assertThat(SortedAddresses.floor(keys, keys.length, 0xffffffff81000010L)).isEqualTo(4);
    }
}
