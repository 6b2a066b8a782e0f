package dev.eventloopguardian.jvm;

import dev.eventloopguardian.btf.Btf;
import dev.eventloopguardian.guard.Guard;
import dev.eventloopguardian.guard.GuardException;
import dev.eventloopguardian.guard.Policy;
import dev.eventloopguardian.guard.UnknownSyscallException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadFactory;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Guards threads of this JVM, its event loops, from the kernel: the moment a guarded thread goes
 * to sleep in a Java-level wait (sleep, park, {@code Object.wait}, a contended monitor) or in a
 * blocking system call, a {@link BlockingCall} with the thread's Java stack reaches the callbacks.
 * Nothing is instrumented and nothing runs while the threads run: a small eBPF program runs when
 * a guarded thread is switched out, and HotSpot's own wait state tells its waits from the VM's
 * (safepoints, GC), which are never reported.
 *
 * <pre>{@code
 * EventLoopGuardian guardian = EventLoopGuardian.builder()
 *         .threadsNamed("vert\\.x-eventloop-thread-.*")
 *         .onBlockingCall(call -> log.warn("{}", call))
 *         .install();
 * ...
 * guardian.close(); // detaches everything
 * }</pre>
 *
 * <p>Needs {@code CAP_BPF} and {@code CAP_PERFMON} in this JVM (root, or granted to its java binary).
 */
public final class EventLoopGuardian implements AutoCloseable {
    private final GuardedThreads threads;
    private final BlockingCallReader reader;

