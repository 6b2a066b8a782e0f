package dev.eventloopguardian.guard;

import dev.eventloopguardian.bpf.AluOp;
import dev.eventloopguardian.bpf.Assembler;
import dev.eventloopguardian.bpf.Helper;
import dev.eventloopguardian.bpf.JumpOp;
import dev.eventloopguardian.bpf.Program;
import dev.eventloopguardian.bpf.Reg;
import dev.eventloopguardian.bpf.Size;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
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
 *
 * <p>A reporting program writes an event instead of (or before) the signal, and notes the sleep
 * in the thread's task storage. Its first step, at every switch-out, is to end the thread's previous
 * reported sleep if there is one: the thread has been switched back in since, so the sleep's
 * length is now known. The open sleep is kept in the thread's own task storage: for a thread
 * with none, a healthy loop's, that first step is one helper call that finds it empty.
 */
public final class GuardProgram {
    /** {@code include/linux/sched.h}: the state bits of a task that is going to sleep. */
    static final int TASK_INTERRUPTIBLE = 0x1;
    static final int TASK_UNINTERRUPTIBLE = 0x2;
    /** Up to this many syscalls are compared one by one; more are split by a range compare first. */
    static final int LINEAR_CASES = 4;

    private static final String OUT = "out";
    private static final String DENY = "deny";
    private static final String JAVA_WAIT = "java_wait";
    /**
     * The word is in the thread's own park event, which {@code Object.wait} and a contended
     * monitor park on: not a {@link JavaWait} code, since the state says which of the two.
     */
    private static final int OWN_PARK_EVENT = 100;
    /** The futex waits: with Java-level waits counted, these are checked against the thread's HotSpot state. */
    static final java.util.Set<String> FUTEX_WAITS = java.util.Set.of("futex", "futex_wait", "futex_waitv");

    private record Case(int number, String name, String target) {
    }

    private static final String DROPPED = "dropped";
    private static final String SIGNAL = "signal";
    private static final String AWAKE = "awake";
    private static final String FORGET_SLEEP = "forget_sleep";
    private static final String END_DROPPED = "end_dropped";
    /** {@code BPF_LOCAL_STORAGE_GET_F_CREATE}: bpf_task_storage_get creates the task's value when it has none. */
    private static final int STORAGE_CREATE = 1;
    /** Stack slot of the asleep value, {@code {since, runtime}}, copied from the record before it is submitted. */
    private static final int ASLEEP_SLOT = -40;
    /**
     * Stack slots of the Java-wait check: the tid key, the HotSpot state read from the thread, the
     * kind the futex word suggests, and the kind found, which the report writes ({@link JavaWait}).
     */
    private static final int JAVA_TID_SLOT = -48;
    private static final int JAVA_WORD_KIND_SLOT = -52;
    private static final int JAVA_STATE_SLOT = -56;
    private static final int JAVA_KIND_SLOT = -60;
    /** Stack slot of the scratch record's key: slot 0 of a one-slot per-CPU array. */
    private static final int SCRATCH_KEY_SLOT = -64;
    /** {@code BPF_F_USER_STACK}: bpf_get_stack walks the user stack instead of the kernel's. */
    private static final int USER_STACK = 1 << 8;

    /**
     * The context of a program on the {@code sched_switch} tracepoint, as BTF describes
     * {@code btf_trace_sched_switch} on Linux 6.18: {@code u64 args[] = {bool preempt, struct
     * task_struct *prev, struct task_struct *next, unsigned int prev_state}} (the typedef's first
     * parameter, {@code void *__data}, is not passed).
     */
    static final int SWITCH_PREV = 8;
    static final int SWITCH_PREV_STATE = 24;

    private final Assembler asm = new Assembler();
    private final KernelLayout layout;
    private final ProgramMaps maps;
    /** The task storage map that marks guarded threads, for a program on sched_switch; -1 for a perf event's. */
    private final int guardedThreadsFd;
    /** Prefixes the labels of one rule's syscall cases in a host program, where each rule has its own. */
    private String rulePrefix = "";

    private GuardProgram(KernelLayout layout, ProgramMaps maps) {
        this(layout, maps, -1);
    }

    private GuardProgram(KernelLayout layout, ProgramMaps maps, int guardedThreadsFd) {
        this.layout = layout;
        this.maps = maps;
        this.guardedThreadsFd = guardedThreadsFd;
    }

    /**
     * The program for {@code policy} as a tracing program on the {@code sched_switch} tracepoint
     * ({@link SchedSwitchGuard}), which runs at every context switch on the machine: it goes on
     * only for a thread that is going to sleep and has a value in the task storage map
     * {@code guardedThreadsFd}, then decides as the perf event's program does. At sched_switch
     * the current task is still {@code prev} (trace_sched_switch() comes before context_switch()
     * in __schedule()), so the signal, sent to the current thread, lands on the sleeping thread.
     * Only for a policy that signals: no report, no Java-level waits.
     */
    public static Program generateForSchedSwitch(Policy policy, SyscallTable table, KernelLayout layout, int guardedThreadsFd)
            throws UnknownSyscallException {
        if (policy.report() || policy.javaWaits().isPresent()) {
            throw new IllegalArgumentException("the sched_switch guard only signals: no --report, no Java-level waits");
        }
        return new GuardProgram(layout, ProgramMaps.PLACEHOLDER, guardedThreadsFd).emit(policy, table);
    }

