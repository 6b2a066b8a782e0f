package dev.eventloopguardian.metrics;

import dev.eventloopguardian.report.ReportedSleep;
import dev.eventloopguardian.report.SessionObserver;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;

import java.util.List;

/**
 * The blocking sleeps a session reports, as Prometheus metrics: a counter by process (pid and
 * name), thread pool, syscall, kind and container, and a histogram of how long they blocked by
 * process name, thread pool and syscall. Each is held to a number of series
 * ({@link SeriesLimit}); what does not fit is counted in the series labelled {@code other}, and
 * {@code eventloop_guardian_series_folded_total} says how many sleeps went there.
 *
 * <p>Fed on the session's thread; the client's metrics may be scraped from any thread.
 */
public final class SleepMetrics implements SessionObserver {
    /** Series of the counter: far more than the event loops of a host, far fewer than a scraper minds. */
    static final int SLEEP_SERIES = 1000;
    /** Series of the histogram, each of which is 19 series to Prometheus (16 buckets, +Inf, sum and count). */
    static final int DURATION_SERIES = 100;
    /** The histogram's bounds, as every exporter puts them ({@link SleepLabels#BLOCKED_SECONDS_BOUNDS}). */
    static final double[] BLOCKED_SECONDS_BOUNDS = SleepLabels.BLOCKED_SECONDS_BOUNDS.stream().mapToDouble(Double::doubleValue)
            .toArray();

    private final Counter sleeps;
    private final Histogram blocked;
    private final Counter folded;
    private final SeriesLimit sleepSeries;
    private final SeriesLimit durationSeries;
    private final SleepLabels labels = new SleepLabels();

    /** Registers the metrics in {@code registry}, with the default series limits. */
    public SleepMetrics(PrometheusRegistry registry) {
        this(registry, SLEEP_SERIES, DURATION_SERIES);
    }

    SleepMetrics(PrometheusRegistry registry, int sleepSeriesLimit, int durationSeriesLimit) {
        sleepSeries = new SeriesLimit(sleepSeriesLimit);
        durationSeries = new SeriesLimit(durationSeriesLimit);
        // A scrape collects in the order of registration, while sleeps go on being reported: the
        // histogram first, so that a scrape never shows more lengths than sleeps.
        blocked = Histogram.builder(Prometheus.PROPERTIES)
                .name("eventloop_guardian_blocked_seconds")
                .unit(Unit.SECONDS)
                .help("How long reported blocking sleeps kept their thread off the CPU, for those whose end was seen")
                .labelNames("process", "thread_pool", "syscall")
                .classicOnly()
                .classicUpperBounds(BLOCKED_SECONDS_BOUNDS)
                .withoutExemplars()
                .register(registry);
        sleeps = Counter.builder(Prometheus.PROPERTIES)
                .name("eventloop_guardian_blocking_sleeps")
                .help("Blocking sleeps reported: a guarded thread went to sleep in a syscall its policy does not allow")
                .labelNames("pid", "process", "thread_pool", "syscall", "kind", "container")
                .withoutExemplars()
                .register(registry);
        folded = Counter.builder(Prometheus.PROPERTIES)
                .name("eventloop_guardian_series_folded")
                .help("Blocking sleeps counted in the series labelled other, because the metric had as many series as "
                        + "it may have")
                .labelNames("metric")
                .withoutExemplars()
                .register(registry);
    }

    @Override
    public void reported(ReportedSleep sleep) {
        SleepLabels.Labels of = labels.of(sleep);
        List<String> values = List.of(of.pid(), of.process(), of.threadPool(), of.syscall(), of.kind(), of.container());
        if (sleepSeries.admits(values)) {
            sleeps.labelValues(values.toArray(String[]::new)).inc();
        } else {
            sleeps.labelValues(SeriesLimit.other(values.size())).inc();
            folded.labelValues("eventloop_guardian_blocking_sleeps_total").inc();
        }
        sleep.blockedNanos().ifPresent(nanos -> observe(of, nanos));
    }

    @Override
    public void woke(ReportedSleep sleep, long offCpuNanos) {
        observe(labels.of(sleep), offCpuNanos);
    }

    private void observe(SleepLabels.Labels of, long nanos) {
        List<String> values = List.of(of.process(), of.threadPool(), of.syscall());
        if (durationSeries.admits(values)) {
            blocked.labelValues(values.toArray(String[]::new)).observe(nanos / 1e9);
        } else {
            blocked.labelValues(SeriesLimit.other(values.size())).observe(nanos / 1e9);
            folded.labelValues("eventloop_guardian_blocked_seconds").inc();
        }
    }
}
