package dev.eventloopguardian.report;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.eventloopguardian.guard.BlockingEvent;
import dev.eventloopguardian.guard.JavaWait;
import dev.eventloopguardian.proc.ProcessFacts;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.StringWriter;
import java.io.Writer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/** The JSON lines are those Jackson's generator wrote before, byte for byte, whatever the text in them. */
class JsonReportTest {
    private static final List<String> KERNEL = List.of("schedule+0x23", "do_nanosleep+0x5e", "entry_SYSCALL_64_after_hwframe+0x76");
    private static final List<String> USER = List.of("clock_nanosleep+0x23 (libc.so.6)", "int Example.handle(int)+0x3c (jit)");

    @Test
    void linesAreJacksonsByteForByte() throws IOException {
        List<NamedEvent> events = events();
        StringWriter ours = new StringWriter();
        JsonReport report = new JsonReport(ours);
        StringWriter jackson = new StringWriter();
        JacksonReport reference = new JacksonReport(jackson);
        for (NamedEvent named : events) {
            report.write(named);
            reference.write(named);
            report.woke(named, 12_345);
            reference.woke(named, 12_345);
        }
        report.flush();
        reference.flush();
        assertThat(ours.toString()).isEqualTo(jackson.toString());
        assertThat(ours.toString().lines()).hasSize(2 * events.size());
    }

    /** A watch's event says who it belongs to: the process, its container, pod and unit, and the rule. */
    @Test
    void anAttributedEventSaysWhoItBelongsTo() throws IOException {
        String container = "ab".repeat(32);
        ProcessFacts facts = ProcessFacts.of(12, "java", "/opt/java/bin/java", "java -jar \"app\".jar",
                "0::/kubepods.slice/kubepods-pod0f3e2d1c_1111_2222_3333_444455556666.slice/cri-containerd-" + container + ".scope\n");
        NamedEvent named = event(1_000, "vert.x-eventloo", new long[6], JavaWait.NONE, KERNEL, USER, OptionalLong.of(5), false,
                Optional.empty()).attributed(Optional.of(new Attribution.Attributes(facts, Optional.of("vertx"))));
        StringWriter out = new StringWriter();
        JsonReport report = new JsonReport(out);
        report.write(named);
        report.flush();

        var line = new ObjectMapper().readTree(out.toString());
        assertThat(line.get("process").asText()).isEqualTo("java");
        assertThat(line.get("exe").asText()).isEqualTo("/opt/java/bin/java");
        assertThat(line.get("cmdline").asText()).isEqualTo("java -jar \"app\".jar");
        assertThat(line.get("container_id").asText()).isEqualTo(container);
        assertThat(line.get("container_runtime").asText()).isEqualTo("containerd");
        assertThat(line.get("pod_uid").asText()).isEqualTo("0f3e2d1c-1111-2222-3333-444455556666");
        assertThat(line.has("systemd_unit")).as("a container's scope is no unit").isFalse();
        assertThat(line.get("rule").asText()).isEqualTo("vertx");
    }

    @Test
    void eachLineParsesAsJson() throws IOException {
        StringWriter ours = new StringWriter();
        JsonReport report = new JsonReport(ours);
        for (NamedEvent named : events()) {
            report.write(named);
        }
        report.flush();
        ObjectMapper mapper = new ObjectMapper();
        for (String line : ours.toString().lines().toList()) {
            assertThat(mapper.readTree(line).get("schema").asText()).isEqualTo(JsonReport.SCHEMA);
        }
    }

    @Test
    void linesReachTheWriterOnlyAtAFlushUntilTheBufferFills() {
        StringWriter out = new StringWriter();
        JsonReport report = new JsonReport(out);
        NamedEvent named = event(1, "loop", new long[6], JavaWait.NONE, KERNEL, USER, OptionalLong.of(5), false, Optional.empty());
        report.write(named);
        assertThat(out.toString()).as("one line: still buffered").isEmpty();
        report.flush();
        assertThat(out.toString().lines()).hasSize(1);
        for (int i = 0; i < 1000; i++) {
            report.write(named);
        }
        assertThat(out.toString().lines().count()).as("a full buffer goes out before the batch ends").isGreaterThan(1);
    }

    @Test
    void timesAreInstantToString() {
        IsoInstant time = new IsoInstant();
        long[] samples = {0, 1, 999, 1_000, 1_000_000, 999_999_999, 1_000_000_000, 1_764_613_499_616_000_000L,
                1_764_613_499_616_123_000L, 1_764_613_499_616_123_456L, 1_764_613_499_000_000_000L, -1, -1_000_000_001L,
                Long.MAX_VALUE, Long.MIN_VALUE + 1};
        for (long nanos : samples) {
            assertThat(new String(time.chars(), 0, time.format(nanos))).as("%d ns", nanos)
                    .isEqualTo(Instant.ofEpochSecond(0, nanos).toString());
        }
        for (long nanos = 1_764_613_499_000_000_000L; nanos < 1_764_613_503_000_000_000L; nanos += 7_777_777) {
            assertThat(new String(time.chars(), 0, time.format(nanos))).isEqualTo(Instant.ofEpochSecond(0, nanos).toString());
        }
    }

