package dev.eventloopguardian.jvm;

import dev.eventloopguardian.guard.JavaWait;

import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * A guarded JVM thread went to sleep where it must not: in a Java-level wait (a sleep, a park and
 * all that is built on it, {@code Object.wait}, a contended monitor) or in a blocking system call.
 *
 * @param time          when the thread went to sleep
 * @param threadName    the Java thread's name; for a virtual thread {@code virtual thread #ID on CARRIER}, with
 *                      its carrier's name (the thread dump that names it gives no virtual thread's name)
 * @param javaThreadId  the Java thread's id ({@link Thread#threadId()}): the virtual thread's, for one
 * @param virtualThread whether a virtual thread made the call, pinned to the guarded carrier thread
 *                      (a native call, a blocking system call); {@code tid} is then its carrier's
 * @param tid           the kernel's id of its native thread
 * @param kind          what kind of blocking it was
 * @param syscall       the system call it slept in, as the kernel's tables name it ({@code futex} for a
 *                      Java-level wait)
 * @param arguments     the system call's six arguments
 * @param javaStack     the thread's Java stack, innermost frame first, taken when the call was read
 *                      (within milliseconds); empty when the thread had ended
 * @param javaStackAfterWake whether {@code javaStack} was taken after the thread woke: it shows where the
 *                      thread went next (often the same code, for a call repeated in a loop), not where it
 *                      blocked; false when it was taken while the thread still slept in this call
 * @param blockedNanos  how long it was off the CPU; empty when it had not woken yet when this was reported
 */
public record BlockingCall(java.time.Instant time, String threadName, long javaThreadId, boolean virtualThread, int tid,
                           Kind kind, String syscall, long[] arguments, List<StackTraceElement> javaStack,
                           boolean javaStackAfterWake, OptionalLong blockedNanos) {
    /** What kind of blocking a call was. */
    public enum Kind {
        /** {@link Thread#sleep}. */
        SLEEP,
        /** {@code LockSupport.park} and what is built on it: locks, futures, queues. */
        PARK,
        /** {@link Object#wait}. */
        WAIT,
        /** Entering a {@code synchronized} block held by another thread. */
        MONITOR,
        /** A blocking system call: a socket or file read, a FIFO open, a native sleep. */
        SYSCALL;

        /** The kind of a sleep the guard saw as {@code wait} (empty: a sleep in a syscall). */
        static Kind of(java.util.Optional<JavaWait> wait) {
            return wait.map(javaWait -> valueOf(javaWait.name())).orElse(SYSCALL);
        }
    }

    public BlockingCall {
        Objects.requireNonNull(time);
        Objects.requireNonNull(threadName);
        Objects.requireNonNull(kind);
        Objects.requireNonNull(syscall);
        arguments = arguments.clone();
        javaStack = List.copyOf(javaStack);
    }

    @Override
    public long[] arguments() {
        return arguments.clone();
    }

    /** One line for a log: who blocked, how, how long, and in which frame. */
    @Override
    public String toString() {
        String where = javaStack.isEmpty() ? "" : (javaStackAfterWake ? ", next at " : " at ") + javaStack.getFirst();
        String length = blockedNanos.isPresent() ? " for " + blockedNanos.getAsLong() / 1_000 + " us" : ", still blocked";
        return "blocking call on " + threadName + " (tid " + tid + "): " + kind.name().toLowerCase(java.util.Locale.ROOT)
                + " in " + syscall + length + where;
    }
}
