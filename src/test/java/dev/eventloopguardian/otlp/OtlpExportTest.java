package dev.eventloopguardian.otlp;

import dev.eventloopguardian.proc.ProcessFacts;
import dev.eventloopguardian.report.Attribution;
import dev.eventloopguardian.report.ReportedSleep;
import dev.eventloopguardian.report.SessionObserver;
import dev.eventloopguardian.testing.OtlpReceiver;
import io.opentelemetry.proto.logs.v1.SeverityNumber;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The OTLP export as a real OTLP/HTTP receiver gets it: log records with their stacks, the
 * metrics, the flush at the close, and what an absent or silent receiver does to the session
 * (nothing, but one note). No kernel: the sleeps are given as a session would report them.
 */
class OtlpExportTest {
    /** No process has this pid (pid_max is at most 2^22), so its name comes from the event. */
    private static final int GONE = 5_000_000;
    private static final List<String> KERNEL_STACK = List.of("schedule+0x23", "do_nanosleep+0x5e",
            "hrtimer_nanosleep+0xb5", "__x64_sys_clock_nanosleep+0xde", "do_syscall_64+0x71");
    private static final List<String> USER_STACK = List.of("clock_nanosleep+0x23 (libc.so.6)", "0x5d64b4 (python3.11)");
    private static final GuardDrops DROPS = new GuardDrops() {
        @Override
        public OptionalLong droppedEvents() {
            return OptionalLong.of(7);
        }

        @Override
        public OptionalLong droppedSleepEnds() {
            return OptionalLong.empty(); // as when the guard's map cannot be read: left out
        }
    };

    private final List<String> notes = new CopyOnWriteArrayList<>();

    @AfterEach
    void clearProperties() {
        System.clearProperty("otel.exporter.otlp.protocol");
        System.clearProperty("otel.resource.attributes");
        System.clearProperty("otel.java.exporter.otlp.retry.disabled");
    }

    private static ReportedSleep sleep(int tid, String thread, OptionalLong nanos, boolean stillAsleep) {
        return new ReportedSleep(GONE, tid, 1, thread, Optional.empty(), "clock_nanosleep", "syscall", nanos,
                1_800_000_000_000_000_000L, stillAsleep, KERNEL_STACK, USER_STACK, List.of(), Optional.empty());
    }

    /** A watch's sleep: its record says who it belongs to, as its JSON line does; the metrics keep their labels. */
    @Test
    void aWatchsSleepSaysWhoItBelongsTo() throws Exception {
        String container = "cd".repeat(32);
        ProcessFacts facts = ProcessFacts.of(GONE, "node", "/usr/bin/node", "node server.js",
                "0::/kubepods.slice/kubepods-pod0f3e2d1c_1111_2222_3333_444455556666.slice/crio-" + container + ".scope\n");
        ReportedSleep sleep = new ReportedSleep(GONE, GONE, 1, "node", Optional.empty(), "clock_nanosleep", "syscall",
                OptionalLong.of(1_000_000), 1_800_000_000_000_000_000L, false, KERNEL_STACK, USER_STACK, List.of(),
                Optional.of(new Attribution.Attributes(facts, Optional.of("node"))));
        try (OtlpReceiver receiver = OtlpReceiver.start()) {
            try (OtlpExport export = OtlpExport.open(OtlpEndpoint.parse(receiver.endpoint()), DROPS, notes::add)) {
                export.observer().reported(sleep);
            }
            OtlpReceiver.Logged record = receiver.logRecords().getFirst();
            assertThat(record.string("process.executable.path")).isEqualTo("/usr/bin/node");
            assertThat(record.string("process.command_line")).isEqualTo("node server.js");
            assertThat(record.string("container.id")).isEqualTo(container);
            assertThat(record.string("container.runtime")).isEqualTo("cri-o");
            assertThat(record.string("k8s.pod.uid")).isEqualTo("0f3e2d1c-1111-2222-3333-444455556666");
            assertThat(record.string("eventloop_guardian.rule")).isEqualTo("node");
            assertThat(record.string("eventloop_guardian.cgroup")).startsWith("/kubepods.slice/");
            assertThat(record.has("eventloop_guardian.systemd_unit")).isFalse();
        }
    }

