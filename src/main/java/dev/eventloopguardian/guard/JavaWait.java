package dev.eventloopguardian.guard;

import java.util.Optional;

/**
 * The kind of a futex sleep counted as a Java-level wait, as the guard program tells them apart:
 * a sleep and a park by the futex word (the thread's sleep event or its {@code Parker}), a
 * {@code wait} and a contended monitor by HotSpot's wait state. The program writes the code.
 */
public enum JavaWait {
    SLEEP, PARK, WAIT, MONITOR;

    /** The number in an event: 1 and up; {@link #NONE} for a sleep that is no Java-level wait. */
    public static final int NONE = -1;

    public int code() {
        return ordinal() + 1;
    }

    public static Optional<JavaWait> ofCode(int code) {
        return code >= 1 && code <= values().length ? Optional.of(values()[code - 1]) : Optional.empty();
    }
}
