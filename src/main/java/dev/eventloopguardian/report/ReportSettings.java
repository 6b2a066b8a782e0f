package dev.eventloopguardian.report;

import java.io.PrintWriter;
import java.io.Writer;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * How a session reports: events in {@code format} to {@code events}, our own notes and the
 * summary to {@code notes}, folded stacks to {@code folded} and the HTML report to {@code html} at
 * the end, and only sleeps that last {@code minDuration} or longer; {@code observer} follows the
 * session (metrics); {@code attribution} says who each event belongs to, for a session that
 * guards processes it did not start. The writers belong to the caller.
 */
public record ReportSettings(String format, Destination events, PrintWriter notes, Optional<Destination> folded,
                             Optional<Destination> html, Duration minDuration, SessionObserver observer,
                             Attribution attribution) {
    /** Where part of the report goes, and how to name it in a message ("stderr", "--output FILE"). */
    public record Destination(String name, Writer writer) {
        public Destination {
            Objects.requireNonNull(name);
            Objects.requireNonNull(writer);
        }
    }

    /** The output formats, for option validation and help. */
    public static final List<String> FORMATS = EventFormat.NAMES;
    /**
     * The longest minimum: a day is longer than any sleep worth a report's wait, and keeps an
     * event's deadline (its start in monotonic nanoseconds plus the minimum) far from overflow.
     */
    public static final Duration LONGEST_MIN_DURATION = Duration.ofHours(24);

    public ReportSettings {
        Objects.requireNonNull(events);
        Objects.requireNonNull(notes);
        Objects.requireNonNull(observer);
        Objects.requireNonNull(attribution);
        if (!FORMATS.contains(format)) {
            throw new IllegalArgumentException("unknown format '" + format + "': use one of " + String.join(", ", FORMATS));
        }
        if (minDuration.isNegative() || minDuration.compareTo(LONGEST_MIN_DURATION) > 0) {
            throw new IllegalArgumentException("a minimum duration goes from 0 to " + LONGEST_MIN_DURATION.toHours()
                    + " hours, not " + minDuration);
        }
    }
}
