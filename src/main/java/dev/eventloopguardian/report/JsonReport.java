package dev.eventloopguardian.report;

import dev.eventloopguardian.proc.ProcessFacts;

import dev.eventloopguardian.guard.BlockingEvent;

import java.io.IOException;
import java.io.Writer;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes each blocking event as one JSON object per line (JSON Lines), schema
 * {@value #SCHEMA}, described in docs/report-schema.md. Fields are only ever added within a
 * schema version; a change of meaning gets a new version.
 *
 * <p>Built for storms: lines gather in one reusable buffer that goes to the writer at each
 * {@link #flush} (once per batch of the reader) or when it is full, and a stack's JSON text is
 * made once and reused for every event that has it.
 */
final class JsonReport implements EventFormat {
    static final String SCHEMA = "eventloop-guardian/blocking-event/1";
    static final String WAKE_SCHEMA = "eventloop-guardian/wake/1";
    /** Lines buffered past this go to the writer before the batch ends. */
    private static final int WRITE_AT = 48 * 1024;
    /** Characters of stack text kept; past them the cache starts over (a workload whose stacks keep changing). */
    private static final int STACK_TEXT_KEPT = 1 << 20;

    private final Writer out;
    private final JsonLineBuffer json = new JsonLineBuffer();
    private final IsoInstant time = new IsoInstant();
    /**
     * JSON text of the named stacks, by the list itself: {@link StackNames} hands out one list per
     * distinct stack, so identity finds it without hashing its frames.
     */
    private final Map<List<String>, char[]> stackTexts = new IdentityHashMap<>();
    private int stackTextChars;

    JsonReport(Writer out) {
        this.out = out;
    }

    @Override
    public void write(NamedEvent named) {
        BlockingEvent event = named.event();
        start(SCHEMA, named);
        json.field("syscall_nr", event.syscall());
        json.field("args", event.arguments());
        json.field("state", event.stateLetter() == 'D' ? "D" : "S");
        json.fieldWithText("kernel_stack", stackText(named.kernelStack()));
        json.fieldWithText("user_stack", stackText(named.userStack()));
        if (named.blockedNanos().isPresent()) {
            json.field("blocked_ns", named.blockedNanos().getAsLong());
        } else {
            json.nullField("blocked_ns");
        }
        json.field("still_asleep", named.stillAsleep());
        json.field("kind", named.kind());
        named.attributes().ifPresent(this::attribute);
        if (named.java().isPresent()) {
            JavaContext java = named.java().get();
            json.field("java_thread", java.threadName());
            json.field("java_thread_id", java.javaThreadId());
            json.field("virtual_thread", java.virtualThread());
            json.field("java_stack", java.stack()); // one per event: not worth keeping
            json.field("java_stack_after_wake", java.stackAfterWake());
        }
        end();
    }

    /** Who the event belongs to, for a session that guards processes it did not start. */
    private void attribute(Attribution.Attributes attributes) {
        ProcessFacts process = attributes.process();
        json.field("process", process.name());
        json.field("exe", process.executable());
        json.field("cmdline", process.commandLine());
        json.field("cgroup", process.cgroup());
        process.container().ifPresent(container -> {
            json.field("container_id", container.id());
            json.field("container_runtime", container.runtime());
        });
        process.podUid().ifPresent(uid -> json.field("pod_uid", uid));
        process.systemdUnit().ifPresent(unit -> json.field("systemd_unit", unit));
        attributes.rule().ifPresent(rule -> json.field("rule", rule));
    }

    @Override
    public void woke(NamedEvent named, long nanos) {
        start(WAKE_SCHEMA, named);
        json.field("blocked_ns", nanos);
        end();
    }

    /** The fields every kind of line shares, identifying the sleep. */
    private void start(String schema, NamedEvent named) {
        BlockingEvent event = named.event();
        json.startObject();
        json.field("schema", schema);
        json.field("time", time.chars(), time.format(event.wallEpochNanos()));
        json.field("pid", event.pid());
        json.field("tid", event.tid());
        json.field("thread", event.thread());
        json.field("syscall", named.syscall());
    }

    private void end() {
        json.endObject();
        json.endLine();
        if (json.length() >= WRITE_AT) {
            writeBuffered();
        }
    }

    private char[] stackText(List<String> frames) {
        char[] text = stackTexts.get(frames);
        if (text == null) {
            text = JsonLineBuffer.arrayText(frames);
            if (stackTextChars + text.length > STACK_TEXT_KEPT) {
                stackTexts.clear();
                stackTextChars = 0;
            }
            stackTexts.put(frames, text);
            stackTextChars += text.length;
        }
        return text;
    }

    /** Hands the buffered lines to the writer; a writer that fails says so itself (ReportOutput never throws). */
    private void writeBuffered() {
        try {
            json.writeTo(out);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot write the JSON report", e);
        }
    }

    @Override
    public void close() {
        flush();
    }

    @Override
    public void flush() {
        writeBuffered();
        try {
            out.flush();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