    private EventLoopGuardian(GuardedThreads threads, BlockingCallReader reader) {
        this.threads = threads;
        this.reader = reader;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Guards {@code thread} from now on (a platform thread of this JVM, alive). */
    public void guard(Thread thread) {
        threads.guard(List.of(thread));
    }

    /**
     * A factory whose threads are guarded from their first instruction on, made by {@code delegate}:
     * for the event loops of an executor this JVM creates.
     */
    public ThreadFactory guarding(ThreadFactory delegate) {
        Objects.requireNonNull(delegate);
        return task -> delegate.newThread(() -> {
            threads.guardCurrentThread();
            task.run();
        });
    }

    /** Detaches every guard and stops reporting: the JVM is left as it was before {@link Builder#install}. */
    @Override
    public void close() {
        try (reader; threads) {
            // closed in reverse order: the guards first, then the reader passes on what it holds
        }
    }

    /** What to select, allow and do; {@link #install} puts it in place. */
    public static final class Builder {
        private final List<Thread> threads = new ArrayList<>();
        private final List<Predicate<Thread>> selectors = new ArrayList<>();
        private final Policy.Builder policy = Policy.builder().report(true).noSignal();
        private final List<Consumer<BlockingCall>> callbacks = new CopyOnWriteArrayList<>();
        private final List<StackTraceElement> exemptions = new ArrayList<>();
        private boolean abort;
        private Duration watchInterval = GuardedThreads.WATCH_INTERVAL;

        private Builder() {
        }

        /** Guards {@code thread}. */
        public Builder thread(Thread thread) {
            threads.add(Objects.requireNonNull(thread));
            return this;
        }

        /** Guards every thread whose Java name matches {@code regex} in full, now and as they appear. */
        public Builder threadsNamed(String regex) {
            Pattern pattern = Pattern.compile(regex);
            return threadsMatching(thread -> pattern.matcher(thread.getName()).matches());
        }

        /**
         * Guards the event loops of every framework an {@link EventLoopThreads} on the class path
         * knows (ours: Netty, Vert.x, Reactor's non-blocking threads), now and as they appear, and
         * allows the blocking each framework does by design in its own methods.
         */
        public Builder knownEventLoops() {
            for (EventLoopThreads framework : java.util.ServiceLoader.load(EventLoopThreads.class)) {
                threadsMatching(framework::isEventLoop);
                framework.blockingAllowedInside().forEach((className, methods) ->
                        methods.forEach(method -> allowBlockingCallsInside(className, method)));
            }
            return this;
        }

        /** Guards every platform thread {@code selector} accepts, now and as they appear. */
        public Builder threadsMatching(Predicate<Thread> selector) {
            selectors.add(Objects.requireNonNull(selector));
            return this;
        }

        /**
         * Guards the carrier threads of virtual threads (the default scheduler's, now and as it
         * starts more): a virtual thread that blocks its carrier, in a native call or a blocking
         * system call, is reported with its own stack ({@link BlockingCall#virtualThread()}). The
         * carriers' own waits for work are not reported. Virtual threads that wait the JDK's way
         * (sleep, park, blocking sockets) leave their carrier and are not blocking calls.
         *
         * @throws IllegalStateException when this JDK has no {@code jdk.internal.misc.CarrierThread},
         *                               the class its scheduler's threads are; select them by name then
         */
        public Builder virtualThreadCarriers() {
            return threadsMatching(VirtualThreadCarriers.selector());
        }

        /** Also lets guarded threads sleep in these system calls, as the CLI's {@code --allow}. */
        public Builder allow(String... syscalls) {
            for (String syscall : syscalls) {
                policy.allow(syscall);
            }
            return this;
        }

        /** Never lets guarded threads sleep in these system calls, as the CLI's {@code --disallow}. */
        public Builder disallow(String... syscalls) {
            for (String syscall : syscalls) {
                policy.disallow(syscall);
            }
            return this;
        }

        /** Lets guarded threads sleep in {@code syscall} when its first argument is {@code fd}. */
        public Builder allowFd(String syscall, int fd) {
            policy.allowFd(syscall, fd);
            return this;
        }

        /** Also reports uninterruptible sleeps inside system calls: disk reads, fsync. */
        public Builder includeUninterruptible() {
            policy.includeUninterruptible(true);
            return this;
        }

        /** Blocking calls made inside {@code className.methodName} (anywhere on the Java stack) are not reported. */
        public Builder allowBlockingCallsInside(String className, String methodName) {
            exemptions.add(new StackTraceElement(className, methodName, null, -1));
            return this;
        }

        /** Receives each blocking call, on the guardian's own thread. Without one, calls are logged as warnings. */
        public Builder onBlockingCall(Consumer<BlockingCall> callback) {
            callbacks.add(Objects.requireNonNull(callback));
            return this;
        }

        /** After the callbacks, aborts the JVM with {@code SIGABRT} (a core dump, where enabled). */
        public Builder abortOnBlockingCall() {
            abort = true;
            return this;
        }

        /**
         * How often to look for new threads that {@link #threadsNamed} and {@link #threadsMatching}
         * select. For the agent, which has no other way to see threads start; a look costs about
         * 50-150 us with 300 threads.
         */
        Builder watchInterval(Duration interval) {
            watchInterval = Objects.requireNonNull(interval);
            return this;
        }

        /**
         * Loads the guard, attaches it to the selected threads and checks that it works: a
         * guarded thread of its own must be caught sleeping, or this throws.
         *
         * @throws GuardianException when this JVM may not load the guard, the kernel lacks a
         *                           feature, or the self-test fails; nothing is left attached
         */
        public EventLoopGuardian install() {
            Thread tidLookupWarmUp = selectors.isEmpty() ? null : warmUpTidLookup();
            HotSpotThreads hotSpot = HotSpotThreads.ofThisJvm();
            Guard guard;
            try {
                guard = Guard.load(policy.countJavaWaits(hotSpot.javaWaitStates()).build(), Btf.VMLINUX);
            } catch (GuardException e) {
                throw GuardianException.of(e);
            } catch (UnknownSyscallException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
            GuardedThreads guarded = new GuardedThreads(new GuardBinding(guard, hotSpot), selectors, watchInterval);
            Dispatch dispatch = new Dispatch(guarded, List.copyOf(callbacks), List.copyOf(exemptions), abort);
            BlockingCallReader reader;
            try {
                reader = new BlockingCallReader(guard, guarded::threadOf, dispatch);
            } catch (GuardException | RuntimeException e) {
                guarded.close();
                throw e instanceof GuardException failure ? GuardianException.of(failure) : (RuntimeException) e;
            }
            EventLoopGuardian guardian = new EventLoopGuardian(guarded, reader);
            try {
                dispatch.selfTest();
                guarded.guard(threads);
                if (tidLookupWarmUp != null) {
                    tidLookupWarmUp.join();
                }
                guarded.startWatching();
                return guardian;
            } catch (RuntimeException e) {
                guardian.close();
                throw e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                guardian.close();
                throw new GuardianException("interrupted while installing", e);
            }
        }

        /**
         * Takes a first thread dump while the guard loads: the first one in a JVM takes about a
         * quarter of a second (the platform MBean server starts), and a selected thread that
         * appears later would otherwise run that long unguarded. A failure shows again when a
         * thread is attached.
         */
        private static Thread warmUpTidLookup() {
            return Thread.ofPlatform().daemon().name("eventloop-guardian-warm-up").start(() -> {
                try {
                    NativeThreadIds.byJavaId();
                } catch (RuntimeException e) {
                    // said when a selected thread is attached
                }
            });
        }
    }
}
