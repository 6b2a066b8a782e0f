package dev.eventloopguardian.guard;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A thread-name pattern compiled for the kernel: the 16 bytes of {@code comm} to compare, and a
 * mask of the bytes that matter. The kernel keeps 15 characters of a name (a JVM thread
 * {@code vert.x-eventloop-thread-0} is {@code vert.x-eventloo} there), so longer patterns are
 * cut to 15 characters and then match as a prefix. {@code ?} matches any one character and a
 * {@code *} may end the pattern; a {@code *} elsewhere would need a loop the program does not have.
 * Other glob syntax ({@code [...]}, <code>{...}</code>, {@code \}) is refused rather than taken
 * literally: no thread is named {@code python[3]}, and a pattern that matches nothing guards
 * nothing, in silence.
 */
public record ThreadPattern(String glob, byte[] value, byte[] mask) {
    public static final int COMM_BYTES = 16;
    private static final int NAME_CHARACTERS = COMM_BYTES - 1;

    /** Glob syntax that shells and fnmatch(3) know and we do not: better refused than matched literally. */
    private static final String UNSUPPORTED_SYNTAX = "[]{}\\";
    private static final String SUPPORTED = "only a trailing * (any rest) and ? (any one character) are supported, "
            + "e.g. 'vert.x-eventloo*'";

    public static ThreadPattern parse(String glob) {
        if (glob.isEmpty()) {
            throw new IllegalArgumentException("an empty thread-name pattern matches no thread: give a name or a prefix, "
                    + "e.g. 'vert.x-eventloo*'");
        }
        if (glob.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("thread-name pattern '" + glob.replace("\0", "\\0") + "' holds a NUL "
                    + "byte, which no thread name can hold: remove it");
        }
        for (char c : UNSUPPORTED_SYNTAX.toCharArray()) {
            if (glob.indexOf(c) >= 0) {
                throw new IllegalArgumentException("thread-name pattern '" + glob + "': " + c + " is glob syntax we do not "
                        + "implement; " + SUPPORTED);
            }
        }
        int star = glob.indexOf('*');
        if (star >= 0 && star != glob.length() - 1) {
            throw new IllegalArgumentException("thread-name pattern '" + glob + "': " + SUPPORTED);
        }
        String literal = star >= 0 ? glob.substring(0, star) : glob;
        byte[] bytes = literal.getBytes(StandardCharsets.UTF_8);
        boolean prefix = star >= 0 || bytes.length > NAME_CHARACTERS;
        int compared = Math.min(bytes.length, NAME_CHARACTERS);
        byte[] value = new byte[COMM_BYTES];
        byte[] mask = new byte[COMM_BYTES];
        for (int i = 0; i < compared; i++) {
            if (bytes[i] != '?') {
                value[i] = bytes[i];
                mask[i] = (byte) 0xff;
            }
        }
        if (!prefix) {
            Arrays.fill(mask, compared, COMM_BYTES, (byte) 0xff); // the name ends here: NUL padding follows
        }
        return new ThreadPattern(glob, value, mask);
    }

    /** Whether {@code name}, as the kernel keeps it, matches; the program's decision, in Java. */
    public boolean matches(String name) {
        byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        byte[] comm = Arrays.copyOf(bytes, COMM_BYTES);
        Arrays.fill(comm, Math.min(NAME_CHARACTERS, bytes.length), COMM_BYTES, (byte) 0);
        for (int i = 0; i < COMM_BYTES; i++) {
            if ((comm[i] & mask[i]) != value[i]) {
                return false;
            }
        }
        return true;
    }

    /** The {@code index}th 8 bytes of the value or the mask, as the program loads them (little-endian). */
    long word(byte[] bytes, int index) {
        long word = 0;
        for (int i = 7; i >= 0; i--) {
            word = word << 8 | (bytes[8 * index + i] & 0xffL);
        }
        return word;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ThreadPattern that && glob.equals(that.glob);
    }

    @Override
    public int hashCode() {
        return glob.hashCode();
    }
}