    @Test
    void eachSleepIsALogRecordWithItsStacksAndTheMetricsMatchPrometheusOnesAllSentAtTheClose() throws Exception {
        try (OtlpReceiver receiver = OtlpReceiver.start()) {
            try (OtlpExport export = OtlpExport.open(OtlpEndpoint.parse(receiver.endpoint()), DROPS, notes::add)) {
                SessionObserver observer = export.observer();
                observer.reported(sleep(GONE, "python3", OptionalLong.of(50_000_000), false));
                ReportedSleep asleep = sleep(GONE + 1, "event-loop-12", OptionalLong.empty(), true);
                observer.reported(asleep);
                observer.woke(asleep, 2_000_000_000L);
                assertThat(export.destination()).isEqualTo(receiver.endpoint() + " (http/protobuf)");
            }
            // Closed: nothing more to wait for. Log records are batched every second and metrics
            // every minute by default; all of them came at the close.
            List<OtlpReceiver.Logged> records = receiver.logRecords();
            assertThat(records).hasSize(3);

            OtlpReceiver.Logged ended = records.get(0);
            assertThat(ended.body()).isEqualTo("pid 5000000 tid 5000000 (python3) blocked in clock_nanosleep for 50.0 ms");
            assertThat(ended.record().getSeverityNumber()).isEqualTo(SeverityNumber.SEVERITY_NUMBER_WARN);
            assertThat(ended.record().getEventName()).isEqualTo("eventloop_guardian.blocking_sleep");
            assertThat(ended.record().getTimeUnixNano()).isEqualTo(1_800_000_000_000_000_000L);
            assertThat(ended.scope()).isEqualTo("dev.eventloopguardian");
            assertThat(ended.integer("process.pid")).isEqualTo(GONE);
            assertThat(ended.string("process.executable.name")).as("the main thread's name, its process gone").isEqualTo("python3");
            assertThat(ended.integer("thread.id")).isEqualTo(GONE);
            assertThat(ended.string("thread.name")).isEqualTo("python3");
            assertThat(ended.string("eventloop_guardian.thread_pool")).isEqualTo("python3");
            assertThat(ended.string("eventloop_guardian.syscall")).isEqualTo("clock_nanosleep");
            assertThat(ended.string("eventloop_guardian.kind")).isEqualTo("syscall");
            assertThat(ended.integer("eventloop_guardian.off_cpu_ns")).isEqualTo(50_000_000);
            assertThat(ended.strings("eventloop_guardian.kernel_stack")).isEqualTo(KERNEL_STACK);
            assertThat(ended.strings("eventloop_guardian.user_stack")).isEqualTo(USER_STACK);
            assertThat(ended.has("eventloop_guardian.java_stack")).as("no JVM told one").isFalse();
            assertThat(ended.has("container.id")).as("not in a container").isFalse();
            assertThat(ended.resourceString("service.name")).isEqualTo("eventloop-guardian");

            OtlpReceiver.Logged stillAsleep = records.get(1);
            assertThat(stillAsleep.body()).endsWith("(event-loop-12) blocked in clock_nanosleep still asleep");
            assertThat(stillAsleep.has("eventloop_guardian.off_cpu_ns")).isFalse();
            assertThat(stillAsleep.string("eventloop_guardian.thread_pool")).isEqualTo("event-loop-N");
            OtlpReceiver.Logged woke = records.get(2);
            assertThat(woke.body()).endsWith("(event-loop-12) woke from clock_nanosleep after 2.00 s");
            assertThat(woke.record().getSeverityNumber()).isEqualTo(SeverityNumber.SEVERITY_NUMBER_INFO);
            assertThat(woke.record().getEventName()).isEqualTo("eventloop_guardian.wake");
            assertThat(woke.integer("thread.id")).isEqualTo(GONE + 1);
            assertThat(woke.integer("eventloop_guardian.off_cpu_ns")).isEqualTo(2_000_000_000L);
            assertThat(woke.record().getTimeUnixNano()).as("when it woke").isEqualTo(1_800_000_002_000_000_000L);

            Metric sleeps = receiver.lastMetric("eventloop_guardian.blocking_sleeps").orElseThrow();
            assertThat(sleeps.getUnit()).isEqualTo("{sleep}");
            assertThat(sleeps.getSum().getIsMonotonic()).isTrue();
            assertThat(sleeps.getSum().getDataPointsList()).extracting(point -> OtlpReceiver.strings(point.getAttributesList()))
                    .containsExactlyInAnyOrder(
                            Map.of("pid", "5000000", "process", "python3", "thread_pool", "python3", "syscall",
                                    "clock_nanosleep", "kind", "syscall", "container", ""),
                            Map.of("pid", "5000000", "process", "python3", "thread_pool", "event-loop-N", "syscall",
                                    "clock_nanosleep", "kind", "syscall", "container", ""));
            assertThat(sleeps.getSum().getDataPointsList()).extracting(NumberDataPoint::getAsInt).containsOnly(1L);

            Metric blocked = receiver.lastMetric("eventloop_guardian.blocked").orElseThrow();
            assertThat(blocked.getUnit()).isEqualTo("s");
            HistogramDataPoint loop = blocked.getHistogram().getDataPointsList().stream()
                    .filter(point -> OtlpReceiver.strings(point.getAttributesList()).get("thread_pool").equals("event-loop-N"))
                    .findFirst().orElseThrow();
            assertThat(loop.getCount()).as("timed when it woke").isEqualTo(1);
            assertThat(loop.getSum()).isEqualTo(2.0);
            assertThat(loop.getExplicitBoundsList()).containsExactly(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                    0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0);
            assertThat(OtlpReceiver.strings(loop.getAttributesList())).containsOnlyKeys("process", "thread_pool", "syscall");

            Metric dropped = receiver.lastMetric("eventloop_guardian.dropped_events").orElseThrow();
            assertThat(dropped.getSum().getDataPoints(0).getAsInt()).isEqualTo(7);
            assertThat(receiver.lastMetric("eventloop_guardian.dropped_sleep_ends")).as("could not be read: left out")
                    .isEmpty();
        }
        assertThat(notes).isEmpty();
    }

