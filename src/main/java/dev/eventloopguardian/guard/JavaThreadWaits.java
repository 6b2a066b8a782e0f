package dev.eventloopguardian.guard;

/**
 * Where a JVM thread's Java-level waits show, for the guard program to read at a futex sleep:
 * the address of its HotSpot wait state, and the memory that holds the futex words of its
 * parks (its {@code Parker}, inside its {@code JavaThread}), of its sleeps (its sleep event), and
 * of its waits in {@code Object.wait} and for a contended monitor (its park event, a
 * {@code ParkEvent} of its own). Ranges are half-open: {@code [from, to)}.
 */
public record JavaThreadWaits(long stateAddress, long parkFrom, long parkTo, long sleepFrom, long sleepTo,
                              long monitorFrom, long monitorTo) {
    /** The map value's layout: seven native-endian u64 in this order. */
    static final int BYTES = 56;
    static final int STATE_ADDRESS = 0;
    static final int PARK_FROM = 8;
    static final int PARK_TO = 16;
    static final int SLEEP_FROM = 24;
    static final int SLEEP_TO = 32;
    static final int MONITOR_FROM = 40;
    static final int MONITOR_TO = 48;
}
