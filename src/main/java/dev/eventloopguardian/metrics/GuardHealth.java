package dev.eventloopguardian.metrics;

import dev.eventloopguardian.guard.ReportingGuard;
import dev.eventloopguardian.bpf.ProgramInfo;
import dev.eventloopguardian.guard.Guard;
import dev.eventloopguardian.guard.GuardException;
import dev.eventloopguardian.report.SessionObserver;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalDouble;
import java.util.stream.Stream;

/**
 * The guard's own health, read when Prometheus scrapes: what the kernel could not queue, whether
 * the guard is attached and to how many processes and threads, and what its program costs. Read
 * at scrape time rather than pushed: these are the kernel's own counters, and reading them costs
 * a syscall per scrape instead of a write per event.
 *
 * <p>The guard must stay open while its metrics can be scraped: the server that serves them is
 * stopped first.
 */
public final class GuardHealth implements SessionObserver {
    /** What the session guards: a process, and whether its threads and children inherit the guard. */
    private record Target(ProcessHandle process, boolean inherited) {
        Stream<ProcessHandle> processes() {
            if (!process.isAlive()) {
                return Stream.empty();
            }
            return inherited ? Stream.concat(Stream.of(process), process.descendants()) : Stream.of(process);
        }

        long threads() {
            return inherited ? processes().mapToLong(GuardHealth::threadsOf).sum() : processes().count();
        }
    }

    /** A reading of the guard's that may fail: a scrape then leaves that sample out. */
    @FunctionalInterface
    private interface Reading {
        double read() throws GuardException;
    }

    private volatile Target target;

    /** Registers the guard's health in {@code registry}. */
    public GuardHealth(PrometheusRegistry registry, ReportingGuard guard) {
        CounterWithCallback.builder(Prometheus.PROPERTIES)
                .name("eventloop_guardian_dropped_events")
                .help("Blocking sleeps the kernel could not queue because the ring buffer was full: counted, never reported")
                .callback(sample -> read(guard::droppedEvents).ifPresent(sample::call))
                .register(registry);
        CounterWithCallback.builder(Prometheus.PROPERTIES)
                .name("eventloop_guardian_dropped_sleep_ends")
                .help("Ends of reported sleeps the kernel could not queue: those sleeps were reported without their length")
                .callback(sample -> read(guard::droppedEnds).ifPresent(sample::call))
                .register(registry);
        GaugeWithCallback.builder(Prometheus.PROPERTIES)
                .name("eventloop_guardian_guard_attached")
                .help("1 while the guard is attached to the process the session guards (or watches the host), 0 once it "
                        + "exited or was detached")
                .callback(sample -> sample.call(attachedTo().isPresent() || watching(guard) ? 1 : 0))
                .register(registry);
        GaugeWithCallback.builder(Prometheus.PROPERTIES)
                .name("eventloop_guardian_guarded_processes")
                .help("Processes the guard is attached to: the guarded process and, when it inherits the guard, its "
                        + "descendants; under watch, the processes a rule selects")
                .callback(sample -> {
                    OptionalDouble watched = read(() -> guard.processesWatched().orElse(-1));
                    if (watched.isPresent() && watched.getAsDouble() >= 0) {
                        sample.call(watched.getAsDouble());
                    } else {
                        sample.call(attachedTo().map(guarded -> guarded.processes().count()).orElse(0L));
                    }
                })
                .register(registry);
        CounterWithCallback.builder(Prometheus.PROPERTIES)
                .name("eventloop_guardian_suppressed_sleeps")
                .help("Blocking sleeps counted and not reported because their process had spent its budget of events a "
                        + "second (watch --events-per-second), by process")
                .labelNames("pid", "process")
                .callback(sample -> {
                    try {
                        guard.suppressed().forEach((pid, count) -> sample.call(count, Integer.toString(pid), Processes.nameOf(pid).orElse("")));
                    } catch (GuardException e) {
                        // left out of this scrape
                    }
                })
                .register(registry);
        GaugeWithCallback.builder(Prometheus.PROPERTIES)
                .name("eventloop_guardian_guarded_threads")
                .help("Threads the guard is attached to: the main thread alone, or every thread of the guarded "
                        + "processes when they inherit the guard (--all-threads, attach)")
                .callback(sample -> sample.call(attachedTo().map(Target::threads).orElse(0L)))
                .register(registry);
        GaugeWithCallback.builder(Prometheus.PROPERTIES)
                .name("eventloop_guardian_program_instructions")
                .help("Instructions of the guard's eBPF program, generated for the policy")
                .callback(sample -> sample.call(guard.program().size()))
                .register(registry);
        CounterWithCallback.builder(Prometheus.PROPERTIES)
                .name("eventloop_guardian_program_runs")
                .help("Runs of the guard's program, one per switch-out of a guarded thread; counted by the kernel only "
                        + "while kernel.bpf_stats_enabled=1")
                .callback(sample -> read(() -> guard.info().runCount()).ifPresent(sample::call))
                .register(registry);
        CounterWithCallback.builder(Prometheus.PROPERTIES)
                .name("eventloop_guardian_program_run_seconds")
                .help("CPU time the guard's program ran; counted by the kernel only while kernel.bpf_stats_enabled=1")
                .callback(sample -> read(() -> runSeconds(guard.info())).ifPresent(sample::call))
                .register(registry);
    }

    private static boolean watching(ReportingGuard guard) {
        try {
            return guard.processesWatched().isPresent();
        } catch (GuardException e) {
            return false;
        }
    }

    private static double runSeconds(ProgramInfo info) {
        return info.runTimeNanos() / 1e9;
    }

    @Override
    public void guarding(long pid, boolean inherited) {
        target = ProcessHandle.of(pid).map(process -> new Target(process, inherited)).orElse(null);
    }

    @Override
    public void detached() {
        target = null;
    }

    private java.util.Optional<Target> attachedTo() {
        Target guarded = target;
        return guarded != null && guarded.process().isAlive() ? java.util.Optional.of(guarded) : java.util.Optional.empty();
    }

    private static OptionalDouble read(Reading reading) {
        try {
            return OptionalDouble.of(reading.read());
        } catch (GuardException e) {
            return OptionalDouble.empty();
        }
    }

    /** The threads of {@code process} now: the entries of /proc/PID/task; 0 once it is gone. */
    private static long threadsOf(ProcessHandle process) {
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(process.pid()), "task"))) {
            return tasks.count();
        } catch (IOException | java.io.UncheckedIOException gone) {
            return 0;
        }
    }
}
