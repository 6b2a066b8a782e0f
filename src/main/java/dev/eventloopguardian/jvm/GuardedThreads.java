package dev.eventloopguardian.jvm;

import dev.eventloopguardian.sys.Linux;

import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * The threads of this JVM a guard is attached to, each through a {@link Binding}: in this JVM's
 * own guard ({@link GuardBinding}), or in the command line's that loaded the agent. Threads that
 * selectors accept are picked up as they appear, by a look every watch interval (a second unless
 * the builder says otherwise), and dropped when they end.
 */
final class GuardedThreads implements AutoCloseable {
    static final Duration WATCH_INTERVAL = Duration.ofSeconds(1);

    /** How a thread is put under a guard, and taken out again. */
    interface Binding extends AutoCloseable {
        /**
         * Guards {@code thread}, whose kernel id is {@code tid}; what it returns undoes that, and
         * says nothing when it cannot (the thread has ended, the guard is gone).
         *
         * @throws GuardianException when it cannot be guarded (it ended, or the guard refused)
         */
        Runnable bind(Thread thread, int tid);

        /** Releases the guard itself, once every thread is unbound. */
        @Override
        void close();
    }

    private record Guarded(Thread thread, Runnable unbind) {
    }

    private final Binding binding;
    private final List<Predicate<Thread>> selectors;
    private final Duration watchInterval;
    private final Map<Integer, Guarded> byTid = new ConcurrentHashMap<>();
    /**
     * Threads the look could not guard, not tried again: each try takes a thread dump. Weak, so
     * that ended threads leave it.
     */
    private final Set<Thread> unguardable = Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));
    private final Object attaching = new Object();
    private volatile Thread watcher;
    private volatile boolean closed;

    GuardedThreads(Binding binding, List<Predicate<Thread>> selectors, Duration watchInterval) {
        this.binding = binding;
        this.selectors = List.copyOf(selectors);
        this.watchInterval = watchInterval;
    }

    /** Guards each of {@code threads} not guarded yet; their tids come from one thread dump. */
    void guard(Collection<Thread> threads) {
        List<Thread> fresh = threads.stream().filter(thread -> !isGuarded(thread)).toList();
        if (fresh.isEmpty()) {
            return;
        }
        Map<Long, Integer> tids = NativeThreadIds.byJavaId();
        for (Thread thread : fresh) {
            Integer tid = tids.get(thread.threadId());
            if (tid == null) {
                if (thread.isVirtual()) {
                    throw new IllegalArgumentException(thread + " is a virtual thread: guard its carriers "
                            + "(EventLoopGuardian.Builder.virtualThreadCarriers), which is where it blocks");
                }
                continue; // it ended before the dump
            }
            attach(thread, tid);
        }
    }

    /** Guards the calling thread: for threads that a guarding factory made, from their first task on. */
    void guardCurrentThread() {
        attach(Thread.currentThread(), Linux.tid());
    }

    private boolean isGuarded(Thread thread) {
        return byTid.values().stream().anyMatch(guarded -> guarded.thread() == thread);
    }

    private void attach(Thread thread, int tid) {
        synchronized (attaching) {
            if (closed || byTid.containsKey(tid)) {
                return;
            }
            byTid.put(tid, new Guarded(thread, binding.bind(thread, tid)));
        }
    }

    /** Starts the look for new matching threads and ended ones, when there are selectors. */
    void startWatching() {
        if (selectors.isEmpty()) {
            return;
        }
        refresh(); // the threads there are now, before install returns
        watcher = Thread.ofPlatform().daemon().name("eventloop-guardian-watcher").start(() -> {
            while (!closed) {
                try {
                    Thread.sleep(watchInterval);
                } catch (InterruptedException e) {
                    return;
                }
                refresh();
            }
        });
    }

    private void refresh() {
        byTid.forEach((tid, guarded) -> {
            if (!guarded.thread().isAlive()) {
                release(tid);
            }
        });
        List<Thread> candidates = platformThreads().stream().filter(thread -> thread.isAlive()
                && !unguardable.contains(thread) && !isGuarded(thread)
                && selectors.stream().anyMatch(selector -> selector.test(thread))).toList();
        if (candidates.isEmpty()) {
            return;
        }
        Map<Long, Integer> tids = NativeThreadIds.byJavaId();
        for (Thread thread : candidates) {
            Integer tid = tids.get(thread.threadId());
            try {
                if (tid != null) {
                    attach(thread, tid);
                    continue;
                }
            } catch (GuardianException e) {
                // it ended while it was attached, or HotSpot does not list it as a Java thread
            }
            unguardable.add(thread);
        }
    }

    /** Every live platform thread, from the root thread group: no safepoint, unlike Thread.getAllStackTraces. */
    static List<Thread> platformThreads() {
        ThreadGroup root = Thread.currentThread().getThreadGroup();
        while (root.getParent() != null) {
            root = root.getParent();
        }
        Thread[] threads = new Thread[root.activeCount() + 16];
        int count = root.enumerate(threads, true);
        return List.of(Arrays.copyOf(threads, count)); // List.of(threads) would throw on the free slots' nulls
    }

    /** Stops guarding {@code tid}: it ended, or it was only guarded for a while. */
    void release(int tid) {
        synchronized (attaching) {
            Guarded guarded = byTid.remove(tid);
            if (guarded != null) {
                guarded.unbind().run();
            }
        }
    }

    /** The Java thread a guarded tid runs; empty when it is not one of ours (any more). */
    Optional<Thread> threadOf(int tid) {
        return Optional.ofNullable(byTid.get(tid)).map(Guarded::thread);
    }

    @Override
    public void close() {
        closed = true;
        Thread watching = watcher;
        if (watching != null) {
            watching.interrupt();
            try {
                watching.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (attaching) {
            byTid.values().forEach(guarded -> guarded.unbind().run());
            byTid.clear();
        }
        binding.close();
    }
}
