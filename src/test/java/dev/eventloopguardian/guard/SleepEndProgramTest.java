package dev.eventloopguardian.guard;

import dev.eventloopguardian.bpf.Helper;
import dev.eventloopguardian.bpf.Program;
import dev.eventloopguardian.bpf.Size;
import dev.eventloopguardian.sys.Arch;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The reporting program's sleep ends, run on a made-up thread across several switch-outs: a
 * reported sleep stays open, in the thread's task storage, until the thread's next switch-out
 * ends it; a thread without one (a healthy loop) only finds its storage empty.
 */
class SleepEndProgramTest {
    private static final KernelLayout.Field RUNTIME = new KernelLayout.Field("task->se.sum_exec_runtime", 232, Size.DW);
    /** This machine's layout with the fields a report reads. */
    static final KernelLayout LAYOUT = new KernelLayout(GuardProgramTest.X86.taskState(),
            GuardProgramTest.X86.syscallNumber(), GuardProgramTest.X86.arguments(),
            Optional.of(new KernelLayout.Field("task->sched_info.pcount", 1000, Size.DW)), Optional.of(RUNTIME),
            Optional.of(new KernelLayout.Field("task->self_exec_id", 2000, Size.W)));
    static final ProgramMaps FDS = new ProgramMaps(11, 14, 12, 13, -1);
    private static final SyscallTable TABLE = SyscallTable.of(Arch.X86_64);
    private static final int INTERRUPTIBLE = 0x1;
    private static final int EPOLL_WAIT = TABLE.number("epoll_wait").orElseThrow();
    private static final int NANOSLEEP = TABLE.number("nanosleep").orElseThrow();
    private static final int ABORT = 6;

    private final Program reportAndAbort = program(Policy.builder().report(true).build());
    private BpfSimulator.ReportMaps maps;
    private long runtime;

    private static Program program(Policy policy) {
        try {
            return GuardProgram.generate(policy, TABLE, LAYOUT, FDS);
        } catch (UnknownSyscallException e) {
            throw new AssertionError(e);
        }
    }

    @BeforeEach
    void newMaps() {
        maps = new BpfSimulator.ReportMaps();
        runtime = 5_000_000;
    }

    /** One switch-out of the thread into {@code syscall}, after it ran {@code ranNanos} since the last. */
    private BpfSimulator switchOut(int syscall, long ranNanos, long elapsedNanos) {
        runtime += ranNanos;
        maps.clock += elapsedNanos;
        return new BpfSimulator(LAYOUT, INTERRUPTIBLE, syscall, 3).reporting(FDS, maps).runtime(LAYOUT, runtime);
    }

    private OptionalInt run(BpfSimulator simulator) {
        return simulator.run(reportAndAbort);
    }

    private List<ByteBuffer> ends() {
        return maps.records.stream().filter(record -> record.capacity() == EventLayout.END_SIZE).toList();
    }

    @Test
    void anAllowedSleepWithNoReportedSleepOpenOnlyFindsItsStorageEmpty() throws Exception {
        BpfSimulator healthy = switchOut(EPOLL_WAIT, 1000, 50_000);
        assertThat(run(healthy)).isEmpty();
        assertThat(healthy.helpersCalled()).containsExactly(Helper.GET_CURRENT_TASK_BTF.id(), Helper.TASK_STORAGE_GET.id(),
                Helper.GET_CURRENT_TASK_BTF.id(), Helper.TASK_PT_REGS.id());

        BpfSimulator plain = new BpfSimulator(LAYOUT, INTERRUPTIBLE, EPOLL_WAIT, 3);
        plain.run(GuardProgram.generate(Policy.defaults(), TABLE, LAYOUT));
        // Three register moves that keep the context, state and registers for a report; the task, the map, two
        // arguments, the storage call and its test.
        assertThat(healthy.instructionsRun()).as("report mode's cost on the healthy path, in instructions")
                .isEqualTo(plain.instructionsRun() + 10);
        assertThat(maps.records).isEmpty();
        assertThat(maps.asleep).as("nothing created").isEmpty();
    }

