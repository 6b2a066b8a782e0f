package dev.eventloopguardian.guard;

import dev.eventloopguardian.perf.PerfEvent;
import dev.eventloopguardian.perf.PerfException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * A guard attached to a running process: one inherited context-switch event per thread it had,
 * so that the threads they create are guarded too. Closing it detaches the guard from all of
 * them, inherited copies included, and leaves the process running.
 *
 * <p>A thread created while we attach, by a thread not attached yet, would be missed: the threads
 * are listed again until a listing finds no new one. A new thread found that way may have
 * inherited an event already; the second one we open does not report its sleeps twice (see
 * {@code GuardProgram}).
 */
public final class AttachedProcess implements AutoCloseable {
    /** Listings of the threads before giving up on a process that keeps creating them. */
    private static final int MAX_LISTINGS = 20;
    /** {@code PF_KTHREAD} in the flags of /proc/PID/stat. */
    private static final long KERNEL_THREAD = 0x0020_0000;

    private final int pid;
    private final Map<Integer, PerfEvent> events;

    private AttachedProcess(int pid, Map<Integer, PerfEvent> events) {
        this.pid = pid;
        this.events = events;
    }

    static AttachedProcess attach(int programFd, int pid) throws GuardException {
        requireAttachable(pid);
        Map<Integer, PerfEvent> events = new LinkedHashMap<>();
        try {
            for (int listing = 0; listing < MAX_LISTINGS; listing++) {
                Set<Integer> found = threads(pid);
                found.removeAll(events.keySet());
                if (found.isEmpty()) {
                    if (events.isEmpty()) {
                        throw new GuardException(GuardException.Kind.NO_SUCH_PROCESS, "process " + pid + " has exited");
                    }
                    return new AttachedProcess(pid, events);
                }
                for (int tid : found) {
                    open(programFd, tid).ifPresent(event -> events.put(tid, event));
                }
            }
            throw new GuardException(GuardException.Kind.UNSUPPORTED, "process " + pid + " kept creating threads faster than "
                    + "they could be guarded (" + MAX_LISTINGS + " listings of /proc/" + pid + "/task)");
        } catch (GuardException | RuntimeException e) {
            events.values().forEach(PerfEvent::close);
            throw e;
        }
    }

    /** The event on {@code tid}, enabled; empty if the thread exited before it could be opened. */
    private static Optional<PerfEvent> open(int programFd, int tid) throws GuardException {
        PerfEvent event;
        try {
            event = PerfEvent.contextSwitches(tid, PerfEvent.Options.live(true));
        } catch (PerfException e) {
            if (e.isNoSuchThread()) {
                return Optional.empty();
            }
            throw Guard.explain(e);
        }
        try {
            event.attach(programFd);
            event.enable();
            return Optional.of(event);
        } catch (PerfException e) {
            event.close();
            throw Guard.explain(e);
        }
    }

    private static Set<Integer> threads(int pid) throws GuardException {
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Integer.toString(pid), "task"))) {
            Set<Integer> tids = new TreeSet<>();
            tasks.forEach(task -> tids.add(Integer.parseInt(task.getFileName().toString())));
            return tids;
        } catch (NoSuchFileException e) {
            throw new GuardException(GuardException.Kind.NO_SUCH_PROCESS, "no process has pid " + pid, null, e);
        } catch (IOException | UncheckedIOException e) {
            throw new GuardException(GuardException.Kind.UNSUPPORTED, "cannot list the threads of process " + pid + ": "
                    + e.getMessage(), null, e);
        }
    }

    /**
     * Refuses a pid that is no process, or a kernel thread (no user-space syscalls to guard):
     * cheap, so that a mistyped pid is told before anything is loaded.
     */
    public static void requireAttachable(int pid) throws GuardException {
        String stat;
        try {
            stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
        } catch (IOException e) {
            throw new GuardException(GuardException.Kind.NO_SUCH_PROCESS, "no process has pid " + pid
                    + " (see pgrep, pidof)", null, e);
        }
        // Fields after the name, which may hold spaces: state, ppid, pgrp, session, tty_nr, tpgid, flags.
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        if ((Long.parseLong(fields[6]) & KERNEL_THREAD) != 0) {
            throw new GuardException(GuardException.Kind.NO_SUCH_PROCESS, "pid " + pid + " is a kernel thread, "
                    + "which has no user-space syscalls to guard");
        }
    }

    public int pid() {
        return pid;
    }

    /** How many threads were attached to; those they created since are guarded too. */
    public int threads() {
        return events.size();
    }

    /** Detaches; a second close does nothing, since each event closes its descriptor once. */
    @Override
    public void close() {
        // Closing an event also removes the copies its thread's children inherited.
        events.values().forEach(PerfEvent::close);
    }
}
