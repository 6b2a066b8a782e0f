package dev.eventloopguardian.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** --min-duration as people write it, and everything else refused with the form and the range. */
class DurationConverterTest {
    private final DurationConverter converter = new DurationConverter();

    @Test
    void durationsReadAsPeopleWriteThem() {
        assertThat(converter.convert("250us")).isEqualTo(Duration.ofNanos(250_000));
        assertThat(converter.convert("250µs")).isEqualTo(Duration.ofNanos(250_000));
        assertThat(converter.convert("10ms")).isEqualTo(Duration.ofMillis(10));
        assertThat(converter.convert("1.5s")).isEqualTo(Duration.ofMillis(1500));
        assertThat(converter.convert(".5s")).isEqualTo(Duration.ofMillis(500));
        assertThat(converter.convert("2m")).isEqualTo(Duration.ofMinutes(2));
        assertThat(converter.convert("0ms")).isEqualTo(Duration.ZERO);
        assertThat(converter.convert("1.5h")).isEqualTo(Duration.ofMinutes(90));
    }

    @Test
    void aDayIsTheLongestInAnyUnitAndNoMore() {
        assertThat(converter.convert("24h")).isEqualTo(Duration.ofHours(24));
        assertThat(converter.convert("86400s")).isEqualTo(Duration.ofHours(24));
        assertThat(converter.convert("1440m")).isEqualTo(Duration.ofHours(24));
        assertThatThrownBy(() -> converter.convert("86400000000001ns")).hasMessageContaining("more than a day").hasMessageContaining("24h");
        assertThatThrownBy(() -> converter.convert("24.000001h")).hasMessageContaining("more than a day");
    }

    /** Past ~9.2e9 s the nanoseconds overflowed a long, and the filter turned around. */
    @ParameterizedTest
    @ValueSource(strings = {"999999999999999999999s", "9223372037s", "99999999999999999999999999999999999999h"})
    void whatWouldOverflowIsRefused(String text) {
        assertThatThrownBy(() -> converter.convert(text)).hasMessageContaining(text).hasMessageContaining("from 0 to 24h");
    }

    @ParameterizedTest
    @ValueSource(strings = {"-5ms", "NaN", "nans", "Infinity", "infinitys", "1e3s", "1E3ms", "0x10s", ".", ".s", "5.s",
            "1.2.3s", "10", "ms", "", "1 0ms", "+5s"})
    void garbageIsRefusedWithTheAcceptedForm(String text) {
        assertThatThrownBy(() -> converter.convert(text))
                .hasMessageContaining("'" + text + "'")
                .hasMessageContaining("a number and a unit")
                .hasMessageContaining("from 0 to 24h")
                .hasMessageNotContaining("\n");
    }

    @Test
    void anUnknownUnitIsNamed() {
        assertThatThrownBy(() -> converter.convert("10d")).hasMessageContaining("unknown unit 'd'").hasMessageContaining("h)");
    }
}
