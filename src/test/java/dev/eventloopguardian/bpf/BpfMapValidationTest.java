package dev.eventloopguardian.bpf;

import dev.eventloopguardian.btf.Btf;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What {@link BpfMap#create} refuses before asking the kernel, which would only say EINVAL. */
class BpfMapValidationTest {
    private static final int PAGE = 4096;

    private static void validate(MapType type, String name, int keySize, int valueSize, int maxEntries) {
        BpfMap.validate(type, name, keySize, valueSize, maxEntries, PAGE);
    }

    @Test
    void aRingBufferIsAPowerOfTwoMultipleOfThePageSize() {
        assertThatCode(() -> validate(MapType.RINGBUF, "events", 0, 0, PAGE)).doesNotThrowAnyException();
        assertThatCode(() -> validate(MapType.RINGBUF, "events", 0, 0, 1 << 24)).doesNotThrowAnyException();
        assertThatThrownBy(() -> validate(MapType.RINGBUF, "events", 0, 0, 5000))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a ring buffer's size must be a power of two multiple of the page size (4096 bytes),"
                        + " e.g. 8192, not 5000");
        assertThatThrownBy(() -> validate(MapType.RINGBUF, "events", 0, 0, 3 * PAGE))
                .hasMessageEndingWith("e.g. 16384, not 12288");
        assertThatThrownBy(() -> validate(MapType.RINGBUF, "events", 0, 0, 2048))
                .hasMessageEndingWith("e.g. 4096, not 2048"); // a power of two, but less than a page
        assertThatThrownBy(() -> validate(MapType.RINGBUF, "events", 0, 0, 0)).hasMessageEndingWith("not 0");
        assertThatThrownBy(() -> validate(MapType.RINGBUF, "events", 0, 0, -PAGE)).hasMessageEndingWith("not -4096");
    }

    @Test
    void aRingBufferHasNoKeysOrValues() {
        assertThatThrownBy(() -> validate(MapType.RINGBUF, "events", 4, 0, PAGE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("key and value size must be 0, not 4 and 0");
    }

    @Test
    void anArrayIsIndexedByAU32AndEverySizeIsPositive() {
        assertThatCode(() -> validate(MapType.ARRAY, "drops", 4, 8, 1)).doesNotThrowAnyException();
        assertThatCode(() -> validate(MapType.HASH, "threads", 8, 16, 1024)).doesNotThrowAnyException();
        assertThatThrownBy(() -> validate(MapType.ARRAY, "drops", 8, 8, 1)).hasMessageContaining("key size must be 4, not 8");
        assertThatThrownBy(() -> validate(MapType.HASH, "threads", 8, 0, 1)).hasMessageContaining("must be positive");
        assertThatThrownBy(() -> validate(MapType.ARRAY, "drops", 4, 8, 0)).hasMessageContaining("must be positive");
    }

    @Test
    void namesAreWhatTheKernelAcceptsAndFitItsSixteenBytes() {
        assertThatCode(() -> validate(MapType.ARRAY, "elg_drops.v1", 4, 8, 1)).doesNotThrowAnyException();
        assertThatCode(() -> validate(MapType.ARRAY, "", 4, 8, 1)).doesNotThrowAnyException();
        assertThatThrownBy(() -> validate(MapType.ARRAY, "sixteen_chars_xx", 4, 8, 1))
                .hasMessageContaining("at most 15 characters");
        assertThatThrownBy(() -> validate(MapType.ARRAY, "no-dash", 4, 8, 1)).hasMessageContaining("'no-dash'");
    }

    /** The BTF a task storage map is created with: two integer types our own BTF reader reads back. */
    @Test
    void taskStorageBtfDescribesAnIntKeyAndTheValue() throws Exception {
        Btf btf = Btf.parse(BpfMap.integerTypes(8));
        assertThat(btf.typeId("INT", "int")).hasValue(1);
        assertThat(btf.typeId("INT", "value")).hasValue(2);
    }
}
