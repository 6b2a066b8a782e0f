package dev.eventloopguardian.guard;

import dev.eventloopguardian.bpf.Size;
import dev.eventloopguardian.btf.Btf;
import dev.eventloopguardian.btf.BtfException;
import dev.eventloopguardian.btf.Member;
import dev.eventloopguardian.sys.Arch;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Where the running kernel keeps what the guard program reads. Resolved from the kernel's
 * own BTF, never hard-coded: {@code task_struct} changes layout between builds.
 */
public record KernelLayout(Field taskState, Field syscallNumber, List<Field> arguments, Optional<Field> switchCount,
                           Optional<Field> runtime, Optional<Field> execId) {
    /** Syscalls take at most six arguments on every architecture we support. */
    public static final int SYSCALL_ARGUMENTS = 6;

    /** A field the program loads: a C expression for listings, its byte offset and width. */
    public record Field(String expression, int offset, Size size) {
    }

    /** A layout without the optional fields, as tests build it. */
    public KernelLayout(Field taskState, Field syscallNumber, List<Field> arguments) {
        this(taskState, syscallNumber, arguments, Optional.empty(), Optional.empty(), Optional.empty());
    }

    public KernelLayout {
        arguments = List.copyOf(arguments);
        if (arguments.size() != SYSCALL_ARGUMENTS) {
            throw new IllegalArgumentException("a syscall has " + SYSCALL_ARGUMENTS + " argument registers, not "
                    + arguments.size());
        }
    }

    /** The register holding the first argument: the file descriptor of read, write, sendto... */
    public Field firstArgument() {
        return arguments.getFirst();
    }

    public static KernelLayout of(Btf btf, Arch arch) throws BtfException {
        Field state = field(btf, "task_struct", "__state", "task->__state");
        // How often the task got a CPU (CONFIG_SCHED_INFO): it grows once a sleeper has woken and run.
        Optional<Field> switches = optionalField(btf, "task_struct", "sched_info.pcount", "task->sched_info.pcount");
        // How long the task has run, in nanoseconds: subtracted from the time a sleep took, it leaves the time off the CPU.
        Optional<Field> runtime = optionalField(btf, "task_struct", "se.sum_exec_runtime", "task->se.sum_exec_runtime");
        // Grows at each exec: an address is named with the image the process ran when it slept.
        Optional<Field> execId = optionalField(btf, "task_struct", "self_exec_id", "task->self_exec_id");
        return switch (arch) {
            // The x86_64 syscall ABI passes arguments in di, si, dx, r10, r8, r9.
            case X86_64 -> new KernelLayout(state, field(btf, "pt_regs", "orig_ax", "regs->orig_ax"), List.of(
                    field(btf, "pt_regs", "di", "regs->di"), field(btf, "pt_regs", "si", "regs->si"),
                    field(btf, "pt_regs", "dx", "regs->dx"), field(btf, "pt_regs", "r10", "regs->r10"),
                    field(btf, "pt_regs", "r8", "regs->r8"), field(btf, "pt_regs", "r9", "regs->r9")), switches, runtime, execId);
            // arm64 passes them in x0-x5; x0 is overwritten by the return value, so its entry value is orig_x0.
            case AARCH64 -> new KernelLayout(state, field(btf, "pt_regs", "syscallno", "regs->syscallno"),
                    arm64Arguments(btf), switches, runtime, execId);
        };
    }

    private static List<Field> arm64Arguments(Btf btf) throws BtfException {
        List<Field> arguments = new ArrayList<>(List.of(field(btf, "pt_regs", "orig_x0", "regs->orig_x0")));
        Member registers = btf.member("pt_regs", "regs");
        for (int i = 1; i < SYSCALL_ARGUMENTS; i++) {
            arguments.add(new Field("regs->regs[" + i + "]", registers.offset() + 8 * i, Size.DW));
        }
        return arguments;
    }

    private static Optional<Field> optionalField(Btf btf, String struct, String member, String expression)
            throws BtfException {
        return btf.findMember(struct, member).map(found -> new Field(expression, found.offset(), Size.ofBytes(found.size())));
    }

    static Field field(Btf btf, String struct, String member, String expression) throws BtfException {
        Member found = btf.member(struct, member);
        return new Field(expression, found.offset(), Size.ofBytes(found.size()));
    }
}
