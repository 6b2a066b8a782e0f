package dev.eventloopguardian.report;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.eventloopguardian.guard.BlockingEvent;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * What {@code --html} shows, gathered as the session's sleeps pass and written as one page at the
 * end ({@link HtmlPage}): the stacks counted, for the flame graph; the most recent
 * {@value #TIMELINE_LIMIT} sleeps, for the timeline; and counts and time blocked by syscall and by
 * thread, for the tables.
 *
 * <p>Its memory is bounded as the summary's is: by the distinct stacks and threads seen, and by
 * the timeline's limit; never by the number of sleeps. Only a session given {@code --html} makes
 * one, so none of this is loaded otherwise.
 */
final class HtmlReport {
    /** The timeline's sleeps: enough to see a session's pattern; a browser draws them at once. */
    static final int TIMELINE_LIMIT = 10_000;
    /** The page's data, as the page's script reads it; a change of meaning gets a new version. */
    static final String SCHEMA = "eventloop-guardian/html-report/1";
    /** The note under the Java frames of a stack the JVM took once the thread had woken. */
    static final String AFTER_WAKE = "the Java frames above were taken after the thread woke: where it went next";

    /** A thread as the timeline's rows and the table tell threads apart: a tid, in its process, by its name then. */
    record ThreadId(int pid, int tid, String name) {
    }

    private record StackKey(String thread, String what, List<String> java, boolean javaAfterWake, List<String> user,
                            List<String> kernel) {
    }

    /** A stack with its frames named as the flame graph draws them: stacks that differ only in offsets or lines merge. */
    private record FoldedStack(String thread, String what, List<Integer> frames) {
    }

    private record Frame(String name, String kind) {
    }

    /** Sleeps counted under one heading, and what is known of how long they lasted. */
    private static final class Tally {
        long sleeps;
        long withLength;
        long blockedNanos;
        long longestNanos;
        /** For a thread, its Java name, when its JVM told: the kernel's name is cut to 15 characters. */
        String javaName;

        void count(OptionalLong length) {
            sleeps++;
            length.ifPresent(this::lasted);
        }

        void lasted(long nanos) {
            withLength++;
            blockedNanos += nanos;
            longestNanos = Math.max(longestNanos, nanos);
        }

        void add(Tally other) {
            sleeps += other.sleeps;
            withLength += other.withLength;
            blockedNanos += other.blockedNanos;
            longestNanos = Math.max(longestNanos, other.longestNanos);
        }
    }

    private final long startNanos;
    private final long startEpochMillis;
    private final Map<StackKey, Tally> stacks = new LinkedHashMap<>();
    private final Map<ThreadId, Tally> threads = new LinkedHashMap<>();
    private final Map<String, Tally> syscalls = new LinkedHashMap<>();
    private final RecentSleeps timeline;
    private long sleeps;

    /** A report of the session starting now. */
    HtmlReport() {
        this(TIMELINE_LIMIT, System.nanoTime(), System.currentTimeMillis());
    }

    /**
     * A report whose timeline keeps {@code timelineLimit} sleeps, of a session that began at
     * {@code startNanos} on the monotonic clock (the events' clock), {@code startEpochMillis} by the wall clock.
     */
    HtmlReport(int timelineLimit, long startNanos, long startEpochMillis) {
        this.timeline = new RecentSleeps(timelineLimit);
        this.startNanos = startNanos;
        this.startEpochMillis = startEpochMillis;
    }

    /**
     * {@code writer}, with this report hearing each sleep it keeps (counted in the summary and
     * written) and each wake-up it is told of: where a session's sleeps pass.
     */
    OpenSleeps.Output after(OpenSleeps.Output writer) {
        return new OpenSleeps.Output() {
            @Override
            public boolean sleep(NamedEvent named) {
                boolean kept = writer.sleep(named);
                if (kept) {
                    HtmlReport.this.sleep(named);
                }
                return kept;
            }

            @Override
            public void woke(NamedEvent named, long nanos) {
                writer.woke(named, nanos);
                HtmlReport.this.woke(named, nanos);
            }
        };
    }

    /** A sleep the report counts, with its length if it has ended. */
    void sleep(NamedEvent named) {
        BlockingEvent event = named.event();
        OptionalLong length = named.blockedNanos();
        ThreadId thread = new ThreadId(event.pid(), event.tid(), event.thread());
        sleeps++;
        tally(stacks, stackKey(named)).count(length);
        Tally threadTally = tally(threads, thread);
        threadTally.count(length);
        named.java().ifPresent(java -> threadTally.javaName = java.threadName());
        tally(syscalls, named.what()).count(length);
        timeline.add(new RecentSleeps.Mark(thread, named.what(), event.monotonicNanos(), length, named.stillAsleep()));
    }

    /** A sleep counted while its thread was asleep has ended, {@code nanos} after it began. */
    void woke(NamedEvent named, long nanos) {
        BlockingEvent event = named.event();
        // Each was counted by sleep(); a Java stack that came in since makes another stack key, left without the length.
        lasted(stacks.get(stackKey(named)), nanos);
        lasted(threads.get(new ThreadId(event.pid(), event.tid(), event.thread())), nanos);
        lasted(syscalls.get(named.what()), nanos);
        timeline.woke(event.tid(), event.monotonicNanos(), nanos);
    }

    private static void lasted(Tally tally, long nanos) {
        if (tally != null) {
            tally.lasted(nanos);
        }
    }

    private static <K> Tally tally(Map<K, Tally> tallies, K key) {
        return tallies.computeIfAbsent(key, counted -> new Tally());
    }

    private static StackKey stackKey(NamedEvent named) {
        List<String> java = named.java().map(JavaContext::stack).orElse(List.of());
        boolean afterWake = named.java().map(JavaContext::stackAfterWake).orElse(false);
        return new StackKey(named.event().thread(), named.what(), java, afterWake, named.userStack(), named.kernelStack());
    }

    /**
     * Writes the page, the report's state as it is now, to {@code out}, a {@link ReportOutput} that
     * keeps a failure to itself; {@code dropped} sleeps the kernel could not queue.
     */
    void write(Writer out, long dropped) {
        try {
            HtmlPage.write(out, json(dropped, System.nanoTime()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the HTML report", e);
        }
    }

    /** The page's data ({@value #SCHEMA}), as of {@code nowNanos} on the monotonic clock. */
    String json(long dropped, long nowNanos) {
        StringWriter text = new StringWriter();
        try (JsonGenerator json = new JsonFactory().createGenerator(text)) {
            json.writeStartObject();
            json.writeStringField("schema", SCHEMA);
            json.writeStringField("startedAt", Instant.ofEpochMilli(startEpochMillis).toString());
            json.writeNumberField("startedAtEpochMs", startEpochMillis);
            json.writeNumberField("endNs", nowNanos - startNanos);
            json.writeNumberField("sleeps", sleeps);
            json.writeNumberField("dropped", dropped);
            Map<String, Integer> syscallIndex = writeTallies(json, "syscalls", syscalls,
                    (out, syscall, tally) -> out.writeStringField("name", syscall));
            Map<ThreadId, Integer> threadIndex = writeTallies(json, "threads", threads, HtmlReport::writeThread);
            writeStacks(json);
            writeTimeline(json, syscallIndex, threadIndex);
            json.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException("a StringWriter does not fail", e);
        }
        return text.toString();
    }

    /** What an entry of a table writes before its tally: its name, and for a thread its ids. */
    @FunctionalInterface
    private interface Heading<K> {
        void write(JsonGenerator json, K key, Tally tally) throws IOException;
    }

    /** Writes {@code tallies} as the array {@code field}; returns each key's index in it, for the timeline. */
    private static <K> Map<K, Integer> writeTallies(JsonGenerator json, String field, Map<K, Tally> tallies, Heading<K> heading)
            throws IOException {
        Map<K, Integer> index = new HashMap<>();
        json.writeArrayFieldStart(field);
        for (Map.Entry<K, Tally> entry : tallies.entrySet()) {
            index.put(entry.getKey(), index.size());
            json.writeStartObject();
            heading.write(json, entry.getKey(), entry.getValue());
            writeTally(json, entry.getValue());
            json.writeEndObject();
        }
        json.writeEndArray();
        return index;
    }

    private static void writeThread(JsonGenerator json, ThreadId thread, Tally tally) throws IOException {
        json.writeStringField("name", thread.name());
        json.writeNumberField("pid", thread.pid());
        json.writeNumberField("tid", thread.tid());
        if (tally.javaName != null) {
            json.writeStringField("javaName", tally.javaName);
        }
    }

    private static void writeTally(JsonGenerator json, Tally tally) throws IOException {
        json.writeNumberField("sleeps", tally.sleeps);
        json.writeNumberField("withLength", tally.withLength);
        json.writeNumberField("blockedNs", tally.blockedNanos);
        json.writeNumberField("longestNs", tally.longestNanos);
    }

    /**
     * The stacks, root first as the flame graph draws them: the Java frames, then the user frames,
     * then the kernel's, each outermost first, as in the folded stacks. A Java stack the JVM took
     * after the thread woke shows where it went next, not where it blocked: a note under its Java
     * frames says so. In a loop that is mostly the same code, whose frames then merge with those
     * taken while it blocked. Frames are written once, in a table the stacks refer to by index.
     */
    private void writeStacks(JsonGenerator json) throws IOException {
        Map<Frame, Integer> frameIndex = new LinkedHashMap<>();
        Map<FoldedStack, Tally> folded = new LinkedHashMap<>();
        stacks.forEach((stack, tally) -> {
            List<Integer> frames = new ArrayList<>();
            stack.java().reversed().forEach(frame -> frames.add(index(frameIndex, javaMethod(frame), "java")));
            if (stack.javaAfterWake()) {
                frames.add(index(frameIndex, AFTER_WAKE, "note"));
            }
            stack.user().reversed().forEach(frame -> frames.add(index(frameIndex, FoldedFrames.function(frame),
                    frame.endsWith(" (jit)") ? "jit" : "native")));
            stack.kernel().reversed().forEach(frame -> frames.add(index(frameIndex, FoldedFrames.function(frame), "kernel")));
            tally(folded, new FoldedStack(stack.thread(), stack.what(), frames)).add(tally);
        });
        json.writeArrayFieldStart("frames");
        for (Frame frame : frameIndex.keySet()) {
            json.writeStartArray();
            json.writeString(frame.name());
            json.writeString(frame.kind());
            json.writeEndArray();
        }
        json.writeEndArray();
        json.writeArrayFieldStart("stacks");
        for (Map.Entry<FoldedStack, Tally> stack : folded.entrySet()) {
            json.writeStartObject();
            json.writeStringField("thread", stack.getKey().thread());
            json.writeStringField("what", stack.getKey().what());
            json.writeArrayFieldStart("frames");
            for (int frame : stack.getKey().frames()) {
                json.writeNumber(frame);
            }
            json.writeEndArray();
            writeTally(json, stack.getValue());
            json.writeEndObject();
        }
        json.writeEndArray();
    }

    /**
     * A Java frame as a box has room for it: its class and method, without its line, nor the class
     * loader and module {@link StackTraceElement#toString()} puts first ({@code app//a.B.c},
     * {@code java.base@25/java.lang.Thread.sleep}). A hidden class's name has a slash of its own,
     * followed by its address ({@code a.B$$Lambda/0x0000000801001234.run}), which stays.
     */
    static String javaMethod(String frame) {
        String method = FoldedFrames.javaMethod(frame);
        for (int slash = method.lastIndexOf('/'); slash >= 0; slash = method.lastIndexOf('/', slash - 1)) {
            if (!method.startsWith("0x", slash + 1)) {
                return method.substring(slash + 1);
            }
        }
        return method;
    }

    private static int index(Map<Frame, Integer> index, String name, String kind) {
        return index.computeIfAbsent(new Frame(name, kind), frame -> index.size());
    }

    /** The timeline's sleeps, oldest first: thread, syscall, start and length in ns (null when not known), asleep at the end. */
    private void writeTimeline(JsonGenerator json, Map<String, Integer> syscallIndex, Map<ThreadId, Integer> threadIndex)
            throws IOException {
        json.writeObjectFieldStart("timeline");
        json.writeNumberField("limit", timeline.limit());
        json.writeNumberField("leftOut", timeline.leftOut());
        json.writeArrayFieldStart("marks");
        for (RecentSleeps.Mark mark : timeline.marks()) {
            json.writeStartArray();
            json.writeNumber(threadIndex.get(mark.thread));
            json.writeNumber(syscallIndex.get(mark.what));
            json.writeNumber(mark.startNanos - startNanos);
            if (mark.length().isPresent()) {
                json.writeNumber(mark.length().getAsLong());
            } else {
                json.writeNull();
            }
            json.writeBoolean(mark.asleep());
            json.writeEndArray();
        }
        json.writeEndArray();
        json.writeEndObject();
    }
}
