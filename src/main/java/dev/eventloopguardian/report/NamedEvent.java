package dev.eventloopguardian.report;

import dev.eventloopguardian.guard.BlockingEvent;

import java.util.List;
import java.util.OptionalLong;

/**
 * A blocking event with its syscall and stack frames named, innermost frame first, and what is
 * known of how long the sleep lasted: its length once it ended, or that it had not ended yet
 * when the event was written.
 */
record NamedEvent(BlockingEvent event, String syscall, List<String> kernelStack, List<String> userStack,
                  OptionalLong blockedNanos, boolean stillAsleep) {
    NamedEvent(BlockingEvent event, String syscall, List<String> kernelStack, List<String> userStack) {
        this(event, syscall, kernelStack, userStack, OptionalLong.empty(), false);
    }

    /** This event, its sleep having lasted {@code nanos} off the CPU. */
    NamedEvent lasting(long nanos) {
        return new NamedEvent(event, syscall, kernelStack, userStack, OptionalLong.of(nanos), false);
    }

    /** This event, its thread still asleep when it is written. */
    NamedEvent whileAsleep() {
        return new NamedEvent(event, syscall, kernelStack, userStack, OptionalLong.empty(), true);
    }
}
