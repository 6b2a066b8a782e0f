package dev.eventloopguardian.guard;

import dev.eventloopguardian.bpf.BpfException;
import dev.eventloopguardian.bpf.BpfMap;
import dev.eventloopguardian.bpf.MapType;
import dev.eventloopguardian.bpf.RingBuffer;
import dev.eventloopguardian.bpf.LoadedProgram;
import dev.eventloopguardian.bpf.Program;
import dev.eventloopguardian.bpf.ProgramInfo;
import dev.eventloopguardian.bpf.ProgramType;
import dev.eventloopguardian.btf.Btf;
import dev.eventloopguardian.btf.BtfException;
import dev.eventloopguardian.perf.PerfEvent;
import dev.eventloopguardian.perf.PerfException;
import dev.eventloopguardian.sys.Arch;
import dev.eventloopguardian.sys.Linux;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * A guard program generated for a policy and loaded into the kernel, ready to be attached to
 * threads. Closing it drops our reference; perf events attached to it keep it alive.
 */
public final class Guard implements ReportingGuard, AutoCloseable {
    static final String PROGRAM_NAME = "evloop_guard";
    static final String NEEDED_CAPABILITIES = "Loading and attaching the guard needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN).";

    /**
     * Records are as long as their stacks: a pipe storm's event (6 kernel frames, 1 user frame)
     * takes 184 bytes and its end 32, so 4 MiB holds about 19 000 of its sleeps, and 4 500 at the
     * deepest stacks. That is enough for the reader's start-up pause and a storm's bursts (at 1
     * MiB of fixed-size records, the start-up pause lost events at rates the reader otherwise
     * keeps up with). Every page counts in the reader's resident memory from the moment it is
     * mapped: the kernel maps them all at once.
     */
    static final int RING_BUFFER_BYTES = 4 << 20;

    private final Program program;
    private final LoadedProgram loaded;
    private final ReportMaps maps;
    private final Optional<JavaThreads> javaThreads;


    /**
     * The maps of a reporting guard: the ring buffer, the per-CPU scratch record an event is built
     * in, the drop counters, and the task storage that holds a thread's open reported sleep until
     * its next switch-out (freed with the thread).
     */
    record ReportMaps(BpfMap events, BpfMap scratch, BpfMap drops, BpfMap asleep) implements AutoCloseable {
        static ReportMaps create() throws BpfException {
            List<BpfMap> made = new ArrayList<>(4);
            try {
                made.add(BpfMap.create(MapType.RINGBUF, "evloop_events", 0, 0, RING_BUFFER_BYTES));
                made.add(BpfMap.create(MapType.PERCPU_ARRAY, "evloop_scratch", 4, EventLayout.MAX_SIZE, 1));
                made.add(BpfMap.create(MapType.ARRAY, "evloop_drops", 4, 8, EventLayout.DROP_COUNTERS));
                made.add(BpfMap.createTaskStorage("evloop_asleep", EventLayout.ASLEEP_VALUE_BYTES));
                return new ReportMaps(made.get(0), made.get(1), made.get(2), made.get(3));
            } catch (BpfException | RuntimeException e) {
                made.forEach(BpfMap::close);
                throw e;
            }
        }

        /** Reads the ring buffer: {@code listener} gets each record as the returned reader polls. */
        RingBuffer read(SleepListener listener) throws GuardException {
            try {
                return RingBuffer.open(events, record -> {
                    if (SleepEnd.isEnd(record.remaining())) {
                        listener.ended(SleepEnd.decode(record));
                    } else {
                        listener.asleep(BlockingEvent.decode(record));
                    }
                });
            } catch (BpfException e) {
                throw new GuardException(GuardException.Kind.UNSUPPORTED, e.getMessage(), null, e);
            }
        }

        long dropCount(int counter) throws GuardException {
            try {
                return drops.lookupLong(counter);
            } catch (BpfException e) {
                throw new GuardException(GuardException.Kind.UNSUPPORTED, e.getMessage(), null, e);
            }
        }

        ProgramMaps fds(Optional<JavaThreads> javaThreads) {
            return new ProgramMaps(events.fd(), scratch.fd(), drops.fd(), asleep.fd(), javaThreads.map(JavaThreads::fd).orElse(-1));
        }

        @Override
        public void close() {
            events.close();
            scratch.close();
            drops.close();
            asleep.close();
        }
    }

    /** Receives what a reporting guard writes: each counted sleep as it starts, and later its end. */
    @FunctionalInterface
    public interface SleepListener {
        void asleep(BlockingEvent event);

        /** The end of a sleep reported earlier; not every sleep gets one (see {@link SleepEnd}). */
        default void ended(SleepEnd end) {
        }
    }

    private Guard(Program program, LoadedProgram loaded, ReportMaps maps, Optional<JavaThreads> javaThreads) {
        this.program = program;
        this.loaded = loaded;
        this.maps = maps;
        this.javaThreads = javaThreads;
    }

