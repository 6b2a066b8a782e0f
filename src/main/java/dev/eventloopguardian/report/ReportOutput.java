package dev.eventloopguardian.report;

import dev.eventloopguardian.text.IoReason;

import java.io.IOException;
import java.io.Writer;
import java.util.Optional;

/**
 * A destination of the report that never throws. A report that cannot be written (a full disk,
 * a reader that went away) must not stop the session, let alone the command it watches: the
 * first failure is kept, what follows is dropped, and the events that did not get through are
 * counted, so that the session can say once what was lost and why.
 *
 * <p>Events are counted as written only once a flush has passed them to the destination: a
 * failure loses the events still buffered since the last good flush, and every one after.
 */
final class ReportOutput extends Writer {
    private final String name;
    private final Writer target;
    private IOException failure;
    private long unflushedEvents;
    private long lostEvents;

    /** {@code name} says where {@code target} writes, for messages: "stderr", "--output events.jsonl". */
    ReportOutput(String name, Writer target) {
        this.name = name;
        this.target = target;
    }

    @Override
    public void write(char[] characters, int offset, int length) {
        if (failure == null) {
            try {
                target.write(characters, offset, length);
            } catch (IOException e) {
                fail(e);
            }
        }
    }

    /** One event has been written in full (to the buffer, at least). */
    void eventWritten() {
        if (failure == null) {
            unflushedEvents++;
        } else {
            lostEvents++;
        }
    }

    @Override
    public void flush() {
        if (failure == null) {
            try {
                target.flush();
                unflushedEvents = 0;
            } catch (IOException e) {
                fail(e);
            }
        }
    }

    private void fail(IOException e) {
        failure = e;
        lostEvents += unflushedEvents;
        unflushedEvents = 0;
    }

    /** Whether everything written so far got through. */
    boolean intact() {
        return failure == null;
    }

    /** Events that did not get through. */
    long lostEvents() {
        return lostEvents;
    }

    /** Why writing stopped, as one line for the user, or empty while it has not. */
    Optional<String> failure() {
        return Optional.ofNullable(failure).map(e -> "cannot write to " + name + ": " + IoReason.of(e));
    }

    /** Flushes; the target belongs to the caller, who closes it. */
    @Override
    public void close() {
        flush();
    }
}
