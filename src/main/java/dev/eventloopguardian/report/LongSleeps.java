package dev.eventloopguardian.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.Consumer;

/**
 * {@code --min-duration}: holds each event until its sleep has lasted the minimum, then passes
 * it on, or drops it if the thread woke first. A thread has woken once the kernel's count of
 * the times it got a CPU ({@code /proc/PID/task/TID/schedstat}, third field) passes the count
 * the program saw at the switch-out. A sleep that never ends is passed on once the minimum has
 * passed. With no minimum, every event goes straight through.
 */
final class LongSleeps implements AutoCloseable {
    static final Duration CHECK_INTERVAL = Duration.ofMillis(5);

    private record Held(NamedEvent named, long deadlineNanos) {
    }

    private final long minimumNanos;
    private final Consumer<NamedEvent> next;
    private final List<Held> held = new ArrayList<>();

    LongSleeps(Duration minimum, Consumer<NamedEvent> next) {
        this.minimumNanos = minimum.toNanos();
        this.next = next;
    }

    void add(NamedEvent named) {
        if (minimumNanos == 0) {
            next.accept(named);
        } else {
            held.add(new Held(named, named.event().monotonicNanos() + minimumNanos));
        }
    }

    boolean waiting() {
        return !held.isEmpty();
    }

    /** Passes on the sleeps that have lasted the minimum; drops those that ended sooner. */
    void check() {
        long now = System.nanoTime();
        for (Iterator<Held> it = held.iterator(); it.hasNext(); ) {
            Held sleep = it.next();
            if (woke(sleep.named())) {
                it.remove();
            } else if (now >= sleep.deadlineNanos()) {
                it.remove();
                next.accept(sleep.named());
            }
        }
    }

    private static boolean woke(NamedEvent named) {
        Path schedstat = Path.of("/proc", Integer.toString(named.event().pid()), "task",
                Integer.toString(named.event().tid()), "schedstat");
        try {
            String[] fields = Files.readString(schedstat).trim().split(" ");
            return Long.parseLong(fields[2]) > named.event().switches();
        } catch (IOException | RuntimeException gone) {
            return true; // the thread has exited: its sleep ended
        }
    }

    /** Sleeps still short of the minimum when the session ends are dropped: they did not last it. */
    @Override
    public void close() {
        held.clear();
    }
}