    /**
     * Starts reading the kernel's layout and binding our system calls on a background thread,
     * so that a cold JVM does this while the command line is parsed on the main thread: the
     * two together are most of our launch time.
     */
    public static void warmUpInBackground() {
        FutureTask<KernelLayout> task = new FutureTask<>(() -> {
            Linux.pid();
            SyscallTable.of(Arch.current());
            return KernelLayout.of(Btf.vmlinux(), Arch.current());
        });
        warmLayout = task;
        Thread.ofPlatform().daemon().name("warm-up").start(task);
    }

    private static volatile FutureTask<KernelLayout> warmLayout;

    private static KernelLayout layout(Path btf) throws GuardException {
        try {
            FutureTask<KernelLayout> warm = warmLayout;
            if (warm != null && btf.equals(Btf.VMLINUX)) {
                return warm.get();
            }
            return KernelLayout.of(Btf.read(btf), Arch.current());
        } catch (ExecutionException e) {
            if (e.getCause() instanceof BtfException unreadable) {
                throw unsupported(unreadable);
            }
            throw new IllegalStateException("warming up failed", e.getCause());
        } catch (BtfException e) {
            throw unsupported(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading BTF", e);
        }
    }

    private static GuardException unsupported(BtfException e) {
        return new GuardException(GuardException.Kind.UNSUPPORTED, e.getMessage(), null, e);
    }

    /**
     * Generates the program for {@code policy} against the kernel described by {@code btf}
     * (normally {@link Btf#VMLINUX}), without loading it.
     */
    public static Program generate(Policy policy, Path btf) throws GuardException, UnknownSyscallException {
        return GuardProgram.generate(policy, SyscallTable.of(Arch.current()), layout(btf), ProgramMaps.PLACEHOLDER);
    }

    /** Generates and loads the program for {@code policy}, with its maps when it reports. */
    public static Guard load(Policy policy, Path btf) throws GuardException, UnknownSyscallException {
        KernelLayout layout = layout(btf);
        ReportMaps maps = null;
        Optional<JavaThreads> javaThreads = Optional.empty();
        Program program = null;
        LoadedProgram loaded = null;
        Guard guard = null;
        try {
            maps = policy.report() ? ReportMaps.create() : null;
            javaThreads = policy.javaWaits().isEmpty() ? Optional.empty() : Optional.of(JavaThreads.create());
            int javaThreadsFd = javaThreads.map(JavaThreads::fd).orElse(-1);
            program = GuardProgram.generate(policy, SyscallTable.of(Arch.current()), layout, maps == null
                    ? ProgramMaps.javaThreadsOnly(javaThreadsFd) : maps.fds(javaThreads));
            loaded = LoadedProgram.load(ProgramType.PERF_EVENT, PROGRAM_NAME, program);
            guard = new Guard(program, loaded, maps, javaThreads);
            return guard;
        } catch (BpfException e) {
            throw explain(e, program);
        } finally {
            if (guard == null) {
                // Whatever failed, checked or not: an embedding JVM lives on, and would keep the
                // maps (a 4 MiB ring among them) and the program for as long as it runs.
                releaseUnowned(loaded, maps, javaThreads);
            }
        }
    }

    private static void releaseUnowned(LoadedProgram loaded, ReportMaps maps, Optional<JavaThreads> javaThreads) {
        if (loaded != null) {
            loaded.close();
        }
        if (maps != null) {
            maps.close();
        }
        javaThreads.ifPresent(JavaThreads::close);
    }

    /**
     * Reads this guard's records: {@code listener} gets each as the returned reader polls. Only
     * for a guard whose policy reports.
     */
    @Override
    public RingBuffer events(SleepListener listener) throws GuardException {
        return reporting().read(listener);
    }

    /**
     * Lets this guard classify the futex sleeps of JVM thread {@code tid}: from now on, one
     * counts when {@code waits} say it is a Java-level wait. Only for a guard whose policy
     * counts Java-level waits.
     */
    public void watchJavaThread(int tid, JavaThreadWaits waits) throws GuardException {
        try {
            javaThreads().watch(tid, waits);
        } catch (BpfException e) {
            throw new GuardException(GuardException.Kind.UNSUPPORTED, e.getMessage(), null, e);
        }
    }

    /** Stops classifying {@code tid}'s futex sleeps: it ended, or its tid may be reused. */
    public void forgetJavaThread(int tid) throws GuardException {
        try {
            javaThreads().forget(tid);
        } catch (BpfException e) {
            throw new GuardException(GuardException.Kind.UNSUPPORTED, e.getMessage(), null, e);
        }
    }

    /** The descriptor of the map of JVM threads, for a guard that counts Java-level waits. */
    public java.util.OptionalInt javaThreadsFd() {
        return javaThreads.isPresent() ? java.util.OptionalInt.of(javaThreads.get().fd()) : java.util.OptionalInt.empty();
    }

    private JavaThreads javaThreads() {
        return javaThreads.orElseThrow(() -> new IllegalStateException("this guard's policy does not count Java-level waits"));
    }

    /** Events the kernel could not queue because the ring buffer was full. */
    @Override
    public long droppedEvents() throws GuardException {
        return dropCount(EventLayout.DROPPED_EVENTS);
    }

    /** Ends of reported sleeps the kernel could not queue: those sleeps are reported without their length. */
    @Override
    public long droppedEnds() throws GuardException {
        return dropCount(EventLayout.DROPPED_ENDS);
    }

    private long dropCount(int counter) throws GuardException {
        return reporting().dropCount(counter);
    }

    private ReportMaps reporting() {
        if (maps == null) {
            throw new IllegalStateException("this guard's policy does not report");
        }
        return maps;
    }

    static GuardException explain(BpfException e, Program program) {
        if (e.isPermissionDenied()) {
            return new GuardException(GuardException.Kind.PERMISSION, GuardException.Reason.CAPABILITIES, null,
                    "not allowed to load an eBPF program: " + e.kernelError(), NEEDED_CAPABILITIES, e);
        }
        if (program == null) {
            return new GuardException(GuardException.Kind.UNSUPPORTED, "cannot create the report's maps: " + e.getMessage(),
                    null, e);
        }
        String log = e.verifierLog();
        if (log.contains("unknown func")) {
            return new GuardException(GuardException.Kind.UNSUPPORTED,
                    "this kernel lacks an eBPF helper the guard needs: bpf_get_current_task_btf (Linux 5.11+) "
                            + "and bpf_task_pt_regs (Linux 5.15+)", log, e);
        }
        if (e.isVerifierRejection()) {
            return new GuardException(GuardException.Kind.REJECTED,
                    "the kernel's verifier rejected the generated guard program; this is a bug in eventloop-guardian, "
                            + "please report it with the log below", "program:\n" + program.listing() + "\nverifier log:\n" + log, e);
        }
        return new GuardException(GuardException.Kind.UNSUPPORTED, e.getMessage(), null, e);
    }

    @Override
    public Program program() {
        return program;
    }

    public int programFd() {
        return loaded.fd();
    }

    /** The kernel's statistics for the loaded program (run counts need kernel.bpf_stats_enabled=1). */
    @Override
    public ProgramInfo info() throws GuardException {
        try {
            return loaded.info();
        } catch (BpfException e) {
            throw new GuardException(GuardException.Kind.UNSUPPORTED, e.getMessage(), null, e);
        }
    }

    /**
     * Opens a context-switch event on the calling thread that starts at its next exec and
     * survives it, with this guard attached. With {@code allThreads}, every thread and process
     * the exec'd command creates inherits it.
     */
    public PerfEvent armCurrentThreadForExec(boolean allThreads) throws GuardException {
        return arm(0, PerfEvent.Options.atExec(allThreads));
    }

    /**
     * Opens a context-switch event on another process's main thread ({@code pid}) that starts
     * when it next execs, with this guard attached: the supervised form of
     * {@link #armCurrentThreadForExec}, for a child stopped before its exec.
     */
    public PerfEvent armProcessForExec(int pid, boolean allThreads) throws GuardException {
        return arm(pid, new PerfEvent.Options(allThreads, true, false));
    }

    /**
     * Attaches this guard to every thread of the running process {@code pid} and to the threads
     * they create, until the result is closed.
     */
    public AttachedProcess attachToProcess(int pid) throws GuardException {
        return AttachedProcess.attach(loaded.fd(), pid);
    }

    private PerfEvent arm(int tid, PerfEvent.Options options) throws GuardException {
        PerfEvent event;
        try {
            event = PerfEvent.contextSwitches(tid, options);
        } catch (PerfException e) {
            throw explain(e);
        }
        try {
            event.attach(loaded.fd());
            return event;
        } catch (PerfException e) {
            event.close();
            throw explain(e);
        }
    }

    static GuardException explain(PerfException e) {
        if (e.isPermissionDenied()) {
            return new GuardException(GuardException.Kind.PERMISSION, GuardException.Reason.CAPABILITIES, null,
                    e.getMessage() + " (kernel.perf_event_paranoid is " + perfEventParanoid() + ")", NEEDED_CAPABILITIES, e);
        }
        return new GuardException(GuardException.Kind.UNSUPPORTED, e.getMessage(), null, e);
    }

    static String perfEventParanoid() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/perf_event_paranoid")).strip();
        } catch (IOException e) {
            return "unknown";
        }
    }

    @Override
    public void close() {
        loaded.close();
        if (maps != null) {
            maps.close();
        }
        javaThreads.ifPresent(JavaThreads::close);
    }
}
