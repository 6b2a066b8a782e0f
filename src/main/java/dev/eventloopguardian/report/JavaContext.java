package dev.eventloopguardian.report;

import java.util.List;

/**
 * What the JVM a blocking event happened in says of it, through the agent the guardian loaded
 * into it: which Java thread blocked, with its stack taken while it was blocked, or that the sleep
 * was no blocking call (a virtual-thread carrier waiting for work, a frame the frameworks block
 * in by design).
 *
 * @param blocking      false when the JVM says the sleep is not a blocking call: it is not reported
 * @param threadName    the Java thread's full name; {@code virtual thread #ID on CARRIER} for a virtual thread
 * @param javaThreadId  its {@link Thread#threadId()}
 * @param virtualThread whether a virtual thread made the call, pinned to the carrier the event names
 * @param stack         its Java stack, innermost first, as {@link StackTraceElement#toString()}
 * @param stackAfterWake whether the stack was taken after the thread woke, so that it shows where the
 *                      thread went next rather than where it blocked
 */
public record JavaContext(boolean blocking, String threadName, long javaThreadId, boolean virtualThread, List<String> stack,
                          boolean stackAfterWake) {
    public JavaContext {
        stack = List.copyOf(stack);
    }

    /** The JVM says the sleep is not a blocking call. */
    public static JavaContext notBlocking() {
        return new JavaContext(false, "", 0, false, List.of(), false);
    }
}
