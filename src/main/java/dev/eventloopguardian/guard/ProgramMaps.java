package dev.eventloopguardian.guard;

/**
 * The maps a guard program uses, by descriptor, inlined into it at generation. A reporting
 * guard builds each {@link BlockingEvent} in a per-CPU scratch record, then writes it to the
 * ring buffer of {@link BlockingEvent} and {@link SleepEnd} records; it counts in an array's
 * slots the records dropped because the ring buffer was full, and keeps a thread's reported
 * sleep in task storage until it ends. A guard that counts Java-level waits reads the hash from
 * a JVM thread's tid to the address of its HotSpot wait state. A descriptor is -1 where the
 * policy needs no such map.
 */
public record ProgramMaps(int ringBufferFd, int recordScratchFd, int dropCounterFd, int asleepFd, int javaThreadsFd) {
    /** Stand-in descriptors for printing a program that is not going to be loaded. */
    public static final ProgramMaps PLACEHOLDER = new ProgramMaps(-1, -1, -1, -1, -1);

    /** The maps of a guard that counts Java-level waits and does not report. */
    public static ProgramMaps javaThreadsOnly(int javaThreadsFd) {
        return new ProgramMaps(-1, -1, -1, -1, javaThreadsFd);
    }
}
