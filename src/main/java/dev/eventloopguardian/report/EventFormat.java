package dev.eventloopguardian.report;

import java.io.Writer;
import java.util.Locale;

/** How blocking events are written: for people ({@code text}) or for programs ({@code json}). */
interface EventFormat extends AutoCloseable {
    void write(NamedEvent event);

    /** The thread of {@code event}, written while it was asleep, has woken {@code nanos} after it fell asleep. */
    void woke(NamedEvent event, long nanos);

    /** Writes out what is buffered: after each batch, so a storm costs one write per batch, not per event. */
    void flush();

    /** Flushes what is buffered; the writer itself belongs to the caller. */
    @Override
    void close();

    /** The formats {@link #named} knows. */
    java.util.List<String> NAMES = java.util.List.of("text", "json");

    /** The format named {@code text} or {@code json}, writing to {@code out}. */
    static EventFormat named(String name, Writer out) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "text" -> new TextReport(out);
            case "json" -> new JsonReport(out);
            default -> throw new IllegalArgumentException("unknown format '" + name + "': use text or json");
        };
    }
}
