package dev.eventloopguardian.report;

import java.io.IOException;
import java.io.Writer;
import java.util.Arrays;
import java.util.List;

/**
 * JSON Lines built in one reusable character buffer, for a report that writes many lines a
 * second: a line costs no allocation (numbers are written two digits at a time, strings copied
 * in place), and the buffer goes to its writer in one call per batch instead of one per field.
 * Strings are escaped as Jackson's generator escapes them by default (a quote, a backslash and
 * control characters; nothing else), so lines are the same, byte for byte, as before.
 *
 * <p>Objects are flat apart from arrays of numbers and strings, the report's shape; the caller
 * keeps names and nesting right, as with a streaming generator.
 */
final class JsonLineBuffer {
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();
    /** The tens and ones digits of 0 to 99. */
    private static final char[] TENS = new char[100];
    private static final char[] ONES = new char[100];
    /** Whether a character below 128 must be escaped, and how: 0 not, 'u' as a six-character escape of its hex code, else after a backslash. */
    private static final char[] ESCAPES = new char[128];

    static {
        for (int i = 0; i < 100; i++) {
            TENS[i] = (char) ('0' + i / 10);
            ONES[i] = (char) ('0' + i % 10);
        }
        for (int c = 0; c < 0x20; c++) {
            ESCAPES[c] = 'u';
        }
        ESCAPES['"'] = '"';
        ESCAPES['\\'] = '\\';
        ESCAPES['\b'] = 'b';
        ESCAPES['\t'] = 't';
        ESCAPES['\f'] = 'f';
        ESCAPES['\n'] = 'n';
        ESCAPES['\r'] = 'r';
    }

    /** What the buffer keeps between batches: a batch of a storm is tens of lines of a few hundred characters. */
    private static final int KEPT_CAPACITY = 64 * 1024;

    private char[] chars;
    /** Where {@link #number} writes its digits, last first. */
    private final char[] digits = new char[20];
    private int length;
    /** Whether the next field or element needs a comma before it. */
    private boolean comma;

    int length() {
        return length;
    }

    /** Passes what is buffered to {@code out} in one write and empties the buffer. */
    void writeTo(Writer out) throws IOException {
        if (length > 0) {
            out.write(chars, 0, length);
            length = 0;
        }
        if (chars.length > KEPT_CAPACITY) {
            chars = new char[KEPT_CAPACITY]; // a burst grew it: give the memory back
        }
    }

    void startObject() {
        separate();
        append('{');
        comma = false;
    }

    /** Ends the object, and the line with it when it is the outermost. */
    void endObject() {
        append('}');
        comma = true;
    }

    void endLine() {
        append('\n');
        comma = false;
    }

    void field(String name, String value) {
        name(name);
        string(value);
    }

    void field(String name, long value) {
        name(name);
        number(value);
    }

    void field(String name, boolean value) {
        name(name);
        raw(value ? "true" : "false");
    }

    void nullField(String name) {
        name(name);
        raw("null");
    }

    void field(String name, long[] values) {
        name(name);
        append('[');
        for (int i = 0; i < values.length; i++) {
            if (i > 0) {
                append(',');
            }
            number(values[i]);
        }
        append(']');
        comma = true;
    }

    void field(String name, List<String> values) {
        name(name);
        array(values);
    }

    /**
     * A field whose value was written before by {@link #arrayText}: a report repeats a few
     * stacks, and their escaped text is kept rather than made again for each line.
     */
    void fieldWithText(String name, char[] json) {
        name(name);
        append(json, json.length);
        comma = true;
    }

    /** {@code values} as a JSON array of strings, for {@link #fieldWithText}. */
    static char[] arrayText(List<String> values) {
        JsonLineBuffer text = new JsonLineBuffer(values.size() * 48 + 2);
        text.array(values);
        return Arrays.copyOf(text.chars, text.length);
    }

    JsonLineBuffer() {
        this(KEPT_CAPACITY);
    }

    private JsonLineBuffer(int capacity) {
        this.chars = new char[capacity];
    }

    private void array(List<String> values) {
        append('[');
        for (int i = 0; i < values.size(); i++) {
            if (i > 0) {
                append(',');
            }
            string(values.get(i));
        }
        append(']');
        comma = true;
    }

    private void name(String name) {
        separate();
        string(name);
        append(':');
    }

    private void separate() {
        if (comma) {
            append(',');
        }
    }

    /** A quoted, escaped string: copied whole, then escaped only if a character needs it (rare). */
    private void string(String value) {
        int n = value.length();
        ensure(n + 2);
        chars[length++] = '"';
        int start = length;
        value.getChars(0, n, chars, start);
        for (int i = start; i < start + n; i++) {
            char c = chars[i];
            if (c < 128 && ESCAPES[c] != 0) {
                length = start;
                escaped(value);
                return;
            }
        }
        length = start + n;
        chars[length++] = '"';
        comma = true;
    }

    private void escaped(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            char escape = c < 128 ? ESCAPES[c] : 0;
            if (escape == 0) {
                append(c);
            } else if (escape == 'u') {
                ensure(6);
                chars[length++] = '\\';
                chars[length++] = 'u';
                chars[length++] = '0';
                chars[length++] = '0';
                chars[length++] = HEX[c >> 4];
                chars[length++] = HEX[c & 0xf];
            } else {
                append('\\');
                append(escape);
            }
        }
        append('"');
        comma = true;
    }

    /** A long in decimal, written without making a String: two digits per division, from the end. */
    private void number(long value) {
        if (value == Long.MIN_VALUE) {
            raw(Long.toString(value)); // its magnitude has no positive long
            return;
        }
        ensure(20);
        if (value < 0) {
            chars[length++] = '-';
            value = -value;
        }
        int position = digits.length;
        while (value >= 100) {
            long quotient = value / 100;
            int pair = (int) (value - quotient * 100);
            digits[--position] = ONES[pair];
            digits[--position] = TENS[pair];
            value = quotient;
        }
        int last = (int) value;
        digits[--position] = ONES[last];
        if (last >= 10) {
            digits[--position] = TENS[last];
        }
        int count = digits.length - position;
        System.arraycopy(digits, position, chars, length, count);
        length += count;
        comma = true;
    }

    /** A string field whose {@code count} characters of {@code text} need no escaping: a time formatted in place. */
    void field(String name, char[] text, int count) {
        name(name);
        append('"');
        append(text, count);
        append('"');
        comma = true;
    }

    private void raw(String text) {
        int n = text.length();
        ensure(n);
        text.getChars(0, n, chars, length);
        length += n;
        comma = true;
    }

    private void append(char[] text, int count) {
        ensure(count);
        System.arraycopy(text, 0, chars, length, count);
        length += count;
    }

    private void append(char c) {
        ensure(1);
        chars[length++] = c;
    }

    private void ensure(int more) {
        if (length + more > chars.length) {
            chars = Arrays.copyOf(chars, Math.max(chars.length * 2, length + more));
        }
    }
}