    private static List<NamedEvent> events() {
        List<NamedEvent> events = new ArrayList<>();
        long[] args = {1, -1, Long.MIN_VALUE, Long.MAX_VALUE, 0, 140_730_042_200_848L};
        JavaContext java = new JavaContext(true, "vert.x-eventloop-thread-0 \"quoted\"", 42, false,
                List.of("java.lang.Thread.sleep(Thread.java:511)", "a.B$c.run(B.java:12)"), false);
        JavaContext virtual = new JavaContext(true, "virtual thread #31 on ForkJoinPool-1-worker-1", 31, true, List.of(), true);
        events.add(event(1_000_000_000_000L, "python3", args, JavaWait.NONE, KERNEL, USER, OptionalLong.of(100_049_198), false,
                Optional.empty()));
        events.add(event(2_000_000_000_000L, "python3", args, JavaWait.NONE, KERNEL, USER, OptionalLong.empty(), true,
                Optional.empty()));
        events.add(event(3_000_000_123_000L, "tab\there", new long[6], JavaWait.PARK.code(), List.of(), List.of(), OptionalLong.empty(),
                false, Optional.of(java)));
        events.add(event(4_000_007_000_000L, "q\"b\\s/\u0001\u001f\b\f\n\r", new long[6], JavaWait.SLEEP.code(),
                List.of("weird \"frame\" \\ \u0007"), List.of("ünïcødé+0x1 (lib€.so)", "\u2028"), OptionalLong.of(0), false,
                Optional.of(virtual)));
        events.add(event(5_000_000_000_000L, "digits", new long[] {9, 10, 99, 100, 101, -10}, JavaWait.NONE, KERNEL, USER,
                OptionalLong.of(1_000_000_007), false, Optional.empty()));
        events.add(event(-5, "", new long[0], JavaWait.MONITOR.code(), KERNEL, List.of(), OptionalLong.of(Long.MAX_VALUE), false,
                Optional.of(JavaContext.notBlocking())));
        return events;
    }

    private static NamedEvent event(long time, String thread, long[] args, int javaWait, List<String> kernel, List<String> user,
            OptionalLong blocked, boolean asleep, Optional<JavaContext> java) {
        BlockingEvent event = new BlockingEvent(time, 12, 34, thread, 230, args, javaWait == JavaWait.NONE ? 1 : 2,
                new long[0], new long[0], 1, 1, javaWait);
        return new NamedEvent(event, "clock_nanosleep", kernel, user, blocked, asleep, CompletableFuture.completedFuture(java), Optional.empty());
    }

    /** The writer as it was, on Jackson's streaming generator: the reference the lines must equal. */
    private static final class JacksonReport {
        private final JsonGenerator json;

        JacksonReport(Writer out) throws IOException {
            this.json = new JsonFactory().setRootValueSeparator("").createGenerator(out);
        }

        void write(NamedEvent named) throws IOException {
            BlockingEvent event = named.event();
            start(JsonReport.SCHEMA, named);
            json.writeNumberField("syscall_nr", event.syscall());
            json.writeFieldName("args");
            json.writeArray(event.arguments(), 0, event.arguments().length);
            json.writeStringField("state", String.valueOf(event.stateLetter()));
            strings("kernel_stack", named.kernelStack());
            strings("user_stack", named.userStack());
            if (named.blockedNanos().isPresent()) {
                json.writeNumberField("blocked_ns", named.blockedNanos().getAsLong());
            } else {
                json.writeNullField("blocked_ns");
            }
            json.writeBooleanField("still_asleep", named.stillAsleep());
            json.writeStringField("kind", named.kind());
            if (named.java().isPresent()) {
                JavaContext java = named.java().get();
                json.writeStringField("java_thread", java.threadName());
                json.writeNumberField("java_thread_id", java.javaThreadId());
                json.writeBooleanField("virtual_thread", java.virtualThread());
                strings("java_stack", java.stack());
                json.writeBooleanField("java_stack_after_wake", java.stackAfterWake());
            }
            end();
        }

        void woke(NamedEvent named, long nanos) throws IOException {
            start(JsonReport.WAKE_SCHEMA, named);
            json.writeNumberField("blocked_ns", nanos);
            end();
        }

        private void start(String schema, NamedEvent named) throws IOException {
            BlockingEvent event = named.event();
            json.writeStartObject();
            json.writeStringField("schema", schema);
            json.writeStringField("time", event.wallTime().toString());
            json.writeNumberField("pid", event.pid());
            json.writeNumberField("tid", event.tid());
            json.writeStringField("thread", event.thread());
            json.writeStringField("syscall", named.syscall());
        }

        private void end() throws IOException {
            json.writeEndObject();
            json.writeRaw('\n');
        }

        private void strings(String field, List<String> values) throws IOException {
            json.writeArrayFieldStart(field);
            for (String value : values) {
                json.writeString(value);
            }
            json.writeEndArray();
        }

        void flush() throws IOException {
            json.flush();
        }
    }
}
