package dev.eventloopguardian.guard;

import dev.eventloopguardian.bpf.Program;
import dev.eventloopguardian.bpf.ProgramInfo;
import dev.eventloopguardian.bpf.RingBuffer;

/**
 * A loaded guard whose program reports: what a report session reads from it, whichever way it
 * is attached (a perf event per thread, {@link Guard}; the host's every switch, {@link HostWatch}).
 */
public interface ReportingGuard {
    /** Reads the guard's records: {@code listener} gets each as the returned reader polls. */
    RingBuffer events(Guard.SleepListener listener) throws GuardException;

    /** Events the kernel could not queue because the ring buffer was full. */
    long droppedEvents() throws GuardException;

    /** Ends of reported sleeps the kernel could not queue: those sleeps are reported without their length. */
    long droppedEnds() throws GuardException;

    /** The program that decides, as generated. */
    Program program();

    /** The kernel's statistics for the program (run counts need kernel.bpf_stats_enabled=1). */
    ProgramInfo info() throws GuardException;

    /**
     * How many processes the guard decides for now, for one that watches by rules; empty for one
     * attached to the threads of the processes it guards.
     */
    default java.util.OptionalInt processesWatched() throws GuardException {
        return java.util.OptionalInt.empty();
    }

    /** Sleeps counted and not written, each process's budget of events being spent, by pid: those with some. */
    default java.util.Map<Integer, Long> suppressed() throws GuardException {
        return java.util.Map.of();
    }
}
