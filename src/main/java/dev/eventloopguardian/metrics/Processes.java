package dev.eventloopguardian.metrics;

import dev.eventloopguardian.proc.Container;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What the labels say of a process: its name and container. Read from {@code /proc} once per
 * program a process runs (a pid and its exec count) while it lives, and remembered for the
 * {@link #REMEMBERED} programs used last. Used from one thread.
 */
final class Processes {
    static final int REMEMBERED = 1024;

    /** A process as the labels name it; {@code container} is empty outside containers. */
    record Process(String name, String container) {
    }

    private record Program(int pid, long execId) {
    }

    private final Map<Program, Process> known = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Program, Process> eldest) {
            return size() > REMEMBERED;
        }
    };

    /**
     * Process {@code pid} after {@code execId} execs. Its name is the kernel's name for its main
     * thread (the executable's name, or what the program set with {@code prctl}); for a process
     * gone before it could be read, {@code leaderThread}, the name the event gave its main thread,
     * or empty when the event came from another thread.
     */
    Process of(int pid, long execId, Optional<String> leaderThread) {
        return known.computeIfAbsent(new Program(pid, execId), program -> read(pid, leaderThread));
    }

    private static Process read(int pid, Optional<String> leaderThread) {
        String name = nameOf(pid).or(() -> leaderThread).orElse("");
        return new Process(name, Container.ofProcess(pid).map(Container::id).orElse(""));
    }

    /** The kernel's name for process {@code pid}'s main thread; empty once it is gone. */
    static Optional<String> nameOf(int pid) {
        try {
            return Optional.of(Files.readString(Path.of("/proc", Integer.toString(pid), "comm")).strip());
        } catch (IOException gone) {
            return Optional.empty();
        }
    }
}
