package dev.eventloopguardian.guard;

import dev.eventloopguardian.bpf.AluOp;
import dev.eventloopguardian.bpf.Assembler;
import dev.eventloopguardian.bpf.Helper;
import dev.eventloopguardian.bpf.JumpOp;
import dev.eventloopguardian.bpf.Program;
import dev.eventloopguardian.bpf.Reg;
import dev.eventloopguardian.bpf.Size;

/**
 * The two small programs that keep a host program's process entries true between user space's
 * looks, so that a process is covered from its first instruction on without our attaching to
 * it. An entry is a {@link HostProcess} in the task storage of the process's group leader, which
 * the kernel frees with it: an exited process leaves nothing, and a reused tgid starts without.
 *
 * <ul>
 *   <li>on {@code sched_process_fork}, a new process inherits its parent's rules (a fork runs
 *   the parent's program, in its cgroup), with a budget of its own; a new thread changes
 *   nothing;</li>
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
    static final int FORK_PARENT = 0;
    static final int FORK_CHILD = 8;
    /** {@code btf_trace_sched_process_exec}'s first argument: the task that exec'd. */
    static final int EXEC_TASK = 0;
    /** An exec's record in the ring buffer: the tgid, as a u32. */
    static final int EXEC_RECORD_BYTES = 4;

    private static final int TGID_SLOT = -4;
    private static final int VALUE_SLOT = -8 - HostProcess.BYTES;
    /** {@code BPF_LOCAL_STORAGE_GET_F_CREATE}: the storage is created, from the value given. */
    private static final int STORAGE_CREATE = 1;

    /** Where {@code task_struct} keeps a task's thread id, process id and group leader, from the kernel's BTF. */
    record TaskFields(KernelLayout.Field pid, KernelLayout.Field tgid, KernelLayout.Field groupLeader) {
    }

    private ProcessTracking() {
    }

    static Program forkProgram(TaskFields fields, int processesFd) {
        Assembler asm = new Assembler();
        asm.mov(Reg.R9, Reg.R1).comment("the tracepoint's context")
                .load(Size.DW, Reg.R6, Reg.R9, FORK_CHILD).comment("child")
                .load(fields.pid().size(), Reg.R1, Reg.R6, fields.pid().offset()).comment(fields.pid().expression())
                .load(fields.tgid().size(), Reg.R2, Reg.R6, fields.tgid().offset()).comment(fields.tgid().expression())
                .jump(JumpOp.JNE, Reg.R1, Reg.R2, "out").comment("a new thread of the same process")
                .load(Size.DW, Reg.R1, Reg.R9, FORK_PARENT).comment("parent");
        processEntry(asm, fields, processesFd)
                .jump(JumpOp.JEQ, Reg.R0, 0, "out").comment("the parent has no rules")
                .load(Size.DW, Reg.R1, Reg.R0, HostProcess.RULES)
                .store(Size.DW, Reg.R10, VALUE_SLOT + HostProcess.RULES, Reg.R1).comment("its rules")
                .store(Size.DW, Reg.R10, VALUE_SLOT + HostProcess.WINDOW_START, 0).comment("a budget of its own")
                .store(Size.DW, Reg.R10, VALUE_SLOT + HostProcess.WINDOW_EVENTS, 0)
                .store(Size.DW, Reg.R10, VALUE_SLOT + HostProcess.SUPPRESSED, 0)
                .loadMapFd(Reg.R1, processesFd)
                .mov(Reg.R2, Reg.R6)
                .mov(Reg.R3, Reg.R10)
                .alu(AluOp.ADD, Reg.R3, VALUE_SLOT)
                .mov(Reg.R4, STORAGE_CREATE)
                .call(Helper.TASK_STORAGE_GET).comment("the child's, created from them (no memory: it goes unwatched)")
                .label("out")
                .mov(Reg.R0, 0)
                .exit();
        return asm.assemble();
    }

    /**
     * r0 = the entry of the process of task r1: the task storage of its group leader (after an
     * exec, the thread that exec'd is the leader), not created; 0 when it has none.
     */
    private static Assembler processEntry(Assembler asm, TaskFields fields, int processesFd) {
        return asm.load(fields.groupLeader().size(), Reg.R2, Reg.R1, fields.groupLeader().offset())
                .comment(fields.groupLeader().expression() + ": its process")
                .loadMapFd(Reg.R1, processesFd).comment("watched processes")
                .mov(Reg.R3, 0)
                .mov(Reg.R4, 0)
                .call(Helper.TASK_STORAGE_GET).comment("its entry, not created");
    }

    static Program execProgram(TaskFields fields, int processesFd, int execsFd) {
        Assembler asm = new Assembler();
        asm.mov(Reg.R9, Reg.R1).comment("the tracepoint's context")
                .load(Size.DW, Reg.R6, Reg.R9, EXEC_TASK).comment("the task that exec'd")
                .load(fields.tgid().size(), Reg.R1, Reg.R6, fields.tgid().offset()).comment(fields.tgid().expression())
                .store(Size.W, Reg.R10, TGID_SLOT, Reg.R1).comment("its tgid, for user space")
                .mov(Reg.R1, Reg.R6);
        processEntry(asm, fields, processesFd)
                .jump(JumpOp.JEQ, Reg.R0, 0, "tell").comment("none")
                .store(Size.DW, Reg.R0, HostProcess.RULES, 0).comment("its rules were for the program it ran; its counts stay")
                .label("tell")
                .loadMapFd(Reg.R1, execsFd).comment("execs ring buffer")
                .mov(Reg.R2, Reg.R10)
                .alu(AluOp.ADD, Reg.R2, TGID_SLOT)
                .mov(Reg.R3, EXEC_RECORD_BYTES)
                .mov(Reg.R4, 0)
                .call(Helper.RINGBUF_OUTPUT).comment("user space decides its rules afresh (full: its next look does)")
                .mov(Reg.R0, 0)
                .exit();
        return asm.assemble();
    }
}
