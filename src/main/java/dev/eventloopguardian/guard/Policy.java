package dev.eventloopguardian.guard;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What counts as blocking for a guarded thread, and what to do about it. A thread that is
 * switched out to sleep inside a syscall counts unless the syscall is allowed outright, or
 * allowed for the file descriptor in its first argument.
 */
public final class Policy {
    /** The default allowlist; each entry says why an event loop may sleep there. */
    static final Map<String, String> DEFAULT_ALLOWED;
    /** The default fd exemptions, kept from the seed so that a program can log without dying. */
    static final Map<String, SortedSet<Integer>> DEFAULT_FDS;

    static {
        Map<String, String> allowed = new LinkedHashMap<>();
        allowed.put("epoll_wait", "the wait of epoll loops: Java NIO selectors, Netty's epoll transport, Tokio, Redis");
        allowed.put("epoll_wait_old", "the original epoll_wait entry point (x86_64 only), allowed by the seed");
        allowed.put("epoll_pwait", "libuv (Node.js) sleeps here, and glibc's epoll_wait where the arch has no epoll_wait (aarch64)");
        allowed.put("epoll_pwait2", "epoll wait with a nanosecond timeout, used by newer libuv and Netty");
        allowed.put("futex", "locks and condition variables: parked JVM threads, Python's GIL hand-off, loop wake-ups");
        allowed.put("futex_wait", "the futex2 single wait (Linux 6.7+), same role as futex");
        allowed.put("futex_waitv", "the futex2 wait on several futexes (Linux 5.16+), same role as futex");
        allowed.put("io_uring_enter", "io_uring loops wait for completions here (Netty io_uring, liburing, tokio-uring)");
        DEFAULT_ALLOWED = Collections.unmodifiableMap(allowed);
        Map<String, SortedSet<Integer>> fds = new LinkedHashMap<>();
        fds.put("read", new TreeSet<>(java.util.List.of(0)));
        fds.put("write", new TreeSet<>(java.util.List.of(1, 2)));
        DEFAULT_FDS = Collections.unmodifiableMap(fds);
    }

    private final SortedSet<String> allowed;
    private final SortedMap<String, SortedSet<Integer>> allowedFds;
    private final SortedSet<String> userNamed;
    private final boolean includeUninterruptible;
    private final Optional<Signal> signal;
    private final boolean report;
    private final List<ThreadPattern> threads;
    private final Optional<JavaWaitStates> javaWaits;

    private Policy(Builder builder) {
        this.allowed = Collections.unmodifiableSortedSet(new TreeSet<>(builder.allowed));
        SortedMap<String, SortedSet<Integer>> fds = new TreeMap<>();
        builder.allowedFds.forEach((name, set) -> fds.put(name, Collections.unmodifiableSortedSet(new TreeSet<>(set))));
        this.allowedFds = Collections.unmodifiableSortedMap(fds);
        this.userNamed = Collections.unmodifiableSortedSet(new TreeSet<>(builder.userNamed));
        this.includeUninterruptible = builder.includeUninterruptible;
        this.signal = Optional.ofNullable(builder.signal);
        this.report = builder.report;
        this.threads = List.copyOf(builder.threads);
        this.javaWaits = Optional.ofNullable(builder.javaWaits);
        if (signal.isEmpty() && !report) {
            throw new IllegalStateException("a policy must signal, report, or both");
        }
    }

    /** The seed's policy plus the event-loop waits it forgot; see {@link #DEFAULT_ALLOWED}. */
    public static Policy defaults() {
        return builder().build();
    }

    /** A builder that starts from {@link #defaults()}. */
    public static Builder builder() {
        return new Builder();
    }

    /** Syscalls a thread may sleep in whatever their arguments. */
    public SortedSet<String> allowed() {
        return allowed;
    }

    /** Syscalls a thread may sleep in when their first argument is one of the given file descriptors. */
    public SortedMap<String, SortedSet<Integer>> allowedFds() {
        return allowedFds;
    }

    /** Also count uninterruptible (D) sleeps inside syscalls, e.g. a disk read or fsync. */
    public boolean includeUninterruptible() {
        return includeUninterruptible;
    }

    /** The signal sent to a thread that goes to sleep where it must not, if any. */
    public Optional<Signal> signal() {
        return signal;
    }

    /** The thread names the guard acts for; empty: every guarded thread. */
    public List<ThreadPattern> threads() {
        return threads;
    }

