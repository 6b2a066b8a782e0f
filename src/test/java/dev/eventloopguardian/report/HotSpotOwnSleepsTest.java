package dev.eventloopguardian.report;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class HotSpotOwnSleepsTest {
    @Test
    void hotSpotsBackOffWhileDefiningAClassIsItsOwn() {
        // As a report named it on a Vert.x loop under load (CommandLineOnAJvmIT).
        assertThat(HotSpotOwnSleeps.isHotSpotsOwn(List.of("clock_nanosleep+0x65 (libc.so.6)",
                "_ZN9SpinYield14yield_or_sleepEv+0x47 (libjvm.so)", "_ZN13GlobalCounter17write_synchronizeEv+0x1a8 (libjvm.so)")))
                .isTrue();
    }

    @Test
    void anApplicationsSleepIsNot() {
        assertThat(HotSpotOwnSleeps.isHotSpotsOwn(List.of("clock_nanosleep+0x65 (libc.so.6)", "0x7f9e8f940580 (jit)"))).isFalse();
        assertThat(HotSpotOwnSleeps.isHotSpotsOwn(List.of("clock_nanosleep+0x23 (libc.so.6)", "usleep+0x4a (libc.so.6)",
                "_ZN9SpinYield14yield_or_sleepEv+0x47 (libjvm.so)"))).as("deeper than the wrapper's caller").isFalse();
        assertThat(HotSpotOwnSleeps.isHotSpotsOwn(List.of("clock_nanosleep+0x65 (libc.so.6)",
                "_ZN9SpinYield14yield_or_sleepEv+0x47 (libother.so)"))).as("not HotSpot's").isFalse();
        assertThat(HotSpotOwnSleeps.isHotSpotsOwn(List.of())).isFalse();
    }
}
