package dev.eventloopguardian.report;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.eventloopguardian.guard.BlockingEvent;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.util.List;

/**
 * Writes each blocking event as one JSON object per line (JSON Lines), schema
 * {@value #SCHEMA}, described in docs/report-schema.md. Fields are only ever added within a
 * schema version; a change of meaning gets a new version.
 */
final class JsonReport implements EventFormat {
    static final String SCHEMA = "eventloop-guardian/blocking-event/1";
    static final String WAKE_SCHEMA = "eventloop-guardian/wake/1";

    private final JsonGenerator json;

    JsonReport(Writer out) throws IOException {
        this.json = new JsonFactory().setRootValueSeparator("").createGenerator(out);
    }

    @Override
    public void write(NamedEvent named) {
        BlockingEvent event = named.event();
        line(SCHEMA, named, () -> {
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
        });
    }

    @Override
    public void woke(NamedEvent named, long nanos) {
        line(WAKE_SCHEMA, named, () -> json.writeNumberField("blocked_ns", nanos));
    }

    private interface Fields {
        void write() throws IOException;
    }

    /** One line: the fields every kind shares, identifying the sleep, then {@code rest}. */
    private void line(String schema, NamedEvent named, Fields rest) {
        BlockingEvent event = named.event();
        try {
            json.writeStartObject();
            json.writeStringField("schema", schema);
            json.writeStringField("time", event.wallTime().toString());
            json.writeNumberField("pid", event.pid());
            json.writeNumberField("tid", event.tid());
            json.writeStringField("thread", event.thread());
            json.writeStringField("syscall", named.syscall());
            rest.write();
            json.writeEndObject();
            json.writeRaw('\n');
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the JSON report", e);
        }
    }

    private void strings(String field, List<String> values) throws IOException {
        json.writeArrayFieldStart(field);
        for (String value : values) {
            json.writeString(value);
        }
        json.writeEndArray();
    }

    @Override
    public void close() {
        flush();
    }

    @Override
    public void flush() {
        try {
            json.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