    /**
     * The program for {@code policy} on a kernel with {@code layout}, syscall names resolved
     * through {@code table}. Defaults the architecture lacks are skipped; a name the user gave
     * that the architecture lacks is an error.
     */
    public static Program generate(Policy policy, SyscallTable table, KernelLayout layout) throws UnknownSyscallException {
        if (policy.report() || policy.javaWaits().isPresent()) {
            throw new IllegalArgumentException("this policy needs its maps: generate(policy, table, layout, maps)");
        }
        return new GuardProgram(layout, ProgramMaps.PLACEHOLDER).emit(policy, table);
    }

    /** The program for a policy that may report or count Java-level waits, with {@code maps} inlined. */
    public static Program generate(Policy policy, SyscallTable table, KernelLayout layout, ProgramMaps maps)
            throws UnknownSyscallException {
        return new GuardProgram(layout, maps).emit(policy, table);
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

    /**
     * The syscall cases of {@code policy}, sorted by number: each allowed syscall goes out (or to
     * the Java-wait check), each allowed only for some fds to its fd rule, whose names are added
     * to {@code fdRules}.
     */
    private List<Case> casesOf(Policy policy, SyscallTable table, List<String> fdRules) throws UnknownSyscallException {
        List<Case> cases = new ArrayList<>();
        boolean countsJavaWaits = policy.javaWaits().isPresent();
        for (String name : policy.allowed()) {
            OptionalInt number = resolve(name, policy, table);
            if (number.isPresent()) {
                cases.add(new Case(number.getAsInt(), name, countsJavaWaits && FUTEX_WAITS.contains(name) ? JAVA_WAIT : OUT));
            }
        }
        for (String name : policy.allowedFds().keySet()) {
            OptionalInt number = resolve(name, policy, table);
            if (number.isPresent() && !policy.allowed().contains(name)) {
                cases.add(new Case(number.getAsInt(), name, fdLabel(name)));
                fdRules.add(name);
            }
        }
        cases.sort(Comparator.comparingInt(Case::number));
        return cases;
    }

    private Program emit(Policy policy, SyscallTable table) throws UnknownSyscallException {
        boolean countsJavaWaits = policy.javaWaits().isPresent();
        List<String> fdRules = new ArrayList<>();
        List<Case> cases = casesOf(policy, table, fdRules);

        int countedStates = TASK_INTERRUPTIBLE | (policy.includeUninterruptible() ? TASK_UNINTERRUPTIBLE : 0);
        KernelLayout.Field state = layout.taskState();
        KernelLayout.Field nr = layout.syscallNumber();
        boolean report = policy.report();
        boolean timesSleeps = report && layout.runtime().isPresent();
        if (report) {
            asm.mov(Reg.R9, Reg.R1).comment("the perf event context, for bpf_get_stack");
        }
        if (timesSleeps) {
            emitSleepEnd();
        }
        String counted = policy.includeUninterruptible() ? "TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE" : "TASK_INTERRUPTIBLE";
        if (guardedThreadsFd >= 0) {
            emitSchedSwitchPrologue(countedStates, counted);
        } else {
            asm.call(Helper.GET_CURRENT_TASK_BTF)
                    .load(state.size(), Reg.R1, Reg.R0, state.offset()).comment(state.expression());
            if (report) {
                asm.mov(Reg.R8, Reg.R1).comment("the state, for the report");
            }
            asm.alu32(AluOp.AND, Reg.R1, countedStates).comment(counted)
                    .jump32(JumpOp.JEQ, Reg.R1, 0, OUT).comment("preempted or yielding, not going to sleep")
                    .mov(Reg.R1, Reg.R0)
                    .call(Helper.TASK_PT_REGS).comment("r0 = user registers, kept until the end");
        }
        if (report) {
            asm.mov(Reg.R7, Reg.R0).comment("the user registers, kept across the report's calls");
        }
        asm.load(nr.size(), Reg.R6, Reg.R0, nr.offset()).comment(nr.expression() + ": the syscall number")
                .jump32(JumpOp.JSLT, Reg.R6, 0, OUT).comment("not in a syscall (a page fault)");
        if (report && countsJavaWaits) {
            asm.store(Size.W, Reg.R10, JAVA_KIND_SLOT, JavaWait.NONE).comment("no Java-level wait, unless the check finds one");
        }
        emitCases(cases, true);
        asm.label(DENY);
        emitThreadFilter(policy.threads());
        if (report) {
            emitReport(countsJavaWaits);
            asm.label(SIGNAL);
        }
        policy.signal().ifPresent(signal -> asm.mov(Reg.R1, signal.number()).comment(signal.name())
                .call(Helper.SEND_SIGNAL_THREAD));
        asm.label(OUT)
                .mov(Reg.R0, 0)
                .exit();
        if (report) {
            emitDropCount(DROPPED, EventLayout.DROPPED_EVENTS, SIGNAL);
        }
        if (timesSleeps) {
            emitDropCount(END_DROPPED, EventLayout.DROPPED_ENDS, FORGET_SLEEP);
        }
        for (String name : fdRules) {
            emitFdRule(name, policy.allowedFds().get(name));
        }
        if (countsJavaWaits && cases.stream().anyMatch(c -> c.target().equals(JAVA_WAIT))) {
            emitJavaWaitCheck(policy.javaWaits().orElseThrow());
        }
        return asm.assemble();
    }

    /**
     * A sched_switch program's way to the same point as a perf event's: the state from the
     * tracepoint's {@code prev_state}, then the mark, then the user registers. The cheap test
     * first: most switches on a machine are preemptions or of threads nobody guards, and each
     * runs this program.
     */
    private void emitSchedSwitchPrologue(int countedStates, String counted) {
        asm.load(Size.DW, Reg.R2, Reg.R1, SWITCH_PREV_STATE).comment("prev_state")
                .alu32(AluOp.AND, Reg.R2, countedStates).comment(counted)
                .jump32(JumpOp.JEQ, Reg.R2, 0, OUT).comment("preempted or yielding, not going to sleep")
                .load(Size.DW, Reg.R7, Reg.R1, SWITCH_PREV).comment("prev: the thread going to sleep, still current")
                .loadMapFd(Reg.R1, guardedThreadsFd).comment("guarded threads: task storage")
                .mov(Reg.R2, Reg.R7)
                .mov(Reg.R3, 0)
                .mov(Reg.R4, 0)
                .call(Helper.TASK_STORAGE_GET).comment("prev's mark, without creating one")
                .jump(JumpOp.JEQ, Reg.R0, 0, OUT).comment("not a guarded thread")
                .mov(Reg.R1, Reg.R7)
                .call(Helper.TASK_PT_REGS).comment("r0 = user registers, kept until the end");
    }

    /**
     * The program of a host-wide watch ({@link HostWatch}), on the {@code sched_switch}
     * tracepoint: it runs at every context switch on the machine. Which rules may apply to a
     * process is user space's decision, kept in the task storage {@code processesFd} of the
     * process's group leader ({@link HostProcess}); a process without an entry costs a switch
     * the state test and one look-up of the leader's storage, which hashes nothing (a hash by
     * tgid measured 60 to 90 ns more a switch: bench watch-cost). For one with an entry, the first of its rules whose thread names match the
     * sleeping thread's decides, with its own syscall cases, as a perf event's program does; each
     * rule's policy reports, and may signal too. A process may write at most
     * {@code eventsPerSecond} events a second: past that its sleeps are counted in its entry,
     * not written, so that a storm in one process cannot fill the ring buffer the others share.
     *
     * <pre>
     * end prev's open reported sleep, if any
     * if !(prev_state &amp; any rule's counted states) return
     * rules = task storage of prev->group_leader; if none return
     * for each rule i in rules, in order: if its states and thread names match, decide by its cases
     * deny: within the process's budget? report : count it; signal as rule i says
     * </pre>
     */
    public static Program generateForHost(List<Policy> rules, SyscallTable table, KernelLayout layout, ProgramMaps maps,
                                          int processesFd, KernelLayout.Field groupLeader, int eventsPerSecond)
            throws UnknownSyscallException {
        if (rules.isEmpty() || rules.size() > HostProcess.MAX_RULES) {
            throw new IllegalArgumentException("a host program takes 1 to " + HostProcess.MAX_RULES + " rules, not " + rules.size());
        }
        for (Policy rule : rules) {
            if (!rule.report() || rule.javaWaits().isPresent()) {
                throw new IllegalArgumentException("a host program's rules report, and count no Java-level waits");
            }
        }
        if (layout.runtime().isEmpty()) {
            throw new IllegalArgumentException("a host program times sleeps: the kernel's task_struct needs se.sum_exec_runtime");
        }
        return new GuardProgram(layout, maps).emitHost(rules, table, processesFd, groupLeader, eventsPerSecond);
    }

    /** Stack slots of a host program: the process's rule bits, the rule that decided. */
    private static final int RULES_SLOT = -80;
    private static final int RULE_SLOT = -84;
    private static final String OVER_BUDGET = "over_budget";
    private static final long WINDOW_NANOS = 1_000_000_000L;

    private Program emitHost(List<Policy> rules, SyscallTable table, int processesFd, KernelLayout.Field groupLeader,
                             int eventsPerSecond) throws UnknownSyscallException {
        int anyCounted = 0;
        for (Policy rule : rules) {
            anyCounted |= countedStates(rule);
        }
        asm.mov(Reg.R9, Reg.R1).comment("the tracepoint's context, for bpf_get_stack");
        emitSleepEnd();
        asm.load(Size.DW, Reg.R8, Reg.R9, SWITCH_PREV_STATE).comment("prev_state, for the rules and the report")
                .mov(Reg.R1, Reg.R8)
                .alu32(AluOp.AND, Reg.R1, anyCounted).comment("a state some rule counts")
                .jump32(JumpOp.JEQ, Reg.R1, 0, OUT).comment("preempted or yielding, not going to sleep");
        emitProcessEntry(processesFd, groupLeader)
                .jump(JumpOp.JEQ, Reg.R0, 0, OUT).comment("no rule for this process")
                .load(Size.DW, Reg.R1, Reg.R0, HostProcess.RULES)
                .store(Size.DW, Reg.R10, RULES_SLOT, Reg.R1).comment("the rules that may apply");
        List<List<String>> fdRules = new ArrayList<>();
        for (int i = 0; i < rules.size(); i++) {
            Policy rule = rules.get(i);
            String next = i + 1 < rules.size() ? ruleLabel(i + 1) : OUT;
            rulePrefix = ruleLabel(i) + "_";
            asm.label(ruleLabel(i))
                    .load(Size.DW, Reg.R1, Reg.R10, RULES_SLOT)
                    .jump(JumpOp.JSET, Reg.R1, 1 << i, rulePrefix + "may_apply").comment("rule " + i)
                    .jump(next)
                    .label(rulePrefix + "may_apply")
                    .mov(Reg.R1, Reg.R8)
                    .alu32(AluOp.AND, Reg.R1, countedStates(rule))
                    .jump32(JumpOp.JEQ, Reg.R1, 0, next).comment("a state this rule does not count");
            emitThreadFilter(rule.threads(), rulePrefix, next);
            asm.store(Size.W, Reg.R10, RULE_SLOT, i).comment("rule " + i + " decides")
                    .call(Helper.GET_CURRENT_TASK_BTF)
                    .mov(Reg.R1, Reg.R0)
                    .call(Helper.TASK_PT_REGS).comment("r0 = user registers")
                    .mov(Reg.R7, Reg.R0).comment("the user registers, kept across the report's calls")
                    .load(layout.syscallNumber().size(), Reg.R6, Reg.R0, layout.syscallNumber().offset())
                    .comment(layout.syscallNumber().expression() + ": the syscall number")
                    .jump32(JumpOp.JSLT, Reg.R6, 0, OUT).comment("not in a syscall (a page fault)");
            List<String> ruleFds = new ArrayList<>();
            emitCases(casesOf(rule, table, ruleFds), false);
            fdRules.add(ruleFds);
        }
        asm.label(DENY);
        emitBudget(processesFd, groupLeader, eventsPerSecond);
        emitReport(false);
        asm.label(SIGNAL);
        boolean anySignal = rules.stream().anyMatch(rule -> rule.signal().isPresent());
        if (anySignal) {
            asm.load(Size.W, Reg.R1, Reg.R10, RULE_SLOT);
            for (int i = 0; i < rules.size(); i++) {
                if (rules.get(i).signal().isPresent()) {
                    asm.jump32(JumpOp.JEQ, Reg.R1, i, ruleLabel(i) + "_signal");
                }
            }
        }
        asm.label(OUT)
                .mov(Reg.R0, 0)
                .exit();
        for (int i = 0; i < rules.size(); i++) {
            Optional<Signal> signal = rules.get(i).signal();
            if (signal.isPresent()) {
                asm.label(ruleLabel(i) + "_signal")
                        .mov(Reg.R1, signal.get().number()).comment(signal.get().name())
                        .call(Helper.SEND_SIGNAL_THREAD)
                        .jump(OUT);
            }
        }
        emitDropCount(DROPPED, EventLayout.DROPPED_EVENTS, SIGNAL);
        emitDropCount(END_DROPPED, EventLayout.DROPPED_ENDS, FORGET_SLEEP);
        for (int i = 0; i < rules.size(); i++) {
            rulePrefix = ruleLabel(i) + "_";
            for (String name : fdRules.get(i)) {
                emitFdRule(name, rules.get(i).allowedFds().get(name));
            }
        }
        rulePrefix = "";
        return asm.assemble();
    }

    /** r0 = the entry of prev's process: the task storage of its group leader, or 0. Needs r9, the context. */
    private Assembler emitProcessEntry(int processesFd, KernelLayout.Field groupLeader) {
        return asm.load(Size.DW, Reg.R1, Reg.R9, SWITCH_PREV).comment("prev")
                .load(groupLeader.size(), Reg.R2, Reg.R1, groupLeader.offset()).comment("prev->" + groupLeader.expression()
                        .substring("task->".length()) + ": its process")
                .loadMapFd(Reg.R1, processesFd).comment("watched processes: task storage of their leaders")
                .mov(Reg.R3, 0)
                .mov(Reg.R4, 0)
                .call(Helper.TASK_STORAGE_GET).comment("the process's entry, not created");
    }

    private static String ruleLabel(int rule) {
        return "rule" + rule;
    }

    private static int countedStates(Policy policy) {
        return TASK_INTERRUPTIBLE | (policy.includeUninterruptible() ? TASK_UNINTERRUPTIBLE : 0);
    }

    /**
     * Keeps each process within its budget of events a second: a fixed one-second window in its
     * entry, whose count may overshoot by a few where CPUs race (no lock on this path); past the
     * budget, the sleep is counted in the entry and not written. Falls through to the report.
     */
    private void emitBudget(int processesFd, KernelLayout.Field groupLeader, int eventsPerSecond) {
        emitProcessEntry(processesFd, groupLeader)
                .jump(JumpOp.JEQ, Reg.R0, 0, SIGNAL).comment("gone meanwhile: nothing to report it under")
                .mov(Reg.R6, Reg.R0)
                .call(Helper.KTIME_GET_NS)
                .load(Size.DW, Reg.R1, Reg.R6, HostProcess.WINDOW_START)
                .mov(Reg.R2, Reg.R0)
                .alu(AluOp.SUB, Reg.R2, Reg.R1)
                .jump(JumpOp.JLT, Reg.R2, (int) WINDOW_NANOS, "within_window").comment("the window began under a second ago")
                .store(Size.DW, Reg.R6, HostProcess.WINDOW_START, Reg.R0).comment("a new window")
                .store(Size.DW, Reg.R6, HostProcess.WINDOW_EVENTS, 0)
                .label("within_window")
                .load(Size.DW, Reg.R1, Reg.R6, HostProcess.WINDOW_EVENTS)
                .jump(JumpOp.JGE, Reg.R1, eventsPerSecond, OVER_BUDGET).comment("its budget is spent")
                .mov(Reg.R1, 1)
                .atomicAdd(Size.DW, Reg.R6, HostProcess.WINDOW_EVENTS, Reg.R1)
                .jump("within_budget")
                .label(OVER_BUDGET)
                .mov(Reg.R1, 1)
                .atomicAdd(Size.DW, Reg.R6, HostProcess.SUPPRESSED, Reg.R1).comment("counted, not written")
                .jump(SIGNAL)
                .label("within_budget");
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
        String upperHalf = rulePrefix + "from_" + cases.get(middle).name();
        asm.jump32(JumpOp.JGE, Reg.R6, cases.get(middle).number(), upperHalf);
        emitCases(cases.subList(0, middle), false);
        asm.label(upperHalf);
        emitCases(cases.subList(middle, cases.size()), denyFollows);
    }

    /**
     * Goes on only for a thread whose name matches a pattern: compares the 16 bytes of
     * {@code comm} as two masked 64-bit words per pattern. Runs only for a sleep that counts,
     * so the fast path never pays for it.
     */
    private void emitThreadFilter(List<ThreadPattern> patterns) {
        emitThreadFilter(patterns, "", OUT);
    }

    /** The same, with labels under {@code prefix}, going to {@code mismatch} for a name no pattern matches. */
    private void emitThreadFilter(List<ThreadPattern> patterns, String prefix, String mismatch) {
        if (patterns.isEmpty()) {
            return;
        }
        asm.mov(Reg.R1, Reg.R10)
                .alu(AluOp.ADD, Reg.R1, -ThreadPattern.COMM_BYTES)
                .mov(Reg.R2, ThreadPattern.COMM_BYTES)
                .call(Helper.GET_CURRENT_COMM).comment("the thread's name, on the stack");
        for (int p = 0; p < patterns.size(); p++) {
            ThreadPattern pattern = patterns.get(p);
            String next = p + 1 < patterns.size() ? prefix + "thread_pattern_" + (p + 1) : mismatch;
            if (p > 0) {
                asm.label(prefix + "thread_pattern_" + p);
            }
            for (int word = 0; word < 2; word++) {
                long mask = pattern.word(pattern.mask(), word);
                if (mask == 0) {
                    continue;
                }
                asm.load(Size.DW, Reg.R1, Reg.R10, -ThreadPattern.COMM_BYTES + 8 * word);
                if (mask != -1L) {
                    asm.loadImm64(Reg.R2, mask).alu(AluOp.AND, Reg.R1, Reg.R2);
                }
                asm.loadImm64(Reg.R2, pattern.word(pattern.value(), word))
                        .jump(JumpOp.JNE, Reg.R1, Reg.R2, next).comment("thread '" + pattern.glob() + "'");
            }
            if (p + 1 < patterns.size()) {
                asm.jump(prefix + "thread_matched");
            }
        }
        asm.label(prefix + "thread_matched");
    }

    /**
     * Writes a {@link BlockingEvent} into the ring buffer, then falls through to the signal (or
     * out). The record is built in the per-CPU scratch value, as long as its stacks, and copied
     * into the ring buffer whole: a reservation there would have to be as long as the deepest
     * stacks. Registers: r6 the record, r7 the user registers (then the task), r8 the task state
     * (then the kernel stack's length), r9 the context.
     */
    private void emitReport(boolean countsJavaWaits) {
        KernelLayout.Field nr = layout.syscallNumber();
        asm.store(Size.W, Reg.R10, SCRATCH_KEY_SLOT, 0)
                .loadMapFd(Reg.R1, maps.recordScratchFd()).comment("this CPU's scratch record")
                .mov(Reg.R2, Reg.R10)
                .alu(AluOp.ADD, Reg.R2, SCRATCH_KEY_SLOT)
                .call(Helper.MAP_LOOKUP_ELEM)
                .jump(JumpOp.JEQ, Reg.R0, 0, DROPPED).comment("never: an array's slot 0 is always there")
                .mov(Reg.R6, Reg.R0)
                .call(Helper.KTIME_GET_NS)
                .store(Size.DW, Reg.R6, EventLayout.TIME, Reg.R0).comment("time")
                .call(Helper.GET_CURRENT_PID_TGID)
                .store(Size.DW, Reg.R6, EventLayout.PID_TGID, Reg.R0).comment("tid, pid")
                .mov(Reg.R1, Reg.R6)
                .alu(AluOp.ADD, Reg.R1, EventLayout.COMM)
                .mov(Reg.R2, EventLayout.COMM_BYTES)
                .call(Helper.GET_CURRENT_COMM).comment("thread name")
                .load(nr.size(), Reg.R1, Reg.R7, nr.offset())
                .store(Size.DW, Reg.R6, EventLayout.SYSCALL, Reg.R1).comment("syscall");
        for (int i = 0; i < KernelLayout.SYSCALL_ARGUMENTS; i++) {
            KernelLayout.Field argument = layout.arguments().get(i);
            asm.load(argument.size(), Reg.R1, Reg.R7, argument.offset())
                    .store(Size.DW, Reg.R6, EventLayout.ARGS + 8 * i, Reg.R1).comment("args[" + i + "]");
        }
        asm.store(Size.W, Reg.R6, EventLayout.STATE, Reg.R8).comment("state");
        if (countsJavaWaits) {
            asm.load(Size.W, Reg.R1, Reg.R10, JAVA_KIND_SLOT)
                    .store(Size.W, Reg.R6, EventLayout.JAVA_WAIT, Reg.R1).comment("the Java-level wait, or none");
        } else {
            asm.store(Size.W, Reg.R6, EventLayout.JAVA_WAIT, JavaWait.NONE).comment("no Java-level wait");
        }
        asm.call(Helper.GET_CURRENT_TASK_BTF)
                .mov(Reg.R7, Reg.R0).comment("the task, from here on");
        taskField(layout.switchCount(), EventLayout.SWITCHES, "no switch count in this kernel");
        taskField(layout.execId(), EventLayout.EXEC_ID, "no exec count in this kernel");
        layout.runtime().ifPresent(runtime -> asm.load(Size.DW, Reg.R1, Reg.R6, EventLayout.TIME)
                .store(Size.DW, Reg.R10, ASLEEP_SLOT + EventLayout.ASLEEP_TIME, Reg.R1).comment("asleep since")
                .load(runtime.size(), Reg.R1, Reg.R7, runtime.offset()).comment(runtime.expression())
                .store(Size.DW, Reg.R10, ASLEEP_SLOT + EventLayout.ASLEEP_RUNTIME, Reg.R1));
        emitStack(false, EventLayout.MAX_KERNEL_STACK_BYTES, 0, EventLayout.KERNEL_STACK_BYTES, "kernel stack");
        emitStackLength(Reg.R8, EventLayout.MAX_KERNEL_STACK_BYTES, "kernel_stack");
        emitStack(true, EventLayout.MAX_USER_STACK_BYTES, USER_STACK, EventLayout.USER_STACK_BYTES, "user stack");
        emitStackLength(Reg.R0, EventLayout.MAX_USER_STACK_BYTES, "user_stack");
        asm.alu(AluOp.ADD, Reg.R0, Reg.R8)
                .alu(AluOp.ADD, Reg.R0, EventLayout.FRAMES)
                .mov(Reg.R3, Reg.R0).comment("the record's length: its fixed part and both stacks")
                .loadMapFd(Reg.R1, maps.ringBufferFd()).comment("the events ring buffer")
                .mov(Reg.R2, Reg.R6)
                .mov(Reg.R4, 0)
                .call(Helper.RINGBUF_OUTPUT)
                .jump(JumpOp.JNE, Reg.R0, 0, DROPPED).comment("ring buffer full");
        if (layout.runtime().isPresent()) {
            asm.loadMapFd(Reg.R1, maps.asleepFd()).comment("asleep: task storage, {since, runtime} while a reported sleep is open")
                    .mov(Reg.R2, Reg.R7)
                    .mov(Reg.R3, 0)
                    .mov(Reg.R4, STORAGE_CREATE)
                    .call(Helper.TASK_STORAGE_GET).comment("this thread's, created")
                    .jump(JumpOp.JEQ, Reg.R0, 0, SIGNAL).comment("no memory for it: that sleep's length is lost")
                    .load(Size.DW, Reg.R1, Reg.R10, ASLEEP_SLOT + EventLayout.ASLEEP_TIME)
                    .store(Size.DW, Reg.R0, EventLayout.ASLEEP_TIME, Reg.R1).comment("asleep since")
                    .load(Size.DW, Reg.R1, Reg.R10, ASLEEP_SLOT + EventLayout.ASLEEP_RUNTIME)
                    .store(Size.DW, Reg.R0, EventLayout.ASLEEP_RUNTIME, Reg.R1).comment("its runtime then: ended at the next switch-out");
        }
    }

    /**
     * Has bpf_get_stack write a stack's frames into the record, at the start of its frames or,
     * {@code afterKernelStack}, after the kernel stack's r8 bytes; stores the result.
     */
    private void emitStack(boolean afterKernelStack, int room, int flags, int resultOffset, String what) {
        asm.mov(Reg.R1, Reg.R9)
                .mov(Reg.R2, Reg.R6)
                .alu(AluOp.ADD, Reg.R2, EventLayout.FRAMES);
        if (afterKernelStack) {
            asm.alu(AluOp.ADD, Reg.R2, Reg.R8).comment("after the kernel stack");
        }
        asm.mov(Reg.R3, room)
                .mov(Reg.R4, flags)
                .call(Helper.GET_STACK).comment(what)
                .store(Size.W, Reg.R6, resultOffset, Reg.R0).comment("bytes written, or -errno");
    }

    /**
     * Turns bpf_get_stack's result in r0 into the bytes of frames kept, in {@code into}: none
     * for an error, at most {@code room}, whole frames. The verifier sees the same bounds, which
     * let the user stack start after a kernel stack of any length and the copy take the sum.
     */
    private void emitStackLength(Reg into, int room, String name) {
        String kept = name + "_kept";
        String capped = name + "_capped";
        if (into != Reg.R0) {
            asm.mov(into, Reg.R0);
        }
        asm.jump(JumpOp.JSGE, into, 0, kept)
                .mov(into, 0).comment("an error: no frames")
                .label(kept)
                .jump(JumpOp.JLE, into, room, capped)
                .mov(into, room)
                .label(capped)
                .alu(AluOp.AND, into, ~7).comment("whole frames");
    }

    /**
     * Ends the thread's last reported sleep, if it has one, with a {@link SleepEnd} record: the
     * time since it went to sleep less the time it has run since. Uses r6-r8 before the decision
     * needs them. A thread that has not run since its reported sleep began is at that same
     * switch-out, seen by a second event on it (attach opens one on a thread that may also have
     * inherited one): that run stops here, so the sleep is reported once.
     *
     * <p>The open sleep is kept in the thread's own task storage, which the kernel frees with the
     * task: a thread that exits with its sleep open (its last switch-out comes after
     * perf_event_exit_task(), so this program never sees it) leaves nothing behind, and a thread
     * given its tid later starts with none. Looking at it is one helper call that, for a thread
     * without storage, reads {@code task->bpf_storage} and finds it empty: a healthy loop's
     * switch-outs pay that and no hash lookup. (A counter of open sleeps, read from an array
     * without a call, measured no cheaper on bench program-cost and kept every thread on the slow
     * path while any one thread's reported sleep was open.)
     */
    private void emitSleepEnd() {
        KernelLayout.Field runtime = layout.runtime().orElseThrow();
        asm.call(Helper.GET_CURRENT_TASK_BTF)
                .mov(Reg.R2, Reg.R0)
                .loadMapFd(Reg.R1, maps.asleepFd()).comment("asleep: task storage")
                .mov(Reg.R3, 0)
                .mov(Reg.R4, 0)
                .call(Helper.TASK_STORAGE_GET).comment("this thread's open reported sleep, not created")
                .jump(JumpOp.JEQ, Reg.R0, 0, AWAKE).comment("none to end")
                .mov(Reg.R7, Reg.R0)
                .call(Helper.GET_CURRENT_TASK_BTF)
                .load(runtime.size(), Reg.R6, Reg.R0, runtime.offset()).comment(runtime.expression())
                .load(Size.DW, Reg.R1, Reg.R7, EventLayout.ASLEEP_RUNTIME)
                .alu(AluOp.SUB, Reg.R6, Reg.R1).comment("time run since the sleep began")
                .jump(JumpOp.JEQ, Reg.R6, 0, OUT).comment("none: another event on this thread saw this switch first")
                .call(Helper.KTIME_GET_NS)
                .mov(Reg.R8, Reg.R0)
                .load(Size.DW, Reg.R1, Reg.R7, EventLayout.ASLEEP_TIME)
                .alu(AluOp.SUB, Reg.R8, Reg.R1).comment("time since the sleep began")
                .alu(AluOp.SUB, Reg.R8, Reg.R6).comment("less the time run: off the CPU")
                .loadMapFd(Reg.R1, maps.ringBufferFd()).comment("the events ring buffer")
                .mov(Reg.R2, EventLayout.END_SIZE)
                .mov(Reg.R3, 0)
                .call(Helper.RINGBUF_RESERVE)
                .jump(JumpOp.JEQ, Reg.R0, 0, END_DROPPED).comment("ring buffer full")
                .mov(Reg.R6, Reg.R0).comment("the record")
                .load(Size.DW, Reg.R1, Reg.R7, EventLayout.ASLEEP_TIME)
                .store(Size.DW, Reg.R6, EventLayout.END_TIME, Reg.R1).comment("the sleep's start")
                .store(Size.DW, Reg.R6, EventLayout.END_OFF_CPU, Reg.R8).comment("off the CPU")
                .call(Helper.GET_CURRENT_PID_TGID)
                .store(Size.DW, Reg.R6, EventLayout.END_PID_TGID, Reg.R0).comment("tid, pid")
                .mov(Reg.R1, Reg.R6)
                .mov(Reg.R2, 0)
                .call(Helper.RINGBUF_SUBMIT)
                .label(FORGET_SLEEP)
                .call(Helper.GET_CURRENT_TASK_BTF)
                .mov(Reg.R2, Reg.R0)
                .loadMapFd(Reg.R1, maps.asleepFd())
                .call(Helper.TASK_STORAGE_DELETE).comment("the sleep has ended")
                .label(AWAKE);
    }

    /** Copies a task field the kernel may lack into the record (r7 the task, r6 the record), else 0. */
    private void taskField(Optional<KernelLayout.Field> field, int offset, String absent) {
        field.ifPresentOrElse(present -> asm.load(present.size(), Reg.R1, Reg.R7, present.offset())
                        .comment(present.expression())
                        .store(Size.DW, Reg.R6, offset, Reg.R1),
                () -> asm.store(Size.DW, Reg.R6, offset, 0).comment(absent));
    }

    /** Counts a record the full ring buffer could not take, then goes on at {@code then}. */
    private void emitDropCount(String label, int counter, String then) {
        asm.label(label)
                .store(Size.W, Reg.R10, -4, counter);
        lookUp(maps.dropCounterFd(), -4, "the drop counters")
                .jump(JumpOp.JEQ, Reg.R0, 0, then)
                .mov(Reg.R1, 1)
                .atomicAdd(Size.DW, Reg.R0, 0, Reg.R1).comment("drops[" + counter + "] += 1")
                .jump(then);
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

    /**
     * A futex sleep of a JVM thread the guard knows counts when it is a Java-level wait. HotSpot
     * sets the thread's {@code OSThread::_state}, read from the thread's own memory at the address
     * user space put in the map, before a contended monitor ({@code monitorWait}) and an
     * {@code Object.wait} ({@code objectWait}), and {@code condvarWait} before a sleep, a park and
     * a wait on one of its own monitors (for a GC the thread asked for): those are told apart by
     * the futex word, which for a sleep or a park is the thread's own (its sleep event, its
     * {@code Parker}) and for the VM's monitors is shared. Safepoints leave the state alone: a
     * thread that wakes from {@code Object.wait} or enters a monitor may block for a safepoint
     * with the state still set, on the safepoint's shared word, so a wait or a monitor counts
     * only on the thread's own park event, where those two park. A thread not in the map, or
     * whose state cannot be read, is allowed, as any futex sleep is without this check.
     * Registers: r7 the user registers, r6 the futex word's address.
     */
    private void emitJavaWaitCheck(JavaWaitStates states) {
        KernelLayout.Field word = layout.firstArgument();
        asm.label(JAVA_WAIT)
                .mov(Reg.R7, Reg.R0).comment("the user registers")
                .load(word.size(), Reg.R6, Reg.R7, word.offset()).comment(word.expression() + ": the futex word")
                .call(Helper.GET_CURRENT_PID_TGID)
                .store(Size.W, Reg.R10, JAVA_TID_SLOT, Reg.R0).comment("the key: the tid");
        lookUp(maps.javaThreadsFd(), JAVA_TID_SLOT, "JVM threads: tid -> JavaThreadWaits")
                .jump(JumpOp.JEQ, Reg.R0, 0, OUT).comment("not a JVM thread we know: allowed")
                .store(Size.W, Reg.R10, JAVA_WORD_KIND_SLOT, 0);
        wordIn(JavaThreadWaits.PARK_FROM, JavaThreadWaits.PARK_TO, JavaWait.PARK.code(), "park", "java_not_park", "in its Parker");
        wordIn(JavaThreadWaits.SLEEP_FROM, JavaThreadWaits.SLEEP_TO, JavaWait.SLEEP.code(), "sleep", "java_not_sleep",
                "in its sleep event");
        wordIn(JavaThreadWaits.MONITOR_FROM, JavaThreadWaits.MONITOR_TO, OWN_PARK_EVENT, "wait or monitor", "java_state",
                "in its park event");
        asm.load(Size.DW, Reg.R3, Reg.R0, JavaThreadWaits.STATE_ADDRESS)
                .mov(Reg.R1, Reg.R10)
                .alu(AluOp.ADD, Reg.R1, JAVA_STATE_SLOT)
                .mov(Reg.R2, 4)
                .call(Helper.PROBE_READ_USER).comment("the thread's HotSpot wait state")
                .jump(JumpOp.JNE, Reg.R0, 0, OUT).comment("unreadable: allowed")
                .load(Size.W, Reg.R1, Reg.R10, JAVA_STATE_SLOT)
                .jump32(JumpOp.JEQ, Reg.R1, states.objectWait(), "java_wait_object").comment("Object.wait")
                .jump32(JumpOp.JEQ, Reg.R1, states.monitorWait(), "java_wait_monitor").comment("a contended monitor")
                .jump32(JumpOp.JNE, Reg.R1, states.condvarWait(), OUT).comment("no Java-level wait (a safepoint)")
                .load(Size.W, Reg.R1, Reg.R10, JAVA_WORD_KIND_SLOT)
                .jump32(JumpOp.JEQ, Reg.R1, 0, OUT).comment("a shared word: the VM's own monitor")
                .store(Size.W, Reg.R10, JAVA_KIND_SLOT, Reg.R1).comment("a sleep or a park")
                .jump(DENY)
                .label("java_wait_object")
                .load(Size.W, Reg.R1, Reg.R10, JAVA_WORD_KIND_SLOT)
                .jump32(JumpOp.JNE, Reg.R1, OWN_PARK_EVENT, OUT).comment("not its park event: a safepoint on the way out")
                .store(Size.W, Reg.R10, JAVA_KIND_SLOT, JavaWait.WAIT.code())
                .jump(DENY)
                .label("java_wait_monitor")
                .load(Size.W, Reg.R1, Reg.R10, JAVA_WORD_KIND_SLOT)
                .jump32(JumpOp.JNE, Reg.R1, OWN_PARK_EVENT, OUT).comment("not its park event: a safepoint on the way in")
                .store(Size.W, Reg.R10, JAVA_KIND_SLOT, JavaWait.MONITOR.code())
                .jump(DENY);
    }

    /** Notes {@code code} when the futex word (r6) is in the map value's (r0) range at {@code from}..{@code to}. */
    private void wordIn(int from, int to, int code, String kind, String otherwise, String what) {
        asm.load(Size.DW, Reg.R1, Reg.R0, from)
                .jump(JumpOp.JLT, Reg.R6, Reg.R1, otherwise)
                .load(Size.DW, Reg.R1, Reg.R0, to)
                .jump(JumpOp.JGE, Reg.R6, Reg.R1, otherwise)
                .store(Size.W, Reg.R10, JAVA_WORD_KIND_SLOT, code).comment(kind + ": the word is " + what)
                .jump("java_state")
                .label(otherwise);
    }

    /** r0 = the value in map {@code mapFd} under the key at stack slot {@code keySlot}, or 0. */
    private Assembler lookUp(int mapFd, int keySlot, String map) {
        return asm.loadMapFd(Reg.R1, mapFd).comment(map)
                .mov(Reg.R2, Reg.R10)
                .alu(AluOp.ADD, Reg.R2, keySlot)
                .call(Helper.MAP_LOOKUP_ELEM);
    }

    private String fdLabel(String name) {
        return rulePrefix + name + "_fd";
    }
}
