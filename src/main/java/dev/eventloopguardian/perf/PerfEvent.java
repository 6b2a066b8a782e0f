package dev.eventloopguardian.perf;

import dev.eventloopguardian.sys.Linux;
import dev.eventloopguardian.sys.SyscallException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A per-thread perf event that counts context switches and runs an eBPF program on every
 * one of them ({@code sample_period = 1}). The event lives as long as its descriptor.
 */
public final class PerfEvent implements AutoCloseable {
    // struct perf_event_attr (include/uapi/linux/perf_event.h); PERF_ATTR_SIZE_VER7.
    private static final int ATTR_SIZE = 128;
    private static final int TYPE_SOFTWARE = 1;
    private static final long CONFIG_CONTEXT_SWITCHES = 3;
    private static final long FLAG_DISABLED = 1L;
    private static final long FLAG_INHERIT = 1L << 1;
    private static final long FLAG_ENABLE_ON_EXEC = 1L << 12;
    private static final long PERF_FLAG_FD_CLOEXEC = 1L << 3;

    private static final long IOC_ENABLE = 0x2400;
    private static final long IOC_DISABLE = 0x2401;
    private static final long IOC_SET_BPF = 0x4004_2408L;

    /** Which threads the event covers and when it starts counting. */
    public record Options(boolean inherit, boolean enableOnExec, boolean keepAcrossExec) {
        /** Starts at the calling thread's next exec, survives it, and optionally follows new threads. */
        public static Options atExec(boolean inherit) {
            return new Options(inherit, true, true);
        }

        /** Starts when enabled; closed if this process execs. */
        public static Options live(boolean inherit) {
            return new Options(inherit, false, false);
        }
    }

    private final int fd;
    private final int tid;
    private final AtomicBoolean closed = new AtomicBoolean();

    private PerfEvent(int fd, int tid) {
        this.fd = fd;
        this.tid = tid;
    }

    /**
     * Opens a disabled context-switch event on thread {@code tid} (0: the calling thread).
     */
    public static PerfEvent contextSwitches(int tid, Options options) throws PerfException {
        long flags = FLAG_DISABLED;
        if (options.inherit()) {
            flags |= FLAG_INHERIT;
        }
        if (options.enableOnExec()) {
            flags |= FLAG_ENABLE_ON_EXEC;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(ATTR_SIZE, 8);
            attr.set(JAVA_INT, 0, TYPE_SOFTWARE);
            attr.set(JAVA_INT, 4, ATTR_SIZE);
            attr.set(JAVA_LONG, 8, CONFIG_CONTEXT_SWITCHES);
            attr.set(JAVA_LONG, 16, 1); // sample_period: every switch
            attr.set(JAVA_LONG, 40, flags);
            long openFlags = options.keepAcrossExec() ? 0 : PERF_FLAG_FD_CLOEXEC;
            int fd = Linux.perfEventOpen(attr, tid, -1, -1, openFlags);
            return new PerfEvent(fd, tid);
        } catch (SyscallException e) {
            throw new PerfException("cannot open a context-switch perf event on thread " + (tid == 0 ? "self" : tid), e);
        }
    }

    /** Runs {@code programFd} (a loaded perf_event program) on every sample of this event. */
    public void attach(int programFd) throws PerfException {
        try {
            Linux.ioctl(fd, IOC_SET_BPF, programFd);
        } catch (SyscallException e) {
            throw new PerfException("cannot attach the eBPF program to the perf event", e);
        }
    }

    public void enable() throws PerfException {
        try {
            Linux.ioctl(fd, IOC_ENABLE, 0);
        } catch (SyscallException e) {
            throw new PerfException("cannot enable the perf event", e);
        }
    }

    public void disable() throws PerfException {
        try {
            Linux.ioctl(fd, IOC_DISABLE, 0);
        } catch (SyscallException e) {
            throw new PerfException("cannot disable the perf event", e);
        }
    }

    public int fd() {
        return fd;
    }

    /** The thread this event watches (0 for the thread that opened it). */
    public int tid() {
        return tid;
    }

    /**
     * Closes the descriptor, once: a second close could hit an unrelated file that reused the
     * number, in a JVM that the library shares with its user.
     */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            Linux.close(fd);
        }
    }
}
