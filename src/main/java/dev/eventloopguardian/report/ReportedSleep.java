package dev.eventloopguardian.report;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A reported blocking sleep as a {@link SessionObserver} sees it: who slept, in what, when, for
 * how long when that was known at the time of the report, and the named stacks (the same lists
 * the report writes: an observer that keeps them keeps no copy).
 *
 * @param pid            the process
 * @param tid            the thread
 * @param execId         how many times the process had exec'd: with the pid, which program it was
 * @param thread         the thread's name as the kernel knows it (15 characters at most)
 * @param javaThread     the Java thread's full name, when its JVM told us
 * @param syscall        the syscall's name
 * @param kind           {@code syscall}, or the Java-level wait a futex sleep was: {@code sleep},
 *                       {@code park}, {@code wait} or {@code monitor}
 * @param blockedNanos   the time off the CPU, when the sleep had ended
 * @param wallEpochNanos when the thread went to sleep, in nanoseconds since the epoch; 0 when not known
 * @param stillAsleep    whether the thread was still asleep when the sleep was reported
 * @param kernelStack    the kernel stack, innermost frame first, named
 * @param userStack      the user stack, innermost frame first, named
 * @param javaStack      the Java stack its JVM gave, innermost first; empty when none did
 * @param attributes     who it belongs to, for a session that guards processes it did not start (a watch)
 */
public record ReportedSleep(int pid, int tid, long execId, String thread, Optional<String> javaThread, String syscall,
                            String kind, OptionalLong blockedNanos, long wallEpochNanos, boolean stillAsleep,
                            List<String> kernelStack, List<String> userStack, List<String> javaStack,
                            Optional<Attribution.Attributes> attributes) {
    /** A sleep known only by who slept and in what, with no time or stacks (for observers that count). */
    public ReportedSleep(int pid, int tid, long execId, String thread, Optional<String> javaThread, String syscall,
                         String kind, OptionalLong blockedNanos) {
        this(pid, tid, execId, thread, javaThread, syscall, kind, blockedNanos, 0, false, List.of(), List.of(), List.of(),
                Optional.empty());
    }

    static ReportedSleep of(NamedEvent named) {
        Optional<JavaContext> java = named.java();
        return new ReportedSleep(named.event().pid(), named.event().tid(), named.event().execId(), named.event().thread(),
                java.map(JavaContext::threadName).filter(name -> !name.isEmpty()), named.syscall(), named.kind(),
                named.blockedNanos(), named.event().wallEpochNanos(), named.stillAsleep(), named.kernelStack(),
                named.userStack(), java.map(JavaContext::stack).orElse(List.of()), named.attributes());
    }

    /**
     * One line, as the text report starts an event: {@code pid 15106 tid 15106 (python3) blocked in
     * clock_nanosleep for 100 ms}, or {@code ... still asleep}; a Java-level wait is named
     * ({@code blocked in a Java sleep, futex}).
     */
    public String describe() {
        String javaWait = kind.equals("syscall") ? "" : "a Java " + kind + ", ";
        String length = stillAsleep ? " still asleep"
                : blockedNanos.isPresent() ? " for " + TextReport.readable(blockedNanos.getAsLong()) : "";
        return "pid " + pid + " tid " + tid + " (" + thread + ") blocked in " + javaWait + syscall + length;
    }

    /** One line for the end of a sleep reported while still asleep: {@code ... woke from clock_nanosleep after 2.00 s}. */
    public String describeWake(long offCpuNanos) {
        return "pid " + pid + " tid " + tid + " (" + thread + ") woke from " + syscall + " after "
                + TextReport.readable(offCpuNanos);
    }
}