    @Test
    void theOtelVariablesConfigureTheRest() throws Exception {
        // System properties stand for the variables here: autoconfigure reads both, the properties first.
        System.setProperty("otel.resource.attributes", "service.name=checkout,deployment.environment.name=test");
        try (OtlpReceiver receiver = OtlpReceiver.start()) {
            try (OtlpExport export = OtlpExport.open(OtlpEndpoint.parse(receiver.endpoint()), DROPS, notes::add)) {
                export.observer().reported(sleep(GONE, "python3", OptionalLong.of(1_000_000), false));
            }
            OtlpReceiver.Logged record = receiver.logRecords().getFirst();
            assertThat(record.resourceString("service.name")).as("not overridden by our default").isEqualTo("checkout");
            assertThat(record.resourceString("deployment.environment.name")).isEqualTo("test");
        }
    }

    @Test
    void grpcIsRefusedWithWhatToSetInstead() {
        System.setProperty("otel.exporter.otlp.protocol", "grpc");
        assertThatThrownBy(() -> OtlpExport.open(OtlpEndpoint.parse("http://127.0.0.1:4317"), DROPS, notes::add))
                .isInstanceOf(OtlpException.class)
                .hasMessage("OTEL_EXPORTER_OTLP_PROTOCOL=grpc: OTLP is sent over HTTP here (http/protobuf), not gRPC; set OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf and give the receiver's OTLP/HTTP port "
                        + "(4318 on a Collector)");
    }

    @Test
    void aReceiverThatIsNotThereIsSaidOnceAndHoldsNothingUp() throws Exception {
        String endpoint;
        try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            endpoint = "http://127.0.0.1:" + closed.getLocalPort();
        }
        // The SDK retries a refused connection for about 8 s (5 tries, backing off from 1 s); without
        // retries the first export fails at once, and this test need not wait for them.
        System.setProperty("otel.java.exporter.otlp.retry.disabled", "true");
        long started = System.nanoTime();
        OtlpExport export = OtlpExport.open(OtlpEndpoint.parse(endpoint), DROPS, notes::add);
        try (export) {
            for (int i = 0; i < 1000; i++) {
                export.observer().reported(sleep(GONE, "python3", OptionalLong.of(1_000_000), false));
            }
            assertThat(Duration.ofNanos(System.nanoTime() - started)).as("a thousand sleeps, none waiting for the network")
                    .isLessThan(Duration.ofSeconds(2));
            Thread.sleep(1_500); // the batch processor's first export, every second, fails
        }
        assertThat(Duration.ofNanos(System.nanoTime() - started)).as("the close waits a bounded time")
                .isLessThan(OtlpExport.CLOSE_LIMIT.plusSeconds(4));
        assertThat(notes).as(notes.toString()).filteredOn(note -> note.startsWith("cannot send")).hasSize(1);
        assertThat(notes.getFirst()).startsWith("cannot send log records to the OTLP endpoint " + endpoint
                + ": cannot connect").endsWith("; the guard goes on, and will say at the end what was not sent");
        assertThat(notes).contains("1000 of 1000 log records were not sent to the OTLP endpoint " + endpoint,
                "the last metrics were not sent to the OTLP endpoint " + endpoint);
    }

    @Test
    void aReceiverThatNeverAnswersDelaysTheCloseByTheLimitAtMost() throws Exception {
        // Accepted by the kernel (the backlog), never answered: the exporter's timeout is 10 s.
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            String endpoint = "http://127.0.0.1:" + silent.getLocalPort();
            OtlpExport export = OtlpExport.open(OtlpEndpoint.parse(endpoint), DROPS, notes::add);
            export.observer().reported(sleep(GONE, "python3", OptionalLong.of(1_000_000), false));
            long closing = System.nanoTime();
            export.close();
            assertThat(Duration.ofNanos(System.nanoTime() - closing)).isBetween(OtlpExport.CLOSE_LIMIT.minusMillis(100),
                    OtlpExport.CLOSE_LIMIT.plusSeconds(2));
            assertThat(notes).contains("the OTLP endpoint " + endpoint + " had not taken the last records and metrics "
                    + "after 5 s; stopped waiting", "1 of 1 log records were not sent to the OTLP endpoint " + endpoint);
        }
    }
}
