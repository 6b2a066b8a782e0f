package dev.eventloopguardian.guard;

/**
 * The maps a reporting guard writes to: the ring buffer of {@link BlockingEvent} and
 * {@link SleepEnd} records, an array whose slot 0 counts the records dropped because the ring
 * buffer was full, and the hash of threads whose reported sleep has not ended yet.
 */
public record ReportChannel(int ringBufferFd, int dropCounterFd, int asleepFd) {
    /** Stand-in descriptors for printing a program that is not going to be loaded. */
    public static final ReportChannel PLACEHOLDER = new ReportChannel(-1, -1, -1);
}
