package dev.eventloopguardian.report;

/**
 * What a report session tells those who follow it besides its report, metrics for one: what it
 * guards, and each blocking sleep it reports. Called on the session's own thread; an observer
 * that is read from other threads (a scrape) keeps its own state safe for them.
 */
public interface SessionObserver {
    /** Follows nothing. */
    SessionObserver NONE = new SessionObserver() {
    };

    /**
     * The guard is attached to process {@code pid}: to all its threads, and to the threads and
     * processes they create, when {@code inherited}; to its main thread alone otherwise.
     */
    default void guarding(long pid, boolean inherited) {
    }

    /** The guard is no longer attached: the process exited, or the session detached it. */
    default void detached() {
    }

    /** A blocking sleep was reported (counted in the summary), with its length when it had ended. */
    default void reported(ReportedSleep sleep) {
    }

    /** A sleep reported while its thread was still asleep has ended, {@code offCpuNanos} after it began. */
    default void woke(ReportedSleep sleep, long offCpuNanos) {
    }
}
