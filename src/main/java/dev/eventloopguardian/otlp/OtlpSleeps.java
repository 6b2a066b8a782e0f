package dev.eventloopguardian.otlp;

import dev.eventloopguardian.metrics.SleepLabels;
import dev.eventloopguardian.proc.ProcessFacts;
import dev.eventloopguardian.report.Attribution;
import dev.eventloopguardian.report.ReportedSleep;
import dev.eventloopguardian.report.SessionObserver;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.logs.LogRecordBuilder;
import io.opentelemetry.api.logs.Logger;
import io.opentelemetry.api.logs.Severity;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.Meter;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The blocking sleeps a session reports, as OpenTelemetry sees them: each one a log record with
 * who slept, in what, for how long and the named stacks, and the same counter and histogram as the
 * Prometheus metrics, with the same labels as attributes (a Collector that exports to Prometheus
 * gives the same series as {@code --metrics}).
 *
 * <p>Fed on the session's thread. Emitting hands the record to the SDK's batch processor, whose
 * queue is bounded and drops when full: a slow or absent receiver never holds the session up.
 */
final class OtlpSleeps implements SessionObserver {
    static final String SCOPE = "dev.eventloopguardian";
    static final String SLEEP_EVENT = "eventloop_guardian.blocking_sleep";
    static final String WAKE_EVENT = "eventloop_guardian.wake";
    static final String SLEEPS = "eventloop_guardian.blocking_sleeps";
    static final String BLOCKED = "eventloop_guardian.blocked";

    // The log record's attributes: OpenTelemetry's semantic conventions where they name the thing
    private static final AttributeKey<Long> PROCESS_PID = AttributeKey.longKey("process.pid");
    private static final AttributeKey<String> PROCESS_NAME = AttributeKey.stringKey("process.executable.name");
    private static final AttributeKey<Long> THREAD_ID = AttributeKey.longKey("thread.id");
    private static final AttributeKey<String> THREAD_NAME = AttributeKey.stringKey("thread.name");
    private static final AttributeKey<String> CONTAINER_ID = AttributeKey.stringKey("container.id");
    private static final AttributeKey<String> CONTAINER_RUNTIME = AttributeKey.stringKey("container.runtime");
    private static final AttributeKey<String> PROCESS_PATH = AttributeKey.stringKey("process.executable.path");
    private static final AttributeKey<String> COMMAND_LINE = AttributeKey.stringKey("process.command_line");
    private static final AttributeKey<String> POD_UID = AttributeKey.stringKey("k8s.pod.uid");
    // ...and ours where they do not
    private static final AttributeKey<String> THREAD_POOL = AttributeKey.stringKey("eventloop_guardian.thread_pool");
    private static final AttributeKey<String> SYSCALL = AttributeKey.stringKey("eventloop_guardian.syscall");
    private static final AttributeKey<String> KIND = AttributeKey.stringKey("eventloop_guardian.kind");
    private static final AttributeKey<Long> OFF_CPU_NS = AttributeKey.longKey("eventloop_guardian.off_cpu_ns");
    private static final AttributeKey<Boolean> STILL_ASLEEP = AttributeKey.booleanKey("eventloop_guardian.still_asleep");
    private static final AttributeKey<List<String>> KERNEL_STACK = AttributeKey.stringArrayKey("eventloop_guardian.kernel_stack");
    private static final AttributeKey<List<String>> USER_STACK = AttributeKey.stringArrayKey("eventloop_guardian.user_stack");
    private static final AttributeKey<List<String>> JAVA_STACK = AttributeKey.stringArrayKey("eventloop_guardian.java_stack");
    private static final AttributeKey<String> CGROUP = AttributeKey.stringKey("eventloop_guardian.cgroup");
    private static final AttributeKey<String> SYSTEMD_UNIT = AttributeKey.stringKey("eventloop_guardian.systemd_unit");
    private static final AttributeKey<String> RULE = AttributeKey.stringKey("eventloop_guardian.rule");

    // The metrics' attributes: the Prometheus labels, name for name
    private static final AttributeKey<String> PID = AttributeKey.stringKey("pid");
    private static final AttributeKey<String> PROCESS = AttributeKey.stringKey("process");
    private static final AttributeKey<String> POOL = AttributeKey.stringKey("thread_pool");
    private static final AttributeKey<String> SYSCALL_LABEL = AttributeKey.stringKey("syscall");
    private static final AttributeKey<String> KIND_LABEL = AttributeKey.stringKey("kind");
    private static final AttributeKey<String> CONTAINER = AttributeKey.stringKey("container");

    private final Logger logger;
    private final LongCounter sleeps;
    private final DoubleHistogram blocked;
    private final SleepLabels labels = new SleepLabels();
    private final AtomicLong logRecordsEmitted = new AtomicLong();

