package dev.eventloopguardian.jvm;

import dev.eventloopguardian.bpf.BpfException;
import dev.eventloopguardian.guard.JavaThreads;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The agent in a JVM that {@code eventloop-guardian COMMAND} guards without reporting: the
 * command line execs COMMAND and keeps no process of its own, so it hands the guard's map of JVM
 * threads over as an inherited descriptor, and the JVM registers its own threads in it, as they
 * appear. The kernel lets a process without privileges use a map whose descriptor it was given.
 * A Java-level wait of a registered thread then counts as any blocking syscall does: the kernel
 * aborts the thread (a core dump has the stacks).
 */
final class InheritedGuard implements AutoCloseable {
    /** Prefix of the agent's options: {@code guard-map=FD[,GLOB...]}, set by the command line. */
    static final String OPTION = "guard-map=";
    private static final Duration WATCH_INTERVAL = Duration.ofMillis(50);

    private final GuardedThreads threads;

    private InheritedGuard(GuardedThreads threads) {
        this.threads = threads;
    }

    /**
     * Registers the threads the command line's globs select (after {@code guard-map=FD,}) in the
     * map behind FD, now and as they appear.
     *
     * @throws IllegalArgumentException when the options are not the command line's
     * @throws GuardianException        when this JVM or kernel cannot do it; nothing is left running
     */
    static InheritedGuard start(String arguments) {
        String[] parts = arguments.substring(OPTION.length()).split(",");
        int fd;
        try {
            fd = Integer.parseInt(parts[0]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("guard-map=" + parts[0] + " is not a descriptor: this option is the command line's");
        }
        List<String> globs = List.of(parts).subList(1, parts.length);
        JavaThreads map = JavaThreads.inherited(fd);
        try {
            HotSpotThreads hotSpot = HotSpotThreads.ofThisJvm();
            GuardedThreads threads = new GuardedThreads(new Registration(map, hotSpot),
                    CommandLineThreads.selectors(globs, new ArrayList<>()), WATCH_INTERVAL);
            threads.startWatching();
            return new InheritedGuard(threads);
        } catch (RuntimeException e) {
            map.close();
            throw e;
        }
    }

    /** Registers threads in the inherited map, and forgets them when they end. */
    private record Registration(JavaThreads map, HotSpotThreads hotSpot) implements GuardedThreads.Binding {
        @Override
        public Runnable bind(Thread thread, int tid) {
            try {
                map.watch(tid, hotSpot.waitsOf(tid));
            } catch (BpfException e) {
                throw new GuardianException("cannot register " + thread + " with the guard: " + e.getMessage(), e);
            }
            return () -> {
                try {
                    map.forget(tid);
                } catch (BpfException e) {
                    // the entry stays until a thread with this tid is registered over it
                }
            };
        }

        @Override
        public void close() {
            map.close();
        }
    }

    @Override
    public void close() {
        threads.close();
    }
}
