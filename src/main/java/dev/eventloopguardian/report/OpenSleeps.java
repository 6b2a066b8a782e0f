package dev.eventloopguardian.report;

import dev.eventloopguardian.guard.BlockingEvent;
import dev.eventloopguardian.guard.SleepEnd;
import dev.eventloopguardian.guard.ThreadSwitches;

import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.function.IntConsumer;

/**
 * Reported sleeps whose end is not known yet. Each event waits here for the record that ends its
 * sleep (the program writes it when the thread is next switched out), so that it is passed on
 * with its length, or dropped when {@code --min-duration} asks for longer sleeps. It waits until
 * a deadline at most: the minimum duration, or {@link #HOLD} without one. A thread still asleep
 * then is passed on as such (a hang is reported once the minimum has passed), and its wake-up
 * follows when the end comes.
 *
 * <p>Whether a thread is still asleep comes from the kernel's count of the times it got a CPU
 * ({@code /proc/PID/task/TID/schedstat}, third field): it is asleep while the count is the one
 * the program saw at the switch-out.
 */
final class OpenSleeps implements AutoCloseable {
    static final Duration CHECK_INTERVAL = Duration.ofMillis(5);
    /** Without a minimum, how long an event waits for its sleep to end before it is written anyway. */
    static final Duration HOLD = Duration.ofSeconds(1);
    private static final long HOLD_NANOS = HOLD.toNanos(); // every event reads it

    private enum Thread { ASLEEP, RAN, GONE }

    private record Open(NamedEvent named, long deadlineNanos) {
    }

    /** Where the sleeps go once what is known of them is enough. */
    interface Output {
        /** A sleep that lasted the minimum, with its length if it has ended; false when it was left out. */
        boolean sleep(NamedEvent named);

        /** A sleep passed on while the thread was asleep has ended, {@code nanos} after it began. */
        void woke(NamedEvent named, long nanos);
    }

    private final long minimumNanos;
    private final Output next;
    private final IntConsumer forget;
    private final Map<Integer, Open> byTid = new LinkedHashMap<>();
    /** Sleeps passed on while asleep, by tid, for their wake-up: one per thread at most. */
    private final Map<Integer, NamedEvent> passedAsleep = new HashMap<>();

    /**
     * Passes sleeps that last {@code minimum} or longer on to {@code next}; {@code forget} is told
     * the tid of a thread that exited with its sleep open, whose end will never come.
     */
    OpenSleeps(Duration minimum, Output next, IntConsumer forget) {
        this.minimumNanos = minimum.toNanos();
        this.next = next;
        this.forget = forget;
    }

    void add(NamedEvent named) {
        BlockingEvent event = named.event();
        passedAsleep.remove(event.tid()); // asleep again: the earlier sleep's end was lost
        // ReportSettings keeps the minimum to a day, so the deadline below cannot overflow.
        long wait = minimumNanos > 0 ? minimumNanos : HOLD_NANOS;
        Open earlier = byTid.put(event.tid(), new Open(named, event.monotonicNanos() + wait));
        if (earlier != null) {
            endUnknown(earlier); // its end record was lost: the ring buffer or the kernel's table was full
        }
    }

    void ended(SleepEnd end) {
        Open open = byTid.get(end.tid());
        if (open != null && open.named().event().monotonicNanos() == end.sleepStartNanos()) {
            byTid.remove(end.tid());
            if (end.offCpuNanos() >= minimumNanos) {
                next.sleep(open.named().lasting(end.offCpuNanos()));
            }
            return;
        }
        NamedEvent asleep = passedAsleep.get(end.tid());
        if (asleep != null && asleep.event().monotonicNanos() == end.sleepStartNanos()) {
            passedAsleep.remove(end.tid());
            next.woke(asleep, end.offCpuNanos());
        }
    }

    boolean waiting() {
        return !byTid.isEmpty();
    }

    /** Passes on, or drops, the sleeps whose deadline has passed. */
    void check() {
        long now = System.nanoTime();
        for (Iterator<Open> it = byTid.values().iterator(); it.hasNext(); ) {
            Open open = it.next();
            if (now < open.deadlineNanos()) {
                continue;
            }
            switch (state(open.named().event())) {
                case ASLEEP -> {
                    it.remove();
                    passOnAsleep(open.named());
                }
                case GONE -> {
                    it.remove();
                    forget.accept(open.named().event().tid());
                    endUnknown(open);
                }
                case RAN -> {
                    // Woke, and has not been switched out since: its end record comes when it is.
                    if (minimumNanos == 0) {
                        it.remove();
                        next.sleep(open.named());
                    }
                }
            }
        }
    }

    private void passOnAsleep(NamedEvent named) {
        if (next.sleep(named.whileAsleep())) {
            passedAsleep.put(named.event().tid(), named);
        }
    }

    /** A sleep that ended at a time we do not know: kept without a minimum, else it may have been too short. */
    private void endUnknown(Open open) {
        if (minimumNanos == 0) {
            next.sleep(open.named());
        }
    }

    private static Thread state(BlockingEvent event) {
        OptionalLong switches = ThreadSwitches.of(event.pid(), event.tid());
        if (switches.isEmpty()) {
            return Thread.GONE;
        }
        return switches.getAsLong() > event.switches() ? Thread.RAN : Thread.ASLEEP;
    }

    /**
     * At the end of the session: a thread still asleep past the minimum is passed on as asleep;
     * the others as ending at an unknown time.
     */
    void passOnTheRest() {
        long now = System.nanoTime();
        for (Open open : byTid.values()) {
            boolean asleep = state(open.named().event()) == Thread.ASLEEP;
            if (asleep && now - open.named().event().monotonicNanos() >= minimumNanos) {
                next.sleep(open.named().whileAsleep());
            } else if (!asleep) {
                endUnknown(open);
            }
        }
        byTid.clear();
        passedAsleep.clear();
    }

    @Override
    public void close() {
        byTid.clear();
        passedAsleep.clear();
    }
}
