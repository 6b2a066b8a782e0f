package dev.eventloopguardian.guard;

import dev.eventloopguardian.bpf.AluOp;
import dev.eventloopguardian.bpf.Assembler;
import dev.eventloopguardian.bpf.Helper;
import dev.eventloopguardian.bpf.JumpOp;
import dev.eventloopguardian.bpf.Program;
import dev.eventloopguardian.bpf.Reg;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.OptionalInt;
import java.util.SortedSet;

/**
 * Generates the program that runs each time a guarded thread is switched out. Only what the
 * policy needs is emitted, with every constant inlined: no maps, no loops, and a syscall
 * lookup that is a short decision tree of compares rather than a scan.
 *
 * <pre>
 * task = current task; if !(task->__state &amp; counted states) return   // preempted, not sleeping
 * nr = task_pt_regs(task)->syscall number; if nr &lt; 0 return           // page fault, not a syscall
 * if nr is allowed, or allowed for its fd argument, return
 * signal the thread
 * </pre>
 */
public final class GuardProgram {
    /** {@code include/linux/sched.h}: the state bits of a task that is going to sleep. */
    static final int TASK_INTERRUPTIBLE = 0x1;
    static final int TASK_UNINTERRUPTIBLE = 0x2;
    /** Up to this many syscalls are compared one by one; more are split by a range compare first. */
    static final int LINEAR_CASES = 4;

    private static final String OUT = "out";
    private static final String DENY = "deny";

    private record Case(int number, String name, String target) {
    }

    private final Assembler asm = new Assembler();
    private final KernelLayout layout;

    private GuardProgram(KernelLayout layout) {
        this.layout = layout;
    }

    /**
     * The program for {@code policy} on a kernel with {@code layout}, syscall names resolved
     * through {@code table}. Defaults the architecture lacks are skipped; a name the user gave
     * that the architecture lacks is an error.
     */
    public static Program generate(Policy policy, SyscallTable table, KernelLayout layout) throws UnknownSyscallException {
        return new GuardProgram(layout).emit(policy, table);
    }

    /**
     * Checks every syscall the user named against {@code table} before anything is loaded,
     * those in {@code --disallow} too: a typo there would otherwise leave the syscall allowed.
     */
    public static void validate(Policy policy, SyscallTable table) throws UnknownSyscallException {
        for (String name : policy.namedByUser()) {
            resolve(name, policy, table);
        }
    }

    private Program emit(Policy policy, SyscallTable table) throws UnknownSyscallException {
        List<Case> cases = new ArrayList<>();
        for (String name : policy.allowed()) {
            OptionalInt number = resolve(name, policy, table);
            if (number.isPresent()) {
                cases.add(new Case(number.getAsInt(), name, OUT));
            }
        }
        List<String> fdRules = new ArrayList<>();
        for (String name : policy.allowedFds().keySet()) {
            OptionalInt number = resolve(name, policy, table);
            if (number.isPresent() && !policy.allowed().contains(name)) {
                cases.add(new Case(number.getAsInt(), name, fdLabel(name)));
                fdRules.add(name);
            }
        }
        cases.sort(Comparator.comparingInt(Case::number));

        int countedStates = TASK_INTERRUPTIBLE | (policy.includeUninterruptible() ? TASK_UNINTERRUPTIBLE : 0);
        KernelLayout.Field state = layout.taskState();
        KernelLayout.Field nr = layout.syscallNumber();
        asm.call(Helper.GET_CURRENT_TASK_BTF)
                .load(state.size(), Reg.R1, Reg.R0, state.offset()).comment(state.expression())
                .alu32(AluOp.AND, Reg.R1, countedStates).comment(policy.includeUninterruptible()
                        ? "TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE" : "TASK_INTERRUPTIBLE")
                .jump32(JumpOp.JEQ, Reg.R1, 0, OUT).comment("preempted or yielding, not going to sleep")
                .mov(Reg.R1, Reg.R0)
                .call(Helper.TASK_PT_REGS).comment("r0 = user registers, kept until the end")
                .load(nr.size(), Reg.R6, Reg.R0, nr.offset()).comment(nr.expression() + ": the syscall number")
                .jump32(JumpOp.JSLT, Reg.R6, 0, OUT).comment("not in a syscall (a page fault)");
        emitCases(cases, true);
        asm.label(DENY)
                .mov(Reg.R1, policy.signal().number()).comment(policy.signal().name())
                .call(Helper.SEND_SIGNAL_THREAD)
                .label(OUT)
                .mov(Reg.R0, 0)
                .exit();
        for (String name : fdRules) {
            emitFdRule(name, policy.allowedFds().get(name));
        }
        return asm.assemble();
    }

    private static OptionalInt resolve(String name, Policy policy, SyscallTable table) throws UnknownSyscallException {
        OptionalInt number = table.number(name);
        if (number.isEmpty() && policy.namedByUser(name)) {
            throw new UnknownSyscallException(name, table.arch().kernelName(), table.closest(name, 3));
        }
        return number;
    }

    /**
     * Emits compares that jump to each case's target, splitting sorted cases in halves with an
     * unsigned {@code >=} until few enough remain to compare in a row. Falls into {@code deny}
     * when nothing matched, jumping there explicitly unless the deny block comes next.
     */
    private void emitCases(List<Case> cases, boolean denyFollows) {
        if (cases.size() <= LINEAR_CASES) {
            for (Case c : cases) {
                asm.jump32(JumpOp.JEQ, Reg.R6, c.number(), c.target()).comment(c.name());
            }
            if (!denyFollows) {
                asm.jump(DENY);
            }
            return;
        }
        int middle = cases.size() / 2;
        String upperHalf = "from_" + cases.get(middle).name();
        asm.jump32(JumpOp.JGE, Reg.R6, cases.get(middle).number(), upperHalf);
        emitCases(cases.subList(0, middle), false);
        asm.label(upperHalf);
        emitCases(cases.subList(middle, cases.size()), denyFollows);
    }

    private void emitFdRule(String name, SortedSet<Integer> fds) {
        KernelLayout.Field argument = layout.firstArgument();
        asm.label(fdLabel(name))
                .load(argument.size(), Reg.R1, Reg.R0, argument.offset()).comment(argument.expression() + ": the fd");
        for (int fd : fds) {
            asm.jump32(JumpOp.JEQ, Reg.R1, fd, OUT).comment(name + "(" + fd + ")");
        }
        asm.jump(DENY);
    }

    private static String fdLabel(String name) {
        return name + "_fd";
    }
}
