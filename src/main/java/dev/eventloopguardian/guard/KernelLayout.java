package dev.eventloopguardian.guard;

import dev.eventloopguardian.bpf.Size;
import dev.eventloopguardian.btf.Btf;
import dev.eventloopguardian.btf.BtfException;
import dev.eventloopguardian.btf.Member;
import dev.eventloopguardian.sys.Arch;

/**
 * Where the running kernel keeps what the guard program reads. Resolved from the kernel's
 * own BTF, never hard-coded: {@code task_struct} changes layout between builds.
 */
public record KernelLayout(Field taskState, Field syscallNumber, Field firstArgument) {
    /** A field the program loads: a C expression for listings, its byte offset and width. */
    public record Field(String expression, int offset, Size size) {
    }

    public static KernelLayout of(Btf btf, Arch arch) throws BtfException {
        Field state = field(btf, "task_struct", "__state", "task->__state");
        return switch (arch) {
            case X86_64 -> new KernelLayout(state,
                    field(btf, "pt_regs", "orig_ax", "regs->orig_ax"),
                    field(btf, "pt_regs", "di", "regs->di"));
            case AARCH64 -> new KernelLayout(state,
                    field(btf, "pt_regs", "syscallno", "regs->syscallno"),
                    field(btf, "pt_regs", "orig_x0", "regs->orig_x0"));
        };
    }

    private static Field field(Btf btf, String struct, String member, String expression) throws BtfException {
        Member found = btf.member(struct, member);
        return new Field(expression, found.offset(), Size.ofBytes(found.size()));
    }
}
