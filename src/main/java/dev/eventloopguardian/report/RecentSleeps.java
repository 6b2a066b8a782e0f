package dev.eventloopguardian.report;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.OptionalLong;

/**
 * The most recent sleeps, for the HTML report's timeline: at most {@code limit} of them, so that a
 * session of days or a storm of sleeps keeps a page's worth, not all. The older ones are counted
 * as left out, for the page to say so.
 */
final class RecentSleeps {
    /**
     * One sleep on the timeline: its thread, what it blocked in, when it began (monotonic) and, once
     * known, how long it lasted. A sleep written while its thread was still asleep gets its length
     * when the thread wakes, if that comes before the end of the session.
     */
    static final class Mark {
        final HtmlReport.ThreadId thread;
        final String what;
        final long startNanos;
        private long lengthNanos;
        private boolean asleep;

        Mark(HtmlReport.ThreadId thread, String what, long startNanos, OptionalLong length, boolean asleep) {
            this.thread = thread;
            this.what = what;
            this.startNanos = startNanos;
            this.lengthNanos = length.orElse(-1);
            this.asleep = asleep;
        }

        /** How long the sleep lasted, if its end was seen. */
        OptionalLong length() {
            return lengthNanos < 0 ? OptionalLong.empty() : OptionalLong.of(lengthNanos);
        }

        /** Written while its thread slept, and no end seen since: it lasted at least until the end of the session. */
        boolean asleep() {
            return asleep;
        }
    }

    private final int limit;
    private final ArrayDeque<Mark> marks;
    private long leftOut;

    RecentSleeps(int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("a timeline keeps at least one sleep, not " + limit);
        }
        this.limit = limit;
        this.marks = new ArrayDeque<>(Math.min(limit, 1024));
    }

    void add(Mark mark) {
        if (marks.size() == limit) {
            marks.removeFirst();
            leftOut++;
        }
        marks.addLast(mark);
    }

    /**
     * The sleep of {@code tid} that began at {@code startNanos} has ended, {@code nanos} later. Only
     * sleeps written while asleep get this, at most one per thread at a time: the newest of the
     * thread's marks is it, unless it has left the timeline since.
     */
    void woke(int tid, long startNanos, long nanos) {
        for (Iterator<Mark> newestFirst = marks.descendingIterator(); newestFirst.hasNext(); ) {
            Mark mark = newestFirst.next();
            if (mark.thread.tid() == tid) {
                if (mark.startNanos == startNanos) {
                    mark.lengthNanos = nanos;
                    mark.asleep = false;
                }
                return;
            }
        }
    }

    /** The sleeps kept, oldest first. */
    List<Mark> marks() {
        return List.copyOf(marks);
    }

    /** How many sleeps were left out to keep the most recent {@code limit}. */
    long leftOut() {
        return leftOut;
    }

    int limit() {
        return limit;
    }
}
