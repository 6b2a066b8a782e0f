package dev.eventloopguardian.bpf;

import dev.eventloopguardian.sys.Linux;
import dev.eventloopguardian.sys.SyscallException;

import java.lang.foreign.MemorySegment;

/** The {@code bpf(2)} entry point; every command's {@code union bpf_attr} goes through here. */
final class BpfSyscall {
    /** Large enough for every attribute we set; the kernel requires the tail beyond what it knows to be zero. */
    static final long ATTR_SIZE = 168;

    static final int MAP_CREATE = 0;
    static final int MAP_LOOKUP_ELEM = 1;
    static final int MAP_UPDATE_ELEM = 2;
    static final int MAP_DELETE_ELEM = 3;
    static final int PROG_LOAD = 5;
    static final int PROG_GET_FD_BY_ID = 13;
    static final int MAP_GET_FD_BY_ID = 14;
    static final int OBJ_GET_INFO_BY_FD = 15;
    static final int RAW_TRACEPOINT_OPEN = 17;
    static final int BTF_LOAD = 18;

    private BpfSyscall() {
    }

    static int call(String what, int command, MemorySegment attr) {
        try {
            return Linux.bpf(command, attr);
        } catch (SyscallException e) {
            throw new SyscallException("bpf(" + what + ")", e.errno());
        }
    }
}
