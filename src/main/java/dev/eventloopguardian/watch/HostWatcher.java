package dev.eventloopguardian.watch;

import dev.eventloopguardian.bpf.RingBuffer;
import dev.eventloopguardian.guard.GuardException;
import dev.eventloopguardian.guard.HostWatch;
import dev.eventloopguardian.guard.Policy;
import dev.eventloopguardian.guard.ReportingGuard;
import dev.eventloopguardian.guard.ThreadPattern;
import dev.eventloopguardian.guard.UnknownSyscallException;
import dev.eventloopguardian.proc.ProcessFacts;
import dev.eventloopguardian.report.Attribution;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Watches a whole host by rules: gives each process on it the rules that select it, at start,
 * at each exec the kernel tells of (a fork inherits its parent's in the kernel), and at a look
 * over {@code /proc} every {@link #LOOK_INTERVAL} for what those missed; a look every
 * {@link #FULL_LOOK_EVERY}th also decides again for processes already known, whose cgroup may
 * have changed. The threads of selected processes are then decided on by the kernel alone.
 * This process, the watch's own, is never watched.
 */
public final class HostWatcher implements Attribution, AutoCloseable {
    static final Duration LOOK_INTERVAL = Duration.ofSeconds(2);
    static final int FULL_LOOK_EVERY = 15;

    private final HostWatch watch;
    private final RingBuffer execs;
    private final Consumer<String> notes;
    private final int self = (int) ProcessHandle.current().pid();
    private final Thread looking;
    /** Guarded by this: the rules, and what each process we decided for was given and is. */
    private List<WatchRule> rules;
    private final Map<Integer, Long> given = new HashMap<>();
    private final Map<Integer, ProcessFacts> known = new HashMap<>();
    private volatile boolean closed;
    private boolean failureNoted;

    private HostWatcher(HostWatch watch, List<WatchRule> rules, Consumer<String> notes) throws GuardException {
        this.watch = watch;
        this.rules = List.copyOf(rules);
        this.notes = notes;
        this.execs = watch.execs(this::execed);
        this.looking = Thread.ofPlatform().daemon().name("eventloop-guardian-watch").unstarted(this::lookUntilClosed);
    }

    /**
     * Loads the watch for {@code rules}, gives every running process its rules, and goes on doing
     * so for new ones until closed. Each process may write {@code eventsPerSecond} events a
     * second; {@code notes} hears of what goes wrong on the way (a process that cannot be read).
     */
    public static HostWatcher start(List<WatchRule> rules, int eventsPerSecond, Consumer<String> notes)
            throws GuardException, UnknownSyscallException {
        HostWatch watch = HostWatch.start(policies(rules), eventsPerSecond);
        HostWatcher watcher = null;
        try {
            watcher = new HostWatcher(watch, rules, notes);
            watcher.look(true);
            watcher.looking.start();
            return watcher;
        } catch (GuardException | RuntimeException e) {
            if (watcher != null) {
                watcher.close(); // and the watch with it
            } else {
                watch.close();
            }
            throw e;
        }
    }

    private static List<Policy> policies(List<WatchRule> rules) {
        return rules.stream().map(WatchRule::policy).toList();
    }

    /** The guard whose events a report session reads. */
    public ReportingGuard guard() {
        return watch;
    }

    /** The rules in force. */
    public synchronized List<WatchRule> rules() {
        return rules;
    }

    /**
     * Decides by {@code rules}, each process writing {@code eventsPerSecond} events a second, from
     * now on, and gives every process its rules again: the events and counts of the session go on
     * as they were.
     */
    public synchronized void replaceRules(List<WatchRule> replacement, int eventsPerSecond)
            throws GuardException, UnknownSyscallException {
        watch.replaceRules(policies(replacement), eventsPerSecond);
        rules = List.copyOf(replacement);
        given.clear();
        look(true);
    }

    /** How many processes have rules now. */
    public int processesWatched() {
        return watch.processesWatched().getAsInt();
    }

    @Override
    public synchronized Optional<Attributes> of(int pid, String thread, boolean uninterruptible) {
        ProcessFacts facts = known.get(pid);
        if (facts == null) {
            Optional<ProcessFacts> read = ProcessFacts.read(pid);
            if (read.isEmpty()) {
                return Optional.empty();
            }
            facts = read.get();
            known.put(pid, facts);
        }
        for (WatchRule rule : rules) {
            List<ThreadPattern> threads = rule.policy().threads();
            // As the kernel's program tries them: the rule's states, then its thread names.
            if (rule.selects(facts) && (!uninterruptible || rule.policy().includeUninterruptible())
                    && (threads.isEmpty() || threads.stream().anyMatch(pattern -> pattern.matches(thread)))) {
                return Optional.of(new Attributes(facts, Optional.of(rule.name())));
            }
        }
        return Optional.of(new Attributes(facts, Optional.empty()));
    }

    private void lookUntilClosed() {
        int looks = 0;
        long next = System.nanoTime() + LOOK_INTERVAL.toNanos();
        while (!closed) {
            try {
                execs.poll(Duration.ofNanos(Math.max(0, next - System.nanoTime())));
            } catch (IllegalStateException closedMeanwhile) {
                return;
            }
            if (!closed && System.nanoTime() >= next) {
                look(++looks % FULL_LOOK_EVERY == 0);
                next = System.nanoTime() + LOOK_INTERVAL.toNanos();
            }
        }
    }

    private void execed(int pid) {
        synchronized (this) {
            given.remove(pid); // the kernel took its rules away
            known.remove(pid);
            decide(pid);
        }
    }

    /** Decides for the processes not decided for yet, or, {@code all}, for every one; forgets those gone. */
    private synchronized void look(boolean all) {
        Set<Integer> alive = new HashSet<>();
        try (DirectoryStream<Path> proc = Files.newDirectoryStream(Path.of("/proc"))) {
            for (Path entry : proc) {
                int pid = pidOf(entry.getFileName().toString());
                if (pid > 0) {
                    alive.add(pid);
                    if (all || !given.containsKey(pid)) {
                        decide(pid);
                    }
                }
            }
        } catch (IOException e) {
            noteOnce("cannot list /proc: " + e.getMessage());
            return;
        }
        given.keySet().retainAll(alive);
        known.keySet().retainAll(alive);
        watch.watched(); // reads each watched process's counts, and forgets those that exited
    }

    private void decide(int pid) {
        if (pid == self || closed) {
            return;
        }
        Optional<ProcessFacts> facts = ProcessFacts.read(pid);
        long rulesGiven = 0;
        if (facts.isPresent()) {
            known.put(pid, facts.get());
            for (int i = 0; i < rules.size(); i++) {
                if (rules.get(i).selects(facts.get())) {
                    rulesGiven |= 1L << i;
                }
            }
        }
        Long before = given.put(pid, rulesGiven);
        if (before != null && before == rulesGiven) {
            return;
        }
        try {
            if (rulesGiven != 0) {
                watch.watch(pid, rulesGiven);
            } else {
                watch.forget(pid);
            }
        } catch (GuardException e) {
            noteOnce(e.getMessage());
        }
    }

    private void noteOnce(String note) {
        if (!failureNoted) {
            failureNoted = true;
            notes.accept(note);
        }
    }

    private static int pidOf(String name) {
        for (int i = 0; i < name.length(); i++) {
            if (!Character.isDigit(name.charAt(i))) {
                return -1;
            }
        }
        try {
            return Integer.parseInt(name);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Stops looking and unloads the watch's programs. */
    @Override
    public void close() {
        closed = true;
        execs.close();
        try {
            looking.join(LOOK_INTERVAL.toMillis() * 2);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        watch.close();
    }
}
