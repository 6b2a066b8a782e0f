package dev.eventloopguardian.otlp;

import dev.eventloopguardian.guard.ReportingGuard;
import dev.eventloopguardian.guard.GuardException;

import java.util.OptionalLong;

/**
 * What the kernel could not queue, read when the metrics are collected: the guard's own counters,
 * a syscall per collection rather than work per event. Empty when they cannot be read; the
 * collection then leaves them out.
 */
public interface GuardDrops {
    /** Blocking sleeps the kernel could not queue because the ring buffer was full. */
    OptionalLong droppedEvents();

    /** Ends of reported sleeps the kernel could not queue. */
    OptionalLong droppedSleepEnds();

    /** The drops {@code guard} counts; it must stay open until the export that reads them is closed. */
    static GuardDrops of(ReportingGuard guard) {
        return new GuardDrops() {
            @Override
            public OptionalLong droppedEvents() {
                try {
                    return OptionalLong.of(guard.droppedEvents());
                } catch (GuardException e) {
                    return OptionalLong.empty();
                }
            }

            @Override
            public OptionalLong droppedSleepEnds() {
                try {
                    return OptionalLong.of(guard.droppedEnds());
                } catch (GuardException e) {
                    return OptionalLong.empty();
                }
            }
        };
    }
}
