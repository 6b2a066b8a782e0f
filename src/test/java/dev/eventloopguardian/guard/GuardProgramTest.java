package dev.eventloopguardian.guard;

import dev.eventloopguardian.bpf.Helper;
import dev.eventloopguardian.bpf.Program;
import dev.eventloopguardian.bpf.Size;
import dev.eventloopguardian.sys.Arch;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import java.util.SortedSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GuardProgramTest {
    /** This machine's layout (Linux 6.18 x86_64), as BTF reports it. */
    static final KernelLayout X86 = new KernelLayout(new KernelLayout.Field("task->__state", 24, Size.W),
            new KernelLayout.Field("regs->orig_ax", 120, Size.DW), arguments("regs->di", 112, 104, 96, 56, 72, 64));
    /** An aarch64-like layout: the syscall number is a 32-bit field there. */
    static final KernelLayout ARM = new KernelLayout(new KernelLayout.Field("task->__state", 24, Size.W),
            new KernelLayout.Field("regs->syscallno", 280, Size.W), arguments("regs->orig_x0", 272, 8, 16, 24, 32, 40));

    private static List<KernelLayout.Field> arguments(String first, int... offsets) {
        List<KernelLayout.Field> fields = new java.util.ArrayList<>();
        for (int i = 0; i < offsets.length; i++) {
            fields.add(new KernelLayout.Field(i == 0 ? first : "arg" + i, offsets[i], Size.DW));
        }
        return fields;
    }

    private static final int RUNNING = 0;
    private static final int INTERRUPTIBLE = 0x1;
    private static final int UNINTERRUPTIBLE = 0x2;
    private static final int KILLABLE = 0x102;

    private static final SyscallTable X86_TABLE = SyscallTable.of(Arch.X86_64);
    private static final SyscallTable ARM_TABLE = SyscallTable.of(Arch.AARCH64);

    /** What the policy says should happen, computed independently of the program. */
    private static boolean expectSignal(Policy policy, SyscallTable table, int state, long nr, long fd) {
        int counted = INTERRUPTIBLE | (policy.includeUninterruptible() ? UNINTERRUPTIBLE : 0);
        if ((state & counted) == 0 || (int) nr < 0) {
            return false;
        }
        String name = table.name((int) nr).orElse(null);
        if (name != null && policy.allowed().contains(name)) {
            return false;
        }
        SortedSet<Integer> fds = name == null ? null : policy.allowedFds().get(name);
        return fds == null || !fds.contains((int) fd);
    }

    private static void assertDecidesLikeThePolicy(Policy policy, SyscallTable table, KernelLayout layout) throws Exception {
        Program program = GuardProgram.generate(policy, table, layout);
        long notSyscall = layout.syscallNumber().size() == Size.W ? 0xffff_ffffL : -1L;
        for (int state : new int[] {RUNNING, INTERRUPTIBLE, UNINTERRUPTIBLE, KILLABLE}) {
            for (long nr = -1; nr < 520; nr++) {
                for (long fd : new long[] {0, 1, 2, 3, 0x1_0000_0001L}) {
                    long loaded = nr == -1 ? notSyscall : nr;
                    OptionalInt sent = new BpfSimulator(layout, state, loaded, fd).run(program);
                    boolean expected = expectSignal(policy, table, state, nr, fd & 0xffff_ffffL);
                    assertThat(sent.isPresent())
                            .as("state %#x, syscall %d (%s), fd %#x", state, nr, table.name((int) nr).orElse("?"), fd)
                            .isEqualTo(expected);
                    if (expected) {
                        assertThat(sent.getAsInt()).isEqualTo(policy.signal().orElseThrow().number());
                    }
                }
            }
        }
    }

    private static final int GUARDED_THREADS_FD = 21;

    /** The sched_switch program (SchedSwitchGuard): the same decisions for a marked thread, none for others. */
    @Test
    void onSchedSwitchAMarkedThreadIsDecidedLikeThePolicyAndOthersAreLeftAtTheFirstCompares() throws Exception {
        Policy policy = Policy.builder().allow("nanosleep").allowFd("sendto", 7).build();
        Program program = GuardProgram.generateForSchedSwitch(policy, X86_TABLE, X86, GUARDED_THREADS_FD);
        for (int state : new int[] {RUNNING, INTERRUPTIBLE, UNINTERRUPTIBLE, KILLABLE}) {
            for (long nr = -1; nr < 520; nr++) {
                for (long fd : new long[] {1, 7}) {
                    OptionalInt sent = new BpfSimulator(X86, 0, nr, fd).schedSwitch(GUARDED_THREADS_FD, true, state).run(program);
                    assertThat(sent.isPresent()).as("state %#x, syscall %d, fd %d", state, nr, fd)
                            .isEqualTo(expectSignal(policy, X86_TABLE, state, nr, fd));
                    BpfSimulator unmarked = new BpfSimulator(X86, 0, nr, fd).schedSwitch(GUARDED_THREADS_FD, false, state);
                    assertThat(unmarked.run(program)).isEmpty();
                    assertThat(unmarked.helpersCalled()).doesNotContain(Helper.TASK_PT_REGS.id());
                }
            }
        }
        int nanosleep = X86_TABLE.number("nanosleep").orElseThrow();
        BpfSimulator preempted = new BpfSimulator(X86, 0, nanosleep, 0).schedSwitch(GUARDED_THREADS_FD, true, RUNNING);
        preempted.run(program);
        assertThat(preempted.helpersCalled()).as("a preemption, the most common switch, calls nothing").isEmpty();
        assertThat(preempted.instructionsRun()).isEqualTo(5);
        BpfSimulator other = new BpfSimulator(X86, 0, nanosleep, 0).schedSwitch(GUARDED_THREADS_FD, false, INTERRUPTIBLE);
        other.run(program);
        assertThat(other.helpersCalled()).containsExactly(Helper.TASK_STORAGE_GET.id());
        assertThatThrownBy(() -> GuardProgram.generateForSchedSwitch(Policy.builder().report(true).build(), X86_TABLE, X86,
                GUARDED_THREADS_FD)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void defaultPolicyDecidesEverySyscallLikeThePolicy() throws Exception {
        assertDecidesLikeThePolicy(Policy.defaults(), X86_TABLE, X86);
    }

    @Test
    void customPoliciesDecideLikeThePolicyOnBothArchitectures() throws Exception {
        Policy custom = Policy.builder().allow("nanosleep").allow("clock_nanosleep").disallow("write")
                .allowFd("sendto", 7).allowFd("read", 5).includeUninterruptible(true).signal(new Signal(10)).build();
        assertDecidesLikeThePolicy(custom, X86_TABLE, X86);
        assertDecidesLikeThePolicy(custom, ARM_TABLE, ARM);
        assertDecidesLikeThePolicy(Policy.defaults(), ARM_TABLE, ARM);
        assertDecidesLikeThePolicy(Policy.builder().noDefaults().build(), X86_TABLE, X86);
    }

    @Test
    void largeAllowlistsStayCorrectAndLookUpInFewCompares() throws Exception {
        Policy.Builder builder = Policy.builder().noDefaults();
        List<String> names = X86_TABLE.names().stream().limit(64).toList();
        names.forEach(builder::allow);
        Policy wide = builder.build();
        assertDecidesLikeThePolicy(wide, X86_TABLE, X86);

        Program program = GuardProgram.generate(wide, X86_TABLE, X86);
        int worst = 0;
        for (int nr = 0; nr < 520; nr++) {
            BpfSimulator run = new BpfSimulator(X86, INTERRUPTIBLE, nr, 0);
            run.run(program);
            worst = Math.max(worst, run.instructionsRun());
        }
        // Prologue (8) + a tree over 64 cases (log2(64/4) range compares + up to 4 equality compares) + signal + exit.
        assertThat(worst).isLessThanOrEqualTo(8 + 4 + 4 + 1 + 4);
    }

    @Test
    void threadPatternsDecideWhichThreadsCountAndCostNothingForAllowedSleeps() throws Exception {
        Policy policy = Policy.builder().thread("vert.x-eventloop-thread-*").thread("loop-?").thread("redis-server").build();
        Program program = GuardProgram.generate(policy, X86_TABLE, X86);
        int nanosleep = X86_TABLE.number("nanosleep").orElseThrow();
        int futex = X86_TABLE.number("futex").orElseThrow();
        for (String thread : new String[] {"vert.x-eventloo", "loop-1", "loop-x", "redis-server", "loop-12", "loop-",
                "redis-server2", "redis-serve", "vert.x-worker-t", "main"}) {
            boolean guarded = policy.threads().stream().anyMatch(pattern -> pattern.matches(thread));
            OptionalInt sent = new BpfSimulator(X86, INTERRUPTIBLE, nanosleep, 0).thread(thread).run(program);
            assertThat(sent.isPresent()).as("thread %s", thread).isEqualTo(guarded);
            assertThat(new BpfSimulator(X86, INTERRUPTIBLE, futex, 0).thread(thread).run(program)).isEmpty();
        }
        assertThat(policy.threads().stream().filter(p -> p.matches("vert.x-eventloo"))).hasSize(1);
        assertThat(List.of("loop-1", "redis-server", "vert.x-eventloo")).allMatch(name ->
                policy.threads().stream().anyMatch(pattern -> pattern.matches(name)));
        assertThatThrownBy(() -> ThreadPattern.parse("*-eventloop")).hasMessageContaining("only a trailing *");
    }

    @Test
    void emitsOnlyWhatThePolicyNeeds() throws Exception {
        Program defaults = GuardProgram.generate(Policy.defaults(), X86_TABLE, X86);
        Program empty = GuardProgram.generate(Policy.builder().noDefaults().build(), X86_TABLE, X86);
        Program noFds = GuardProgram.generate(Policy.builder().disallow("read").disallow("write").build(), X86_TABLE, X86);

        // Nothing allowed: prologue, signal, exit; no syscall compares and no argument load.
        assertThat(empty.listing()).doesNotContain("regs->di", "goto out                 ; ");
        assertThat(empty.size()).isEqualTo(12);
        assertThat(noFds.listing()).doesNotContain("regs->di");
        assertThat(noFds.size()).isLessThan(defaults.size());
        assertThat(defaults.listing()).contains("regs->di", "; epoll_pwait", "; futex", "; io_uring_enter", "; write(2)");
        assertThat(defaults.helpersCalled())
                .containsExactly(Helper.GET_CURRENT_TASK_BTF, Helper.TASK_PT_REGS, Helper.SEND_SIGNAL_THREAD);
    }

    @Test
    void countedStatesAndSignalAreInlinedConstants() throws Exception {
        Program interruptible = GuardProgram.generate(Policy.defaults(), X86_TABLE, X86);
        Program both = GuardProgram.generate(Policy.builder().includeUninterruptible(true).signal(Signal.parse("KILL")).build(),
                X86_TABLE, X86);
        assertThat(interruptible.listing()).contains("w1 &= 1 ", "r1 = 6 ");
        assertThat(both.listing()).contains("w1 &= 3 ", "r1 = 9 ");
    }

    @Test
    void skipsDefaultsTheArchitectureLacksButRejectsUnknownNamesTheUserGave() throws Exception {
        Program arm = GuardProgram.generate(Policy.defaults(), ARM_TABLE, ARM);
        assertThat(arm.listing()).doesNotContain("; epoll_wait\n").contains("; epoll_pwait");
        assertThatThrownBy(() -> GuardProgram.validate(Policy.builder().allow("epoll_wait").build(), ARM_TABLE))
                .isInstanceOf(UnknownSyscallException.class)
                .hasMessageContaining("unknown syscall 'epoll_wait' on aarch64")
                .hasMessageContaining("epoll_pwait");
        assertThatThrownBy(() -> GuardProgram.validate(Policy.builder().allow("epol_pwait").build(), X86_TABLE))
                .hasMessageContaining("did you mean epoll_pwait");
        assertThat(Set.copyOf(Policy.defaults().allowed())).contains("epoll_pwait", "epoll_pwait2", "io_uring_enter");
    }

    /** HotSpot's numbers on JDK 25: MONITOR_WAIT 3, CONDVAR_WAIT 4, OBJECT_WAIT 5; RUNNABLE is 2. */
    private static final JavaWaitStates JAVA_WAITS = new JavaWaitStates(3, 4, 5);
    private static final int RUNNABLE_STATE = 2;
    private static final int JAVA_THREADS_FD = 9;
    private static final JavaThreadWaits WAITS = new JavaThreadWaits(0x7f00_0000_1008L, 0x7f00_0000_1000L,
            0x7f00_0000_1800L, 0x7f00_0000_4000L, 0x7f00_0000_4080L, 0x7f00_0000_3f00L, 0x7f00_0000_3f80L);
    private static final long IN_PARKER = 0x7f00_0000_1200L;
    private static final long IN_SLEEP_EVENT = 0x7f00_0000_4030L;
    private static final long IN_PARK_EVENT = 0x7f00_0000_3f40L;
    private static final long SHARED_WORD = 0x7f00_0000_9000L;

    private static Program javaAware(Policy.Builder builder) throws Exception {
        return GuardProgram.generate(builder.countJavaWaits(JAVA_WAITS).build(), X86_TABLE, X86,
                ProgramMaps.javaThreadsOnly(JAVA_THREADS_FD));
    }

    private static boolean counted(Program program, int state, long futexWord) {
        int futex = X86_TABLE.number("futex").orElseThrow();
        return new BpfSimulator(X86, INTERRUPTIBLE, futex, futexWord).javaThread(JAVA_THREADS_FD, WAITS, state).run(program)
                .isPresent();
    }

    @Test
    void aFutexSleepOfAKnownJvmThreadCountsOnlyWhenItIsAJavaLevelWait() throws Exception {
        Program program = javaAware(Policy.builder());
        for (long word : new long[] {IN_PARK_EVENT, WAITS.monitorFrom(), WAITS.monitorTo() - 1}) {
            assertThat(counted(program, JAVA_WAITS.objectWait(), word)).as("Object.wait, word %x", word).isTrue();
            assertThat(counted(program, JAVA_WAITS.monitorWait(), word)).as("contended monitor, word %x", word).isTrue();
        }
        for (long word : new long[] {SHARED_WORD, IN_PARKER, IN_SLEEP_EVENT, WAITS.monitorTo()}) {
            assertThat(counted(program, JAVA_WAITS.objectWait(), word)).as("a safepoint on the way out of Object.wait, word %x",
                    word).isFalse();
            assertThat(counted(program, JAVA_WAITS.monitorWait(), word)).as("a safepoint on the way into a monitor, word %x",
                    word).isFalse();
        }
        for (long word : new long[] {IN_PARKER, IN_SLEEP_EVENT, IN_PARK_EVENT, SHARED_WORD, WAITS.parkFrom(), WAITS.sleepTo() - 1}) {
            assertThat(counted(program, RUNNABLE_STATE, word)).as("a safepoint, word %x", word).isFalse();
        }
        assertThat(counted(program, JAVA_WAITS.condvarWait(), IN_PARKER)).as("a park").isTrue();
        assertThat(counted(program, JAVA_WAITS.condvarWait(), IN_SLEEP_EVENT)).as("a sleep").isTrue();
        assertThat(counted(program, JAVA_WAITS.condvarWait(), SHARED_WORD)).as("a wait for a GC the thread asked for")
                .isFalse();
        assertThat(counted(program, JAVA_WAITS.condvarWait(), WAITS.parkTo())).as("just past the Parker").isFalse();
        assertThat(counted(program, JAVA_WAITS.condvarWait(), WAITS.sleepTo())).as("just past the sleep event").isFalse();
    }

    @Test
    void futexSleepsOfUnknownThreadsAndUnreadableStatesStayAllowed() throws Exception {
        Program program = javaAware(Policy.builder());
        int futex = X86_TABLE.number("futex").orElseThrow();
        assertThat(new BpfSimulator(X86, INTERRUPTIBLE, futex, IN_PARKER).unknownJavaThread(JAVA_THREADS_FD).run(program))
                .isEmpty();
        assertThat(new BpfSimulator(X86, INTERRUPTIBLE, futex, IN_PARKER).javaThread(JAVA_THREADS_FD, WAITS, null)
                .run(program)).isEmpty();
    }

    @Test
    void countingJavaWaitsChangesNothingButFutex() throws Exception {
        Program program = javaAware(Policy.builder());
        Policy plain = Policy.defaults();
        for (long nr = -1; nr < 520; nr++) {
            String name = X86_TABLE.name((int) nr).orElse("?");
            if (GuardProgram.FUTEX_WAITS.contains(name)) {
                continue;
            }
            OptionalInt sent = new BpfSimulator(X86, INTERRUPTIBLE, nr, 3).unknownJavaThread(JAVA_THREADS_FD).run(program);
            assertThat(sent.isPresent()).as("syscall %d (%s)", nr, name)
                    .isEqualTo(expectSignal(plain, X86_TABLE, INTERRUPTIBLE, nr, 3));
        }
    }

    @Test
    void aPolicyThatDisallowsFutexOutrightNeedsNoJavaCheck() throws Exception {
        Program program = javaAware(Policy.builder().disallow("futex").disallow("futex_wait").disallow("futex_waitv"));
        assertThat(program.listing()).doesNotContain("bpf_probe_read_user");
        int futex = X86_TABLE.number("futex").orElseThrow();
        assertThat(new BpfSimulator(X86, INTERRUPTIBLE, futex, 0).run(program)).isPresent();
    }

    @Test
    void javaWaitsNeedTheirMap() {
        assertThatThrownBy(() -> GuardProgram.generate(Policy.builder().countJavaWaits(JAVA_WAITS).build(), X86_TABLE, X86))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
