package dev.eventloopguardian.metrics;

import dev.eventloopguardian.report.ReportedSleep;

import java.util.List;
import java.util.Optional;

/**
 * The labels of a blocking sleep, as the Prometheus metrics put them, for another exporter
 * (OpenTelemetry's) to put the same; {@link SleepMetrics} puts them from here too: the process's name and container, read from {@code /proc}
 * once per program ({@link Processes}), and the thread's pool ({@link ThreadPools}). Pure Java:
 * loading it loads nothing of the Prometheus client. Used from one thread.
 */
public final class SleepLabels {
    /**
     * The bounds of the histogram of how long sleeps blocked, in seconds, for every exporter: from
     * 100 µs, the shortest sleep an event loop is likely to notice, to 10 s, a hang; in steps of
     * about 2.5×, each decade cut at 1, 2.5 and 5 as Prometheus's own defaults are. Here, not in
     * {@link SleepMetrics}, whose loading would load the Prometheus client for an exporter without it.
     */
    public static final List<Double> BLOCKED_SECONDS_BOUNDS = List.of(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
            0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0);

    /** A sleep's labels; {@code container} is empty outside containers. */
    public record Labels(String pid, String process, String threadPool, String syscall, String kind, String container) {
    }

    private final Processes processes = new Processes();

    /** The labels of {@code sleep}. */
    public Labels of(ReportedSleep sleep) {
        Processes.Process process = processes.of(sleep.pid(), sleep.execId(),
                sleep.tid() == sleep.pid() ? Optional.of(sleep.thread()) : Optional.empty());
        // the Java name when its JVM gave it: the kernel's is cut to 15 characters
        String pool = ThreadPools.of(sleep.javaThread().orElse(sleep.thread()), process.name());
        return new Labels(Integer.toString(sleep.pid()), process.name(), pool, sleep.syscall(), sleep.kind(),
                process.container());
    }
}
