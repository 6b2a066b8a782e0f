package dev.eventloopguardian.report;

import java.time.Instant;

/**
 * Formats instants as {@link Instant#toString()} does ({@code 2026-12-01T18:24:59.616123456Z}:
 * ISO-8601 in UTC, the fraction in groups of three digits as long as it needs, none when it is
 * zero), into a reusable buffer. The date and time of day are formatted once per second: in a
 * storm, thousands of events share them, and {@code Instant.toString} costs a formatter's walk and
 * a few objects each time.
 */
final class IsoInstant {
    /** The longest text: a 4-digit year's date and time, 9 fraction digits, the zone. */
    private final char[] text = new char[40];
    private long second = Long.MIN_VALUE;
    /** Length of the date and time of {@link #second}, up to the fraction. */
    private int secondLength;

    /** Formats the instant {@code epochNanos} after the epoch; the text is {@link #chars()} up to the returned length. */
    int format(long epochNanos) {
        long epochSecond = Math.floorDiv(epochNanos, 1_000_000_000L);
        int nano = (int) Math.floorMod(epochNanos, 1_000_000_000L);
        if (epochSecond != second) {
            String whole = Instant.ofEpochSecond(epochSecond).toString(); // "...:ssZ"
            secondLength = whole.length() - 1;
            whole.getChars(0, secondLength, text, 0);
            second = epochSecond;
        }
        int length = secondLength;
        if (nano != 0) {
            int digits = nano % 1_000_000 == 0 ? 3 : nano % 1_000 == 0 ? 6 : 9;
            int value = digits == 3 ? nano / 1_000_000 : digits == 6 ? nano / 1_000 : nano;
            text[length] = '.';
            for (int i = digits; i > 0; i--) {
                text[length + i] = (char) ('0' + value % 10);
                value /= 10;
            }
            length += digits + 1;
        }
        text[length++] = 'Z';
        return length;
    }

    char[] chars() {
        return text;
    }
}
