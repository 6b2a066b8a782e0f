package dev.eventloopguardian.report;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TextReportTest {
    @Test
    void lengthsReadAsPeopleWriteThemToThreeDigits() {
        assertThat(TextReport.readable(850)).isEqualTo("850 ns");
        assertThat(TextReport.readable(1_000)).isEqualTo("1.00 us");
        assertThat(TextReport.readable(12_345)).isEqualTo("12.3 us");
        assertThat(TextReport.readable(100_049_198)).isEqualTo("100 ms");
        assertThat(TextReport.readable(10_051_000)).isEqualTo("10.1 ms");
        assertThat(TextReport.readable(2_000_045_979L)).isEqualTo("2.00 s");
        assertThat(TextReport.readable(3_600_000_000_000L)).isEqualTo("3600 s");
    }
}
