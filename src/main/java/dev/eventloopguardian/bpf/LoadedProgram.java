package dev.eventloopguardian.bpf;

import dev.eventloopguardian.sys.Errno;
import dev.eventloopguardian.sys.Linux;
import dev.eventloopguardian.sys.SyscallException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** A program the kernel verified and holds; closing the descriptor lets the kernel free it once unused. */
public final class LoadedProgram implements AutoCloseable {
    private static final int LOG_LEVEL_VERBOSE = 1;
    private static final int FIRST_LOG_SIZE = 64 * 1024;
    private static final int MAX_LOG_SIZE = 16 * 1024 * 1024;
    private static final int MAX_EAGAIN_RETRIES = 5;

    private final int fd;
    private final AtomicBoolean closed = new AtomicBoolean();

    private LoadedProgram(int fd) {
        this.fd = fd;
    }

    /**
     * Loads {@code program} under the GPL (the helpers we call are GPL-only). The first attempt
     * runs without a log so that the common case costs nothing; a rejection is retried with a
     * growing log buffer, so the exception carries the verifier's explanation.
     */
    public static LoadedProgram load(ProgramType type, String name, Program program) throws BpfException {
        return load(type, name, program, 0, 0);
    }

    /** {@code enum bpf_attach_type}: a tracing program on a BTF-typed raw tracepoint. */
    public static final int TRACE_RAW_TP = 23;

    /**
     * Loads a {@link ProgramType#TRACING} program for the vmlinux BTF type {@code attachBtfId}
     * (for a raw tracepoint, the id of its {@code btf_trace_NAME} typedef), with
     * {@code expectedAttachType} such as {@link #TRACE_RAW_TP}: the verifier types the context
     * from it. Attach it with {@link #attachRawTracepoint}.
     */
    public static LoadedProgram loadTracing(String name, Program program, int expectedAttachType, int attachBtfId)
            throws BpfException {
        return load(ProgramType.TRACING, name, program, expectedAttachType, attachBtfId);
    }

    private static LoadedProgram load(ProgramType type, String name, Program program, int expectedAttachType,
                                      int attachBtfId) throws BpfException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(BpfSyscall.ATTR_SIZE, 8);
            MemorySegment insns = arena.allocate(program.size() * (long) Instruction.BYTES, 8);
            insns.copyFrom(MemorySegment.ofArray(program.bytes()));
            attr.set(JAVA_INT, 0, type.id);
            attr.set(JAVA_INT, 4, program.size());
            attr.set(JAVA_LONG, 8, insns.address());
            attr.set(JAVA_LONG, 16, arena.allocateFrom("GPL").address());
            byte[] nameBytes = name.getBytes(StandardCharsets.US_ASCII);
            MemorySegment.copy(nameBytes, 0, attr, JAVA_BYTE, 48, Math.min(nameBytes.length, 15));
            // expected_attach_type@68, attach_btf_id@108 (0 for vmlinux: attach_btf_obj_fd@112 stays 0).
            attr.set(JAVA_INT, 68, expectedAttachType);
            attr.set(JAVA_INT, 108, attachBtfId);
            SyscallException first;
            try {
                return new LoadedProgram(loadRetryingEagain(attr));
            } catch (SyscallException e) {
                first = e;
            }
            if (first.is(Errno.EPERM)) {
                throw new BpfException("cannot load the eBPF program", first, null);
            }
            return loadWithLog(arena, attr, first);
        }
    }

    private static LoadedProgram loadWithLog(Arena arena, MemorySegment attr, SyscallException first) throws BpfException {
        SyscallException failure = first;
        for (int size = FIRST_LOG_SIZE; size <= MAX_LOG_SIZE; size *= 4) {
            MemorySegment log = arena.allocate(size);
            attr.set(JAVA_INT, 24, LOG_LEVEL_VERBOSE);
            attr.set(JAVA_INT, 28, size);
            attr.set(JAVA_LONG, 32, log.address());
            try {
                // Loaded on the second try: the verifier is not deterministic under memory pressure, take it.
                return new LoadedProgram(loadRetryingEagain(attr));
            } catch (SyscallException e) {
                failure = e;
                if (!e.is(Errno.ENOSPC)) {
                    throw new BpfException("the kernel's verifier rejected the eBPF program", e, log.getString(0).strip());
                }
            }
        }
        throw new BpfException("the verifier log did not fit in " + MAX_LOG_SIZE + " bytes", failure, "(log too large)");
    }

    private static int loadRetryingEagain(MemorySegment attr) {
        for (int attempt = 0; ; attempt++) {
            try {
                return BpfSyscall.call("BPF_PROG_LOAD", BpfSyscall.PROG_LOAD, attr);
            } catch (SyscallException e) {
                if (!e.is(Errno.EAGAIN) || attempt == MAX_EAGAIN_RETRIES) {
                    throw e;
                }
            }
        }
    }

    /**
     * Attaches this {@link ProgramType#TRACING} program, loaded for a raw tracepoint, with
     * {@code BPF_RAW_TRACEPOINT_OPEN} (the name stays NULL: the program's BTF id names the
     * tracepoint). Returns the link's descriptor: the program runs until it is closed.
     */
    public int attachRawTracepoint() throws BpfException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(BpfSyscall.ATTR_SIZE, 8);
            attr.set(JAVA_INT, 8, fd); // raw_tracepoint.name@0 = NULL, prog_fd@8
            return BpfSyscall.call("BPF_RAW_TRACEPOINT_OPEN", BpfSyscall.RAW_TRACEPOINT_OPEN, attr);
        } catch (SyscallException e) {
            throw new BpfException("cannot attach the program to its tracepoint", e, null);
        }
    }

    public int fd() {
        return fd;
    }

    /** What the kernel reports about this program: run statistics (with {@code kernel.bpf_stats_enabled=1}) and size. */
    public ProgramInfo info() throws BpfException {
        return ProgramInfo.of(fd);
    }

    /** Closes the descriptor, once: a second close could hit an unrelated file that reused the number. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            Linux.close(fd);
        }
    }
}