    OtlpSleeps(Logger logger, Meter meter) {
        this.logger = logger;
        sleeps = meter.counterBuilder(SLEEPS)
                .setUnit("{sleep}")
                .setDescription("Blocking sleeps reported: a guarded thread went to sleep in a syscall its policy does "
                        + "not allow")
                .build();
        blocked = meter.histogramBuilder(BLOCKED)
                .setUnit("s")
                .setDescription("How long reported blocking sleeps kept their thread off the CPU, for those whose end "
                        + "was seen")
                .setExplicitBucketBoundariesAdvice(SleepLabels.BLOCKED_SECONDS_BOUNDS)
                .build();
    }

    /** Log records handed to the SDK: those sent, those dropped or not yet sent. */
    long logRecordsEmitted() {
        return logRecordsEmitted.get();
    }

    @Override
    public void reported(ReportedSleep sleep) {
        SleepLabels.Labels labeled = labels.of(sleep);
        sleeps.add(1, Attributes.builder()
                .put(PID, labeled.pid())
                .put(PROCESS, labeled.process())
                .put(POOL, labeled.threadPool())
                .put(SYSCALL_LABEL, labeled.syscall())
                .put(KIND_LABEL, labeled.kind())
                .put(CONTAINER, labeled.container())
                .build());
        sleep.blockedNanos().ifPresent(nanos -> observe(labeled, nanos));

        AttributesBuilder attributes = identity(sleep, labeled);
        sleep.attributes().ifPresent(found -> attribute(attributes, found));
        sleep.blockedNanos().ifPresent(nanos -> attributes.put(OFF_CPU_NS, nanos));
        attributes.put(STILL_ASLEEP, sleep.stillAsleep())
                .put(KERNEL_STACK, sleep.kernelStack())
                .put(USER_STACK, sleep.userStack());
        if (!sleep.javaStack().isEmpty()) {
            attributes.put(JAVA_STACK, sleep.javaStack());
        }
        emit(sleep.wallEpochNanos(), SLEEP_EVENT, Severity.WARN, sleep.describe(), attributes.build());
    }

    @Override
    public void woke(ReportedSleep sleep, long offCpuNanos) {
        SleepLabels.Labels labeled = labels.of(sleep);
        observe(labeled, offCpuNanos);
        // The end of a sleep already sent as still asleep: who, and how long, for a query to join them.
        emit(sleep.wallEpochNanos() == 0 ? 0 : sleep.wallEpochNanos() + offCpuNanos, WAKE_EVENT, Severity.INFO,
                sleep.describeWake(offCpuNanos),
                identity(sleep, labeled).put(OFF_CPU_NS, offCpuNanos).build());
    }

    private void observe(SleepLabels.Labels labeled, long nanos) {
        blocked.record(nanos / 1e9, Attributes.of(PROCESS, labeled.process(), POOL, labeled.threadPool(),
                SYSCALL_LABEL, labeled.syscall()));
    }

    private static AttributesBuilder identity(ReportedSleep sleep, SleepLabels.Labels labeled) {
        AttributesBuilder attributes = Attributes.builder()
                .put(PROCESS_PID, sleep.pid())
                .put(PROCESS_NAME, labeled.process())
                .put(THREAD_ID, sleep.tid())
                .put(THREAD_NAME, sleep.javaThread().orElse(sleep.thread()))
                .put(THREAD_POOL, labeled.threadPool())
                .put(SYSCALL, sleep.syscall())
                .put(KIND, sleep.kind());
        if (!labeled.container().isEmpty()) {
            attributes.put(CONTAINER_ID, labeled.container());
        }
        return attributes;
    }

    /** Emits a record of {@code event} that happened at {@code epochNanos} (0: not known, the SDK's observed time stands). */
    /** Who a watch's event belongs to, on its record only: the metrics keep their labels. */
    private static void attribute(AttributesBuilder attributes, Attribution.Attributes found) {
        ProcessFacts process = found.process();
        attributes.put(PROCESS_PATH, process.executable())
                .put(COMMAND_LINE, process.commandLine())
                .put(CGROUP, process.cgroup());
        process.container().ifPresent(container -> attributes.put(CONTAINER_ID, container.id())
                .put(CONTAINER_RUNTIME, container.runtime()));
        process.podUid().ifPresent(uid -> attributes.put(POD_UID, uid));
        process.systemdUnit().ifPresent(unit -> attributes.put(SYSTEMD_UNIT, unit));
        found.rule().ifPresent(rule -> attributes.put(RULE, rule));
    }

    private void emit(long epochNanos, String event, Severity severity, String body, Attributes attributes) {
        LogRecordBuilder record = logger.logRecordBuilder()
                .setEventName(event)
                .setSeverity(severity)
                .setSeverityText(severity.name())
                .setBody(body)
                .setAllAttributes(attributes);
        if (epochNanos > 0) {
            record.setTimestamp(epochNanos, TimeUnit.NANOSECONDS);
        }
        record.emit();
        logRecordsEmitted.incrementAndGet();
    }
}
