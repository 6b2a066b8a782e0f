package dev.eventloopguardian.guard;

import dev.eventloopguardian.bpf.BpfException;
import dev.eventloopguardian.bpf.BpfMap;
import dev.eventloopguardian.bpf.LoadedProgram;
import dev.eventloopguardian.bpf.Program;
import dev.eventloopguardian.bpf.ProgramInfo;
import dev.eventloopguardian.btf.Btf;
import dev.eventloopguardian.btf.BtfException;
import dev.eventloopguardian.sys.Arch;
import dev.eventloopguardian.sys.Linux;
import dev.eventloopguardian.sys.SyscallException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The guard as one program on the {@code sched_switch} tracepoint (a BTF-enabled tracing
 * program, {@code BPF_TRACE_RAW_TP}) instead of a perf event per thread: threads are guarded by
 * a mark in task storage, which the kernel frees with the task. No thread pays perf's
 * context-switch work, but the program runs at every context switch on the machine, guarded or
 * not, and stops at its first compares for the others.
 *
 * <p>A prototype beside {@link Guard}, to measure the two mechanisms against each other
 * (BENCHMARKS.md, end to end): signal policies only.
 */
public final class SchedSwitchGuard implements AutoCloseable {
    static final String PROGRAM_NAME = "evloop_switch";
    /** The raw tracepoint's BTF type: its id names the tracepoint at load. */
    static final String TRACEPOINT_TYPE = "btf_trace_sched_switch";

    private final Program program;
    private final BpfMap guarded;
    private final LoadedProgram loaded;
    private final int link;
    private final AtomicBoolean closed = new AtomicBoolean();

    private SchedSwitchGuard(Program program, BpfMap guarded, LoadedProgram loaded, int link) {
        this.program = program;
        this.guarded = guarded;
        this.loaded = loaded;
        this.link = link;
    }

    /** Generates, loads and attaches the program for {@code policy}; no thread is guarded yet. */
    public static SchedSwitchGuard start(Policy policy) throws GuardException, UnknownSyscallException {
        Btf btf;
        KernelLayout layout;
        int tracepoint;
        try {
            btf = Btf.vmlinux();
            layout = KernelLayout.of(btf, Arch.current());
            tracepoint = HostWatch.tracepointId(btf, TRACEPOINT_TYPE);
        } catch (BtfException e) {
            throw new GuardException(GuardException.Kind.UNSUPPORTED, e.getMessage(), null, e);
        }
        BpfMap guarded = null;
        LoadedProgram loaded = null;
        Program program = null;
        try {
            guarded = BpfMap.createTaskStorage("evloop_guarded", Long.BYTES);
            program = GuardProgram.generateForSchedSwitch(policy, SyscallTable.of(Arch.current()), layout, guarded.fd());
            loaded = LoadedProgram.loadTracing(PROGRAM_NAME, program, LoadedProgram.TRACE_RAW_TP, tracepoint);
            int link = loaded.attachRawTracepoint();
            return new SchedSwitchGuard(program, guarded, loaded, link);
        } catch (BpfException e) {
            if (loaded != null) {
                loaded.close();
            }
            if (guarded != null) {
                guarded.close();
            }
            String detail = program == null ? null : "program:\n" + program.listing() + "\nverifier log:\n" + e.verifierLog();
            throw new GuardException(GuardException.Kind.UNSUPPORTED, e.getMessage(), detail, e);
        }
    }

    /** Guards thread {@code tid} (of any process) from its next switch-out on, until it exits or {@link #release}. */
    public void guard(int tid) throws GuardException {
        withThread(tid, key -> guarded.update(key, new byte[Long.BYTES]));
    }

    /** Stops guarding {@code tid}. */
    public void release(int tid) throws GuardException {
        withThread(tid, guarded::delete);
    }

    private interface OnKey {
        void accept(byte[] key) throws BpfException;
    }

    /** Task storage is keyed by a pidfd from user space; one for the thread alone (PIDFD_THREAD). */
    private static void withThread(int tid, OnKey action) throws GuardException {
        int pidfd;
        try {
            pidfd = Linux.pidfdOpen(tid, Linux.PIDFD_THREAD);
        } catch (SyscallException e) {
            throw new GuardException(GuardException.Kind.UNSUPPORTED, "cannot open thread " + tid + ": " + e.getMessage(), null, e);
        }
        try {
            action.accept(ByteBuffer.allocate(Integer.BYTES).order(ByteOrder.nativeOrder()).putInt(pidfd).array());
        } catch (BpfException e) {
            throw new GuardException(GuardException.Kind.UNSUPPORTED, e.getMessage(), null, e);
        } finally {
            Linux.close(pidfd);
        }
    }

    public Program program() {
        return program;
    }

    /** The kernel's statistics for the program (run counts need kernel.bpf_stats_enabled=1). */
    public ProgramInfo info() throws GuardException {
        try {
            return loaded.info();
        } catch (BpfException e) {
            throw new GuardException(GuardException.Kind.UNSUPPORTED, e.getMessage(), null, e);
        }
    }

    /** Detaches the program; every thread is unguarded from then on. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            Linux.close(link);
            loaded.close();
            guarded.close();
        }
    }
}
