package dev.eventloopguardian.report;

import dev.eventloopguardian.guard.BlockingEvent;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** Where a report asks for the Java side of its events: the JVMs it guards, through their agents. */
public interface JavaContexts {
    /** The answer for an event no JVM is asked about: one, shared, so that no event allocates one. */
    CompletableFuture<Optional<JavaContext>> NO_ANSWER = CompletableFuture.completedFuture(Optional.empty());

    /** No JVM to ask: every answer is empty. */
    JavaContexts NONE = event -> NO_ANSWER;

    /**
     * Asks, the moment {@code event} is read, for its Java side; the answer is empty when its
     * thread is no Java thread an agent knows. Never throws, and answers in bounded time.
     */
    CompletableFuture<Optional<JavaContext>> ask(BlockingEvent event);
}
