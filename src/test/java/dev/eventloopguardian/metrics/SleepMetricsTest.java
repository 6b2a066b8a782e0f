package dev.eventloopguardian.metrics;

import dev.eventloopguardian.report.ReportedSleep;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.OptionalLong;

import static org.assertj.core.api.Assertions.assertThat;

/** The sleep metrics as a scraper reads them: the client's own text exposition. */
class SleepMetricsTest {
    /** No process has this pid (pid_max is at most 2^22), so its name comes from the event. */
    private static final int GONE = 5_000_000;
    private final PrometheusRegistry registry = new PrometheusRegistry();

    private static ReportedSleep sleep(int pid, int tid, String thread, String syscall, OptionalLong nanos) {
        return new ReportedSleep(pid, tid, 1, thread, Optional.empty(), syscall, "syscall", nanos);
    }

    private String scrape() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, registry.scrape(), EscapingScheme.ALLOW_UTF8);
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void countsBySeriesAndObservesHowLongTheyBlocked() throws IOException {
        SleepMetrics metrics = new SleepMetrics(registry);
        metrics.reported(sleep(GONE, GONE, "python3", "clock_nanosleep", OptionalLong.of(50_000_000)));
        metrics.reported(sleep(GONE, GONE, "python3", "clock_nanosleep", OptionalLong.of(3_000_000)));
        // a thread still asleep when reported: counted now, its length observed when it wakes; its
        // process, gone and never seen through its main thread, has no name
        ReportedSleep asleep = sleep(GONE + 10, GONE + 11, "asyncio_1", "read", OptionalLong.empty());
        metrics.reported(asleep);
        metrics.woke(asleep, 2_000_000_000L);

        String text = scrape();
        assertThat(text)
                .contains("eventloop_guardian_blocking_sleeps_total{container=\"\",kind=\"syscall\",pid=\"" + GONE
                        + "\",process=\"python3\",syscall=\"clock_nanosleep\",thread_pool=\"python3\"} 2.0")
                .contains("eventloop_guardian_blocking_sleeps_total{container=\"\",kind=\"syscall\",pid=\"" + (GONE + 10)
                        + "\",process=\"\",syscall=\"read\",thread_pool=\"asyncio_N\"} 1.0")
                .contains("eventloop_guardian_blocked_seconds_bucket{process=\"python3\",syscall=\"clock_nanosleep\","
                        + "thread_pool=\"python3\",le=\"0.005\"} 1")
                .contains("eventloop_guardian_blocked_seconds_bucket{process=\"python3\",syscall=\"clock_nanosleep\","
                        + "thread_pool=\"python3\",le=\"0.05\"} 2")
                .contains("eventloop_guardian_blocked_seconds_count{process=\"python3\",syscall=\"clock_nanosleep\","
                        + "thread_pool=\"python3\"} 2")
                .contains("eventloop_guardian_blocked_seconds_bucket{process=\"\",syscall=\"read\",thread_pool=\"asyncio_N\","
                        + "le=\"2.5\"} 1")
                .contains("# TYPE eventloop_guardian_blocked_seconds histogram")
                .doesNotContain("eventloop_guardian_series_folded_total{");
    }

    @Test
    void aLiveProcessIsNamedByItsMainThreadAndAJavaThreadByItsFullName() throws IOException {
        int pid = (int) ProcessHandle.current().pid();
        new SleepMetrics(registry).reported(new ReportedSleep(pid, pid + 1, 1, "vert.x-eventloo",
                Optional.of("vert.x-eventloop-thread-3"), "futex", "sleep", OptionalLong.empty()));
        String name = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/self/comm")).strip();
        assertThat(scrape()).contains("kind=\"sleep\",pid=\"" + pid + "\",process=\"" + name
                + "\",syscall=\"futex\",thread_pool=\"vert.x-eventloop-thread-N\"} 1.0");
    }

    @Test
    void pastTheCapNewSeriesFoldIntoOtherAndAreCounted() throws IOException {
        SleepMetrics metrics = new SleepMetrics(registry, 2, 1);
        for (int pid = GONE; pid < GONE + 5; pid++) {
            metrics.reported(sleep(pid, pid, "server", "poll", OptionalLong.of(1_000_000)));
        }
        metrics.reported(sleep(GONE, GONE, "server", "poll", OptionalLong.empty())); // an admitted series goes on counting

        String text = scrape();
        assertThat(text.lines().filter(line -> line.startsWith("eventloop_guardian_blocking_sleeps_total{")))
                .containsExactlyInAnyOrder(
                        "eventloop_guardian_blocking_sleeps_total{container=\"\",kind=\"syscall\",pid=\"" + GONE
                                + "\",process=\"server\",syscall=\"poll\",thread_pool=\"server\"} 2.0",
                        "eventloop_guardian_blocking_sleeps_total{container=\"\",kind=\"syscall\",pid=\"" + (GONE + 1)
                                + "\",process=\"server\",syscall=\"poll\",thread_pool=\"server\"} 1.0",
                        "eventloop_guardian_blocking_sleeps_total{container=\"other\",kind=\"other\",pid=\"other\","
                                + "process=\"other\",syscall=\"other\",thread_pool=\"other\"} 3.0");
        // The histogram has no pid: one series for all five, within its cap of one.
        assertThat(text).contains("eventloop_guardian_blocked_seconds_count{process=\"server\",syscall=\"poll\","
                        + "thread_pool=\"server\"} 5")
                .contains("eventloop_guardian_series_folded_total{metric=\"eventloop_guardian_blocking_sleeps_total\"} 3.0")
                .doesNotContain("metric=\"eventloop_guardian_blocked_seconds\"");
    }

    @Test
    void theHistogramHasItsOwnCap() throws IOException {
        SleepMetrics metrics = new SleepMetrics(registry, 10, 1);
        metrics.reported(sleep(GONE, GONE, "a", "poll", OptionalLong.of(1_000_000)));
        metrics.reported(sleep(GONE, GONE, "a", "read", OptionalLong.of(1_000_000)));
        assertThat(scrape())
                .contains("eventloop_guardian_blocked_seconds_count{process=\"a\",syscall=\"poll\",thread_pool=\"a\"} 1")
                .contains("eventloop_guardian_blocked_seconds_count{process=\"other\",syscall=\"other\",thread_pool=\"other\"} 1")
                .contains("eventloop_guardian_series_folded_total{metric=\"eventloop_guardian_blocked_seconds\"} 1.0");
    }
}
