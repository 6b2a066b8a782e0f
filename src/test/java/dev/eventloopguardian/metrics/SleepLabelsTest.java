package dev.eventloopguardian.metrics;

import dev.eventloopguardian.report.ReportedSleep;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Optional;
import java.util.OptionalLong;

import static org.assertj.core.api.Assertions.assertThat;

/** The labels another exporter puts on a sleep: those of the Prometheus metrics. */
class SleepLabelsTest {
    @Test
    void theHistogramsBoundsAreThePrometheusOnes() {
        assertThat(SleepLabels.BLOCKED_SECONDS_BOUNDS)
                .containsExactlyElementsOf(Arrays.stream(SleepMetrics.BLOCKED_SECONDS_BOUNDS).boxed().toList());
    }

    @Test
    void labelsAsThePrometheusMetricsDo() {
        int gone = 5_000_000; // no process has it: its name comes from the event's main thread, or stays empty
        SleepLabels labels = new SleepLabels();
        assertThat(labels.of(new ReportedSleep(gone, gone + 3, 1, "vert.x-eventloo",
                Optional.of("vert.x-eventloop-thread-3"), "futex", "park", OptionalLong.empty())))
                .isEqualTo(new SleepLabels.Labels("5000000", "", "vert.x-eventloop-thread-N", "futex", "park", ""));
        assertThat(labels.of(new ReportedSleep(gone + 1, gone + 1, 1, "python3", Optional.empty(), "clock_nanosleep",
                "syscall", OptionalLong.of(1))))
                .isEqualTo(new SleepLabels.Labels("5000001", "python3", "python3", "clock_nanosleep", "syscall", ""));
    }
}
