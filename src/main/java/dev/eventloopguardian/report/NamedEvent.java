package dev.eventloopguardian.report;

import dev.eventloopguardian.guard.BlockingEvent;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

/**
 * A blocking event with its syscall and stack frames named, innermost frame first, what is
 * known of how long the sleep lasted (its length once it ended, or that it had not ended yet
 * when the event was written), and its Java side when the JVM it happened in told us.
 */
record NamedEvent(BlockingEvent event, String syscall, List<String> kernelStack, List<String> userStack,
                  OptionalLong blockedNanos, boolean stillAsleep, CompletableFuture<Optional<JavaContext>> javaAnswer,
                  Optional<Attribution.Attributes> attributes) {
    NamedEvent(BlockingEvent event, String syscall, List<String> kernelStack, List<String> userStack) {
        this(event, syscall, kernelStack, userStack, OptionalLong.empty(), false, JavaContexts.NO_ANSWER, Optional.empty());
    }

    /** This event, its sleep having lasted {@code nanos} off the CPU. */
    NamedEvent lasting(long nanos) {
        return new NamedEvent(event, syscall, kernelStack, userStack, OptionalLong.of(nanos), false, javaAnswer, attributes);
    }

    /** This event, its thread still asleep when it is written. */
    NamedEvent whileAsleep() {
        return new NamedEvent(event, syscall, kernelStack, userStack, OptionalLong.empty(), true, javaAnswer, attributes);
    }

    /** This event, with what its JVM will say of it. */
    NamedEvent withJava(CompletableFuture<Optional<JavaContext>> answer) {
        return new NamedEvent(event, syscall, kernelStack, userStack, blockedNanos, stillAsleep, answer, attributes);
    }

    /** This event, with who it belongs to. */
    NamedEvent attributed(Optional<Attribution.Attributes> found) {
        if (found.isEmpty() && attributes.isEmpty()) {
            return this; // a session that knows its one process: no copy per event
        }
        return new NamedEvent(event, syscall, kernelStack, userStack, blockedNanos, stillAsleep, javaAnswer, found);
    }

    /** What its JVM said of it, if it has answered. */
    Optional<JavaContext> java() {
        return javaAnswer.getNow(Optional.empty());
    }

    /**
     * What kind of blocking it was: {@code sleep}, {@code park}, {@code wait} or {@code monitor}
     * for a Java-level wait the guard told apart, else {@code syscall}.
     */
    String kind() {
        return event.javaWait().map(wait -> wait.name().toLowerCase(Locale.ROOT)).orElse("syscall");
    }

    /** The syscall, and the Java-level wait it was: {@code futex (park)}. */
    String what() {
        return event.javaWait().isPresent() ? syscall + " (" + kind() + ")" : syscall;
    }
}
