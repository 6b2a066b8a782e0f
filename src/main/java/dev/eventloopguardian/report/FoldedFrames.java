package dev.eventloopguardian.report;

/**
 * Frame names as flame graphs want them: without what differs from one call of a function to the
 * next (a Java frame's line, a native frame's offset), so that the calls merge. Shared by the
 * folded stacks and the HTML report.
 */
final class FoldedFrames {
    private FoldedFrames() {
    }

    /** {@code a.B.c(B.java:12)} as {@code a.B.c}: calls of a method from other lines merge. */
    static String javaMethod(String frame) {
        int source = frame.indexOf('(');
        return source > 0 ? frame.substring(0, source) : frame;
    }

    /** {@code read+0x4c (libc.so.6)} as {@code read (libc.so.6)}; a raw address stays as it is. */
    static String function(String frame) {
        int offset = frame.indexOf("+0x");
        if (offset <= 0) {
            return frame;
        }
        int file = frame.indexOf(" (", offset);
        return frame.substring(0, offset) + (file > 0 ? frame.substring(file) : "");
    }
}
