package dev.eventloopguardian.bpf;

import dev.eventloopguardian.sys.SyscallException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Part of {@code struct bpf_prog_info}: the kernel's id for the program, the size after
 * verification, and the run statistics that {@code kernel.bpf_stats_enabled=1} turns on.
 */
public record ProgramInfo(int id, int translatedBytes, long runTimeNanos, long runCount, int verifiedInstructions) {
    // Offsets in struct bpf_prog_info (include/uapi/linux/bpf.h); the struct only ever grows.
    private static final int INFO_SIZE = 224;

    static ProgramInfo of(int programFd) throws BpfException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = arena.allocate(INFO_SIZE, 8);
            MemorySegment attr = arena.allocate(BpfSyscall.ATTR_SIZE, 8);
            attr.set(JAVA_INT, 0, programFd);
            attr.set(JAVA_INT, 4, INFO_SIZE);
            attr.set(JAVA_LONG, 8, info.address());
            BpfSyscall.call("BPF_OBJ_GET_INFO_BY_FD", BpfSyscall.OBJ_GET_INFO_BY_FD, attr);
            return new ProgramInfo(info.get(JAVA_INT, 4), info.get(JAVA_INT, 20), info.get(JAVA_LONG, 192),
                    info.get(JAVA_LONG, 200), info.get(JAVA_INT, 216));
        } catch (SyscallException e) {
            throw new BpfException("cannot read the program's info", e, null);
        }
    }

    /** Mean nanoseconds per run, or 0 before any run was counted. */
    public double nanosPerRun() {
        return runCount == 0 ? 0 : (double) runTimeNanos / runCount;
    }
}