    /** Whether each counted sleep is also sent to the guardian as a {@link BlockingEvent}. */
    public boolean report() {
        return report;
    }

    /**
     * How the JVM numbers the states of Java-level waits, when futex sleeps of the JVM threads
     * the guard knows are classified (see {@link Builder#countJavaWaits}); empty: futex sleeps
     * follow the allowlist alone.
     */
    public Optional<JavaWaitStates> javaWaits() {
        return javaWaits;
    }

    /**
     * Whether {@code name} was named by the user rather than by our defaults: a default that
     * the CPU architecture lacks (epoll_wait on aarch64) is skipped, a user's typo is an error.
     */
    boolean namedByUser(String name) {
        return userNamed.contains(name);
    }

    /** Every syscall the user named, in --allow, --disallow or --allow-fd. */
    SortedSet<String> namedByUser() {
        return userNamed;
    }

    /** Why a default syscall is allowed, or empty for one the user added. */
    public static String reason(String name) {
        String reason = DEFAULT_ALLOWED.get(name);
        return reason == null ? "" : reason;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Policy that && allowed.equals(that.allowed) && allowedFds.equals(that.allowedFds)
                && includeUninterruptible == that.includeUninterruptible && signal.equals(that.signal)
                && report == that.report && threads.equals(that.threads) && javaWaits.equals(that.javaWaits);
    }

    @Override
    public int hashCode() {
        return Objects.hash(allowed, allowedFds, includeUninterruptible, signal, report, threads, javaWaits);
    }

    /** Changes to the defaults, applied in the order given. */
    public static final class Builder {
        private final SortedSet<String> allowed = new TreeSet<>(DEFAULT_ALLOWED.keySet());
        private final SortedMap<String, SortedSet<Integer>> allowedFds = new TreeMap<>();
        private final SortedSet<String> userNamed = new TreeSet<>();
        private boolean includeUninterruptible;
        private Signal signal = Signal.SIGABRT;
        private boolean report;
        private final List<ThreadPattern> threads = new java.util.ArrayList<>();
        private JavaWaitStates javaWaits;

        private Builder() {
            DEFAULT_FDS.forEach((name, fds) -> allowedFds.put(name, new TreeSet<>(fds)));
        }

        /** Forgets every default: nothing is allowed until {@link #allow} or {@link #allowFd} says so. */
        public Builder noDefaults() {
            allowed.clear();
            allowedFds.clear();
            return this;
        }

        public Builder allow(String syscall) {
            userNamed.add(syscall);
            allowed.add(syscall);
            return this;
        }

        /** Never lets a thread sleep in {@code syscall}, dropping its fd exemptions too. */
        public Builder disallow(String syscall) {
            userNamed.add(syscall);
            allowed.remove(syscall);
            allowedFds.remove(syscall);
            return this;
        }

        public Builder allowFd(String syscall, int fd) {
            if (fd < 0) {
                throw new IllegalArgumentException("a file descriptor is never negative: " + fd);
            }
            userNamed.add(syscall);
            allowedFds.computeIfAbsent(syscall, name -> new TreeSet<>()).add(fd);
            return this;
        }

        public Builder includeUninterruptible(boolean include) {
            this.includeUninterruptible = include;
            return this;
        }

        public Builder signal(Signal signal) {
            this.signal = Objects.requireNonNull(signal);
            return this;
        }

        /** Sends no signal: only reports (with {@link #report}). */
        public Builder noSignal() {
            this.signal = null;
            return this;
        }

        /** Acts only for threads whose name matches one of the patterns given (see {@link ThreadPattern}). */
        public Builder thread(String glob) {
            threads.add(ThreadPattern.parse(glob));
            return this;
        }

        public Builder report(boolean report) {
            this.report = report;
            return this;
        }

        /**
         * Counts a futex sleep of a JVM thread the guard knows (see {@code Guard.watchJavaThread})
         * when it is a Java-level wait: a contended monitor or an {@code Object.wait} by HotSpot's
         * wait state, a sleep or a park by that state and the futex word, which must be the
         * thread's own (the VM's own monitor waits, such as for a GC the thread asked for, share
         * the state of a park but not its word). Safepoints leave the state alone. The JVM's own
         * waits stay allowed with futex.
         */
        public Builder countJavaWaits(JavaWaitStates states) {
            javaWaits = Objects.requireNonNull(states);
            return this;
        }

        public Policy build() {
            return new Policy(this);
        }
    }
}
