package dev.eventloopguardian.report;

import dev.eventloopguardian.guard.BlockingEvent;

import java.time.Instant;

/** Event times are CLOCK_MONOTONIC (bpf_ktime_get_ns), as is System.nanoTime: one offset gives wall time. */
final class WallClock {
    private static final long WALL_MINUS_MONOTONIC = System.currentTimeMillis() * 1_000_000L - System.nanoTime();

    private WallClock() {
    }

    static Instant instant(BlockingEvent event) {
        return Instant.ofEpochSecond(0, event.monotonicNanos() + WALL_MINUS_MONOTONIC);
    }
}
