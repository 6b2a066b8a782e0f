package dev.eventloopguardian.guard;

import dev.eventloopguardian.bpf.AluOp;
import dev.eventloopguardian.bpf.Assembler;
import dev.eventloopguardian.bpf.Helper;
import dev.eventloopguardian.bpf.JumpOp;
import dev.eventloopguardian.bpf.Program;
import dev.eventloopguardian.bpf.Reg;
import dev.eventloopguardian.bpf.Size;

/**
 * The two small programs that keep a host program's hash of processes true between user
 * space's looks, so that a process is covered from its first instruction on without our
 * attaching to it:
 *
 * <ul>
 *   <li>on {@code sched_process_fork}, a new process inherits its parent's rules (a fork runs
 *   the parent's program, in its cgroup), with a fresh budget; a new process whose parent has
 *   none has its tgid's entry removed, since it may be a dead process's whose tgid was reused;
 *   a new thread changes nothing;</li>
 *   <li>on {@code sched_process_exec}, the process's rules are taken away, since its program
 *   changed (its entry, with its count of suppressed sleeps, stays), and its tgid is sent to user
 *   space, which decides its rules afresh.</li>
 * </ul>
 */
final class ProcessTracking {
    /** The tracepoints' BTF types: their ids name the tracepoints at load. */
    static final String FORK_TRACEPOINT = "btf_trace_sched_process_fork";
    static final String EXEC_TRACEPOINT = "btf_trace_sched_process_exec";
    /** {@code btf_trace_sched_process_fork}'s arguments: {@code (struct task_struct *parent, struct task_struct *child)}. */
    static final int FORK_CHILD = 8;
    /** An exec's record in the ring buffer: the tgid, as a u32. */
    static final int EXEC_RECORD_BYTES = 4;

    private static final int CHILD_KEY_SLOT = -4;
    private static final int PARENT_KEY_SLOT = -8;
    private static final int VALUE_SLOT = -8 - HostProcess.BYTES;
    private static final int BPF_ANY = 0;

    /** Where {@code task_struct} keeps a task's thread id and process id, from the kernel's BTF. */
    record TaskIds(KernelLayout.Field pid, KernelLayout.Field tgid) {
    }

    private ProcessTracking() {
    }

    static Program forkProgram(TaskIds ids, int processesFd) {
        Assembler asm = new Assembler();
        asm.load(Size.DW, Reg.R6, Reg.R1, FORK_CHILD).comment("child")
                .load(ids.pid().size(), Reg.R1, Reg.R6, ids.pid().offset()).comment(ids.pid().expression())
                .load(ids.tgid().size(), Reg.R2, Reg.R6, ids.tgid().offset()).comment(ids.tgid().expression())
                .jump(JumpOp.JNE, Reg.R1, Reg.R2, "out").comment("a new thread of the same process")
                .store(Size.W, Reg.R10, CHILD_KEY_SLOT, Reg.R2).comment("the new process's tgid")
                .call(Helper.GET_CURRENT_PID_TGID).comment("the parent is current")
                .alu(AluOp.RSH, Reg.R0, 32)
                .store(Size.W, Reg.R10, PARENT_KEY_SLOT, Reg.R0)
                .loadMapFd(Reg.R1, processesFd).comment("watched processes")
                .mov(Reg.R2, Reg.R10)
                .alu(AluOp.ADD, Reg.R2, PARENT_KEY_SLOT)
                .call(Helper.MAP_LOOKUP_ELEM)
                .jump(JumpOp.JEQ, Reg.R0, 0, "unwatched").comment("the parent has no rules")
                .load(Size.DW, Reg.R1, Reg.R0, HostProcess.RULES)
                .store(Size.DW, Reg.R10, VALUE_SLOT + HostProcess.RULES, Reg.R1).comment("its rules")
                .store(Size.DW, Reg.R10, VALUE_SLOT + HostProcess.WINDOW_START, 0).comment("a budget of its own")
                .store(Size.DW, Reg.R10, VALUE_SLOT + HostProcess.WINDOW_EVENTS, 0)
                .store(Size.DW, Reg.R10, VALUE_SLOT + HostProcess.SUPPRESSED, 0)
                .loadMapFd(Reg.R1, processesFd)
                .mov(Reg.R2, Reg.R10)
                .alu(AluOp.ADD, Reg.R2, CHILD_KEY_SLOT)
                .mov(Reg.R3, Reg.R10)
                .alu(AluOp.ADD, Reg.R3, VALUE_SLOT)
                .mov(Reg.R4, BPF_ANY)
                .call(Helper.MAP_UPDATE_ELEM).comment("the child inherits them (a full hash: it goes unwatched)")
                .jump("out")
                .label("unwatched")
                .loadMapFd(Reg.R1, processesFd)
                .mov(Reg.R2, Reg.R10)
                .alu(AluOp.ADD, Reg.R2, CHILD_KEY_SLOT)
                .call(Helper.MAP_DELETE_ELEM).comment("a reused tgid's stale entry, if any")
                .label("out")
                .mov(Reg.R0, 0)
                .exit();
        return asm.assemble();
    }

    static Program execProgram(int processesFd, int execsFd) {
        Assembler asm = new Assembler();
        asm.call(Helper.GET_CURRENT_PID_TGID).comment("the process that exec'd is current")
                .alu(AluOp.RSH, Reg.R0, 32)
                .store(Size.W, Reg.R10, CHILD_KEY_SLOT, Reg.R0).comment("its tgid")
                .loadMapFd(Reg.R1, processesFd).comment("watched processes")
                .mov(Reg.R2, Reg.R10)
                .alu(AluOp.ADD, Reg.R2, CHILD_KEY_SLOT)
                .call(Helper.MAP_LOOKUP_ELEM)
                .jump(JumpOp.JEQ, Reg.R0, 0, "tell").comment("no entry")
                .store(Size.DW, Reg.R0, HostProcess.RULES, 0).comment("its rules were for the program it ran; its counts stay")
                .label("tell")
                .loadMapFd(Reg.R1, execsFd).comment("execs ring buffer")
                .mov(Reg.R2, Reg.R10)
                .alu(AluOp.ADD, Reg.R2, CHILD_KEY_SLOT)
                .mov(Reg.R3, EXEC_RECORD_BYTES)
                .mov(Reg.R4, 0)
                .call(Helper.RINGBUF_OUTPUT).comment("user space decides its rules afresh (full: its next look does)")
                .mov(Reg.R0, 0)
                .exit();
        return asm.assemble();
    }
}
