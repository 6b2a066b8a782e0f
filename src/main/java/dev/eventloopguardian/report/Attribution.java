package dev.eventloopguardian.report;

import dev.eventloopguardian.proc.ProcessFacts;

import java.util.Optional;

/**
 * Who an event belongs to beyond its pid and thread, for a session that guards processes it did
 * not start (a host watch): the process's command line, container, pod and systemd unit, and
 * the rule that selected the thread. Asked once per event, on the report's thread.
 */
@FunctionalInterface
public interface Attribution {
    /** Says nothing more: a session that started or attached to its one process knows it. */
    Attribution NONE = (pid, thread, uninterruptible) -> Optional.empty();

    /**
     * What is known of process {@code pid}, and the rule for a sleep of its thread
     * {@code thread}, {@code uninterruptible} (D) or not; empty when the process is gone.
     */
    Optional<Attributes> of(int pid, String thread, boolean uninterruptible);

    /** The process's facts, and the name of the rule that selected the thread, if a rule did. */
    record Attributes(ProcessFacts process, Optional<String> rule) {
    }
}
