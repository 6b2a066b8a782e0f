package dev.eventloopguardian.guard;

import dev.eventloopguardian.bpf.BpfException;
import dev.eventloopguardian.bpf.BpfMap;
import dev.eventloopguardian.bpf.LoadedProgram;
import dev.eventloopguardian.bpf.MapType;
import dev.eventloopguardian.bpf.Program;
import dev.eventloopguardian.bpf.ProgramInfo;
import dev.eventloopguardian.bpf.RingBuffer;
import dev.eventloopguardian.btf.Btf;
import dev.eventloopguardian.btf.BtfException;
import dev.eventloopguardian.sys.Arch;
import dev.eventloopguardian.sys.Linux;
import dev.eventloopguardian.sys.SyscallException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntConsumer;

/**
 * A guard of a whole host that reports (and signals where a rule says): one program on the {@code sched_switch} tracepoint that
 * runs at every context switch on the machine, and decides for the threads of the processes
 * user space gave rules to ({@link GuardProgram#generateForHost}), with two small programs that
 * keep those processes' entries true across fork and exec ({@link ProcessTracking}). No process
 * is attached to: one started later is covered once its entry is written, and a fork of a
 * watched process from its first instruction.
 *
 * <p>The rules can be replaced while it runs: the new program is attached before the old one
 * is detached, on the same maps, so no event, open sleep or count is lost between them.
 */
public final class HostWatch implements ReportingGuard, AutoCloseable {
    static final String PROGRAM_NAME = "evloop_host";
    static final String SWITCH_TRACEPOINT = "btf_trace_sched_switch";
    /** Execs waiting for user space; each is 16 bytes in the ring, so this holds 4 096 of them. */
    static final int EXEC_RING_BYTES = 64 << 10;

