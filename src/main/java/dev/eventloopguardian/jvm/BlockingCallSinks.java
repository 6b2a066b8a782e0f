package dev.eventloopguardian.jvm;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/** Ready-made destinations for {@link EventLoopGuardian.Builder#onBlockingCall}. */
public final class BlockingCallSinks {
    /** The schema of a JSON line: the command line's, plus {@code virtual_thread}, {@code kind} and {@code java_stack}. */
    public static final String SCHEMA = "eventloop-guardian/blocking-event/1";

    private BlockingCallSinks() {
    }

    /** Each call as a {@code dev.eventloopguardian.BlockingCall} event in the JVM's flight recordings. */
    public static Consumer<BlockingCall> jfr() {
        return call -> {
            BlockingCallEvent event = new BlockingCallEvent();
            if (!event.isEnabled()) {
                return;
            }
            event.blockedThread = call.threadName();
            event.javaThreadId = call.javaThreadId();
            event.virtualThread = call.virtualThread();
            event.tid = call.tid();
            event.kind = call.kind().name().toLowerCase(Locale.ROOT);
            event.syscall = call.syscall();
            event.blocked = call.blockedNanos().orElse(-1);
            event.javaStack = call.javaStack().stream().map(StackTraceElement::toString).collect(Collectors.joining("\n"));
            event.javaStackAfterWake = call.javaStackAfterWake();
            event.commit();
        };
    }

    /**
     * Each call as the default log shows it ({@link #describe}), on {@code out}, flushed at once.
     * {@code out} belongs to the caller; a write that fails is thrown.
     */
    public static Consumer<BlockingCall> text(Writer out) {
        return call -> {
            synchronized (out) {
                try {
                    out.write(describe(call) + System.lineSeparator());
                    out.flush();
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot write the blocking call", e);
                }
            }
        };
    }

    /** The call's line, then the rest of its Java stack, a frame a line as a Java stack trace shows them. */
    static String describe(BlockingCall call) {
        return call + call.javaStack().stream().skip(1).map(frame -> System.lineSeparator() + "\tat " + frame)
                .collect(Collectors.joining());
    }

    /**
     * Each call as one JSON object a line on {@code out}, flushed at once, in the schema of the
     * command line's {@code --format json} (docs/report-schema.md) with {@code virtual_thread},
     * {@code kind} and {@code java_stack} added. {@code out} belongs to the caller; a write that
     * fails is thrown.
     */
    public static Consumer<BlockingCall> jsonLines(Writer out) {
        JsonGenerator json;
        try {
            json = new JsonFactory().setRootValueSeparator("").createGenerator(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        long pid = ProcessHandle.current().pid();
        return call -> {
            synchronized (json) {
                try {
                    json.writeStartObject();
                    json.writeStringField("schema", SCHEMA);
                    json.writeStringField("time", call.time().toString());
                    json.writeNumberField("pid", pid);
                    json.writeNumberField("tid", call.tid());
                    json.writeStringField("thread", call.threadName());
                    json.writeBooleanField("virtual_thread", call.virtualThread());
                    json.writeStringField("syscall", call.syscall());
                    json.writeFieldName("args");
                    long[] arguments = call.arguments();
                    json.writeArray(arguments, 0, arguments.length);
                    json.writeStringField("kind", call.kind().name().toLowerCase(Locale.ROOT));
                    if (call.blockedNanos().isPresent()) {
                        json.writeNumberField("blocked_ns", call.blockedNanos().getAsLong());
                    } else {
                        json.writeNullField("blocked_ns");
                    }
                    json.writeBooleanField("still_asleep", call.blockedNanos().isEmpty());
                    json.writeArrayFieldStart("java_stack");
                    for (StackTraceElement frame : call.javaStack()) {
                        json.writeString(frame.toString());
                    }
                    json.writeEndArray();
                    json.writeBooleanField("java_stack_after_wake", call.javaStackAfterWake());
                    json.writeEndObject();
                    json.writeRaw('\n');
                    json.flush();
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot write the blocking call", e);
                }
            }
        };
    }
}
