package dev.eventloopguardian.jvm;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * A {@link BlockingCall} in a flight recording, shown by JDK Mission Control and {@code jfr print}
 * with no setup. JFR records the stack of the thread that commits an event, which here is the
 * guardian's reader, not the thread that blocked: so that stack is off, and the blocked thread's
 * Java stack is a field of its own, one frame a line.
 */
@Name("dev.eventloopguardian.BlockingCall")
@Label("Blocking Call on a Guarded Thread")
@Category({"Java Application", "Event Loops"})
@Description("A guarded thread (an event loop) went to sleep in a Java-level wait or a blocking system call")
@StackTrace(false)
final class BlockingCallEvent extends Event {
    @Label("Thread")
    String blockedThread;

    @Label("Java Thread Id")
    long javaThreadId;

    @Label("Virtual Thread")
    @Description("Whether a virtual thread made the call, pinned to the guarded carrier thread")
    boolean virtualThread;

    @Label("Native Thread Id")
    int tid;

    @Label("Kind")
    String kind;

    @Label("System Call")
    String syscall;

    @Label("Blocked")
    @Timespan(Timespan.NANOSECONDS)
    long blocked;

    @Label("Java Stack")
    @Description("The blocked thread's Java stack, taken while it was blocked, innermost frame first")
    String javaStack;

    @Label("Java Stack Taken After Wake")
    @Description("The stack was taken after the thread woke: it shows where the thread went next, not where it blocked")
    boolean javaStackAfterWake;
}