    @Test
    void aReportedSleepIsOpenUntilTheThreadsNextSwitchOutEndsIt() {
        assertThat(run(switchOut(NANOSLEEP, 1000, 0))).hasValue(ABORT);
        assertThat(maps.records).hasSize(1).first().extracting(ByteBuffer::capacity).isEqualTo(EventLayout.FRAMES);
        assertThat(maps.asleep).containsOnlyKeys(4242);

        // Woken after 3 ms off the CPU, it ran 20 µs and sleeps again, in an allowed wait.
        BpfSimulator next = switchOut(EPOLL_WAIT, 20_000, 3_020_000);
        assertThat(run(next)).isEmpty();
        assertThat(next.helpersCalled()).contains(Helper.TASK_STORAGE_DELETE.id());
        assertThat(ends()).singleElement().satisfies(end -> {
            assertThat(end.getLong(EventLayout.END_TIME)).isEqualTo(maps.records.getFirst().getLong(EventLayout.TIME));
            assertThat(end.getInt(EventLayout.END_TID)).isEqualTo(4242);
            assertThat(end.getLong(EventLayout.END_OFF_CPU)).isEqualTo(3_000_000);
        });
        assertThat(maps.asleep).isEmpty();

        BpfSimulator after = switchOut(EPOLL_WAIT, 1000, 50_000);
        run(after);
        assertThat(after.helpersCalled()).doesNotContain(Helper.TASK_STORAGE_DELETE.id(), Helper.RINGBUF_RESERVE.id(), Helper.RINGBUF_OUTPUT.id());
    }

    @Test
    void aSecondEventOnTheSameSwitchOutNeitherEndsTheSleepNorCountsItAgain() {
        run(switchOut(NANOSLEEP, 1000, 0));
        assertThat(run(switchOut(NANOSLEEP, 0, 100))).as("the second event's run stops: the thread has not run")
                .isEmpty();
        assertThat(maps.records).hasSize(1);
        assertThat(maps.asleep).containsOnlyKeys(4242);
    }

    @Test
    void anOpenSleepOfAnotherThreadIsLeftAlone() {
        run(switchOut(NANOSLEEP, 1000, 0));
        BpfSimulator other = new BpfSimulator(LAYOUT, INTERRUPTIBLE, EPOLL_WAIT, 3).reporting(FDS, maps).tid(4243);
        assertThat(other.run(reportAndAbort)).isEmpty();
        assertThat(other.helpersCalled()).doesNotContain(Helper.TASK_STORAGE_DELETE.id());
        assertThat(ends()).isEmpty();
        assertThat(maps.asleep).containsOnlyKeys(4242);
    }

    @Test
    void anEndTheRingHasNoRoomForIsCountedAndStillClosesTheSleep() {
        run(switchOut(NANOSLEEP, 1000, 0));
        maps.ringFull = true;
        run(switchOut(EPOLL_WAIT, 1000, 1_000_000));
        assertThat(maps.drops(EventLayout.DROPPED_ENDS)).isEqualTo(1);
        assertThat(maps.asleep).isEmpty();
    }

    @Test
    void aSleepWithNoRoomForItsStorageIsReportedAndSignalledUntimed() {
        maps.storageFull = true;
        assertThat(run(switchOut(NANOSLEEP, 1000, 0))).hasValue(ABORT);
        assertThat(maps.records).hasSize(1);
        assertThat(maps.asleep).isEmpty();
    }

    @Test
    void noHashIsLookedUpAtAll() {
        assertThat(reportAndAbort.helpersCalled()).doesNotContain(Helper.MAP_UPDATE_ELEM, Helper.MAP_DELETE_ELEM);
        assertThat(reportAndAbort.listing()).contains("bpf_task_storage_get", "bpf_task_storage_delete");
    }
}
