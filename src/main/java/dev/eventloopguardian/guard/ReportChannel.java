package dev.eventloopguardian.guard;

/**
 * The maps a reporting guard writes to: the ring buffer of {@link BlockingEvent} records, and
 * an array whose slot 0 counts the events dropped because the ring buffer was full.
 */
public record ReportChannel(int ringBufferFd, int dropCounterFd) {
    /** Stand-in descriptors for printing a program that is not going to be loaded. */
    public static final ReportChannel PLACEHOLDER = new ReportChannel(-1, -1);
}