    private final KernelLayout layout;
    private final KernelLayout.Field groupLeader;
    private final int switchTracepoint;
    private final Guard.ReportMaps maps;
    private final BpfMap processes;
    private final BpfMap execs;
    private final Attached fork;
    private final Attached exec;
    private volatile Attached decider;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Guarded by itself, with the two maps after it: the processes given rules here. */
    private final java.util.Set<Integer> written = new java.util.HashSet<>();
    /** The suppressed sleeps each watched process had when last read: what is known of it once it exited. */
    private final Map<Integer, Long> lastSuppressed = new java.util.HashMap<>();
    /** The suppressed sleeps of processes forgotten, the latest {@link #FORGOTTEN_KEPT}: they end with their process. */
    private final Map<Integer, Long> suppressedOfForgotten = new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Integer, Long> eldest) {
            return size() > FORGOTTEN_KEPT;
        }
    };
    static final int FORGOTTEN_KEPT = 1000;

    /** A loaded program and the link that keeps it on its tracepoint. */
    private record Attached(Program program, LoadedProgram loaded, int link) {
        static Attached load(String name, Program program, int tracepoint) throws BpfException {
            LoadedProgram loaded = LoadedProgram.loadTracing(name, program, LoadedProgram.TRACE_RAW_TP, tracepoint);
            try {
                return new Attached(program, loaded, loaded.attachRawTracepoint());
            } catch (BpfException e) {
                loaded.close();
                throw e;
            }
        }

        void close() {
            Linux.close(link);
            loaded.close();
        }
    }

    private HostWatch(KernelLayout layout, KernelLayout.Field groupLeader, int switchTracepoint, Guard.ReportMaps maps, BpfMap processes, BpfMap execs, Attached fork, Attached exec, Attached decider) {
        this.layout = layout;
        this.groupLeader = groupLeader;
        this.switchTracepoint = switchTracepoint;
        this.maps = maps;
        this.processes = processes;
        this.execs = execs;
        this.fork = fork;
        this.exec = exec;
        this.decider = decider;
    }

    /**
     * Loads and attaches the programs for {@code rules} (1 to 31, each a reporting policy whose
     * thread names select within a process); no process has rules yet: give them with
     * {@link #watch}. Each process may write {@code eventsPerSecond} events a second.
     */
    public static HostWatch start(List<Policy> rules, int eventsPerSecond) throws GuardException, UnknownSyscallException {
        requireBudget(eventsPerSecond);
        Btf btf;
        KernelLayout layout;
        ProcessTracking.TaskFields fields;
        int switchTracepoint;
        int forkTracepoint;
        int execTracepoint;
        try {
            btf = Btf.vmlinux();
            layout = KernelLayout.of(btf, Arch.current());
            fields = new ProcessTracking.TaskFields(KernelLayout.field(btf, "task_struct", "pid", "task->pid"),
                    KernelLayout.field(btf, "task_struct", "tgid", "task->tgid"),
                    KernelLayout.field(btf, "task_struct", "group_leader", "task->group_leader"));
            switchTracepoint = tracepointId(btf, SWITCH_TRACEPOINT);
            forkTracepoint = tracepointId(btf, ProcessTracking.FORK_TRACEPOINT);
            execTracepoint = tracepointId(btf, ProcessTracking.EXEC_TRACEPOINT);
        } catch (BtfException e) {
            throw new GuardException(GuardException.Kind.UNSUPPORTED, e.getMessage(), null, e);
        }
        Guard.ReportMaps maps = null;
        BpfMap processes = null;
        BpfMap execs = null;
        Attached fork = null;
        Attached exec = null;
        Attached decider = null;
        Program program = null;
        HostWatch watch = null;
        try {
            maps = Guard.ReportMaps.create();
            processes = BpfMap.createTaskStorage("evloop_procs", HostProcess.BYTES);
            execs = BpfMap.create(MapType.RINGBUF, "evloop_execs", 0, 0, EXEC_RING_BYTES);
            // The one being loaded, for the listing a rejection shows.
            program = ProcessTracking.forkProgram(fields, processes.fd());
            fork = Attached.load("evloop_fork", program, forkTracepoint);
            program = ProcessTracking.execProgram(fields, processes.fd(), execs.fd());
            exec = Attached.load("evloop_exec", program, execTracepoint);
            program = GuardProgram.generateForHost(rules, SyscallTable.of(Arch.current()), layout, maps.fds(Optional.empty()),
                    processes.fd(), fields.groupLeader(), eventsPerSecond);
            decider = Attached.load(PROGRAM_NAME, program, switchTracepoint);
            watch = new HostWatch(layout, fields.groupLeader(), switchTracepoint, maps, processes, execs, fork, exec, decider);
            return watch;
        } catch (BpfException e) {
            throw Guard.explain(e, program);
        } finally {
            if (watch == null) {
                // Whatever failed, checked or not: nothing of a watch that did not start stays in the kernel.
                for (Attached attached : new Attached[] {decider, exec, fork}) {
                    if (attached != null) {
                        attached.close();
                    }
                }
                for (BpfMap map : new BpfMap[] {execs, processes}) {
                    if (map != null) {
                        map.close();
                    }
                }
                if (maps != null) {
                    maps.close();
                }
            }
        }
    }

    private static void requireBudget(int eventsPerSecond) {
        if (eventsPerSecond < 1) {
            throw new IllegalArgumentException("a process's budget must be at least one event a second, not " + eventsPerSecond);
        }
    }

    /** The vmlinux BTF id of {@code tracepoint}'s typedef ({@code btf_trace_NAME}), which names it to a tracing program. */
    static int tracepointId(Btf btf, String tracepoint) throws GuardException {
        return btf.typeId("TYPEDEF", tracepoint).orElseThrow(() -> new GuardException(GuardException.Kind.UNSUPPORTED,
                "this kernel's BTF has no " + tracepoint + ": programs on tracepoints need BTF-typed tracepoints "
                        + "(Linux 5.5+)", null, null));
    }

    /**
     * Decides by {@code rules}, with a budget of {@code eventsPerSecond} for each process, from now
     * on: the new program is attached before the old one is detached. Rule numbers change
     * meaning with it: give every process its rules again.
     */
    public synchronized void replaceRules(List<Policy> rules, int eventsPerSecond) throws GuardException, UnknownSyscallException {
        requireOpen();
        requireBudget(eventsPerSecond);
        Program program = GuardProgram.generateForHost(rules, SyscallTable.of(Arch.current()), layout, maps.fds(Optional.empty()),
                processes.fd(), groupLeader, eventsPerSecond);
        Attached replacement;
        try {
            replacement = Attached.load(PROGRAM_NAME, program, switchTracepoint);
        } catch (BpfException e) {
            throw Guard.explain(e, program);
        }
        Attached old = decider;
        decider = replacement;
        old.close();
    }

    /**
     * Gives process {@code pid} the rules whose bits {@code rules} sets (bit i: rule i); 0 takes
     * them away. Its budget and its count of suppressed sleeps carry over.
     */
    public void watch(int pid, long rules) throws GuardException {
        if (rules == 0) {
            forget(pid);
            return;
        }
        try {
            withProcess(pid, key -> {
                ByteBuffer value = ByteBuffer.allocate(HostProcess.BYTES).order(ByteOrder.nativeOrder());
                processes.lookup(key).ifPresent(value::put);
                value.putLong(HostProcess.RULES, rules);
                processes.update(key, value.array());
                return null;
            });
            synchronized (written) {
                written.add(pid);
            }
        } catch (BpfException | SyscallException e) {
            throw new GuardException(GuardException.Kind.UNSUPPORTED, "cannot watch process " + pid + ": " + e.getMessage(), null, e);
        }
    }

    /**
     * Takes process {@code pid}'s entry away (no rule selects it any more, or it exited); its
     * count of suppressed sleeps is kept with those of other forgotten processes.
     */
    public void forget(int pid) {
        long suppressed;
        try {
            suppressed = withProcess(pid, key -> {
                Optional<byte[]> entry = processes.lookup(key);
                processes.delete(key);
                return entry.map(HostWatch::suppressedIn).orElse(0L);
            });
        } catch (BpfException | SyscallException gone) {
            suppressed = lastSuppressed.getOrDefault(pid, 0L); // exited: its entry went with it
        }
        synchronized (written) {
            written.remove(pid);
            lastSuppressed.remove(pid);
            if (suppressed > 0) {
                suppressedOfForgotten.merge(pid, suppressed, Long::sum);
            }
        }
    }

    /** What the kernel holds for a watched process: its rules, and the sleeps its budget left unwritten. */
    public record Watched(long rules, long suppressed) {
    }

    /**
     * The processes given rules here, by pid, with what their entries hold now; those that
     * exited are forgotten on the way. A process that inherited its rules at a fork shows once
     * it was given them here too (user space's next look).
     */
    public Map<Integer, Watched> watched() {
        List<Integer> pids;
        synchronized (written) {
            pids = List.copyOf(written);
        }
        Map<Integer, Watched> watched = new LinkedHashMap<>();
        for (int pid : pids) {
            try {
                Optional<byte[]> entry = withProcess(pid, processes::lookup);
                if (entry.isPresent()) {
                    ByteBuffer value = ByteBuffer.wrap(entry.get()).order(ByteOrder.nativeOrder());
                    Watched now = new Watched(value.getLong(HostProcess.RULES), value.getLong(HostProcess.SUPPRESSED));
                    watched.put(pid, now);
                    synchronized (written) {
                        lastSuppressed.put(pid, now.suppressed());
                    }
                }
            } catch (BpfException | SyscallException gone) {
                forget(pid);
            }
        }
        return watched;
    }

    private static long suppressedIn(byte[] entry) {
        return ByteBuffer.wrap(entry).order(ByteOrder.nativeOrder()).getLong(HostProcess.SUPPRESSED);
    }

    private interface OnKey<T> {
        T apply(byte[] key) throws BpfException;
    }

    /** Task storage is keyed by a pidfd from user space: the process's, which names its group leader. */
    private static <T> T withProcess(int pid, OnKey<T> action) throws BpfException, SyscallException {
        int pidfd = Linux.pidfdOpen(pid, 0);
        try {
            return action.apply(ByteBuffer.allocate(Integer.BYTES).order(ByteOrder.nativeOrder()).putInt(pidfd).array());
        } finally {
            Linux.close(pidfd);
        }
    }

    @Override
    public java.util.OptionalInt processesWatched() {
        return java.util.OptionalInt.of((int) watched().values().stream().filter(watched -> watched.rules() != 0).count());
    }

    /** Those of the processes watched now, and of the last {@value #FORGOTTEN_KEPT} forgotten that had some. */
    @Override
    public Map<Integer, Long> suppressed() {
        Map<Integer, Watched> now = watched();
        Map<Integer, Long> suppressed;
        synchronized (written) {
            suppressed = new LinkedHashMap<>(suppressedOfForgotten);
        }
        now.forEach((pid, watched) -> {
            if (watched.suppressed() > 0) {
                suppressed.merge(pid, watched.suppressed(), Long::sum);
            }
        });
        return suppressed;
    }

    /** Reads the execs of the host: {@code onExec} gets each process's pid as the returned reader polls. */
    public RingBuffer execs(IntConsumer onExec) throws GuardException {
        try {
            return RingBuffer.open(execs, record -> onExec.accept(record.order(ByteOrder.nativeOrder()).getInt(record.position())));
        } catch (BpfException e) {
            throw new GuardException(GuardException.Kind.UNSUPPORTED, e.getMessage(), null, e);
        }
    }

    private static byte[] key(int pid) {
        return ByteBuffer.allocate(Integer.BYTES).order(ByteOrder.nativeOrder()).putInt(pid).array();
    }

    @Override
    public RingBuffer events(Guard.SleepListener listener) throws GuardException {
        return maps.read(listener);
    }

    @Override
    public long droppedEvents() throws GuardException {
        return maps.dropCount(EventLayout.DROPPED_EVENTS);
    }

    @Override
    public long droppedEnds() throws GuardException {
        return maps.dropCount(EventLayout.DROPPED_ENDS);
    }

    @Override
    public Program program() {
        return decider.program();
    }

    @Override
    public ProgramInfo info() throws GuardException {
        try {
            return decider.loaded().info();
        } catch (BpfException e) {
            throw new GuardException(GuardException.Kind.UNSUPPORTED, e.getMessage(), null, e);
        }
    }

    private void requireOpen() {
        if (closed.get()) {
            throw new IllegalStateException("this host watch is closed");
        }
    }

    /** Detaches every program: nothing of the watch stays in the kernel once readers close their rings. */
    @Override
    public synchronized void close() {
        if (closed.compareAndSet(false, true)) {
            decider.close();
            exec.close();
            fork.close();
            execs.close();
            processes.close();
            maps.close();
        }
    }
}
