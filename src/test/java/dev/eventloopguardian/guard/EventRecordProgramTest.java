package dev.eventloopguardian.guard;

import dev.eventloopguardian.bpf.Program;
import dev.eventloopguardian.sys.Arch;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.stream.IntStream;

import static dev.eventloopguardian.guard.SleepEndProgramTest.FDS;
import static dev.eventloopguardian.guard.SleepEndProgramTest.LAYOUT;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The event record a reporting guard writes, run in {@link BpfSimulator}: as long as its stacks,
 * the user stack right after the kernel's, read back by {@link BlockingEvent#decode} as written.
 * The kernel's verifier accepts the same program ({@code ReportProgramTest} loads it).
 */
class EventRecordProgramTest {
    private static final SyscallTable TABLE = SyscallTable.of(Arch.X86_64);
    private static final int INTERRUPTIBLE = 0x1;
    private static final int NANOSLEEP = TABLE.number("nanosleep").orElseThrow();
    private static final Program REPORT = program();

    private BpfSimulator.ReportMaps maps;

    private static Program program() {
        try {
            return GuardProgram.generate(Policy.builder().report(true).noSignal().build(), TABLE, LAYOUT, FDS);
        } catch (UnknownSyscallException e) {
            throw new AssertionError(e);
        }
    }

    @BeforeEach
    void newMaps() {
        maps = new BpfSimulator.ReportMaps();
    }

    private long runtime = 5_000_000;

    /** The thread going to sleep, having run since its last switch-out (which ends the sleep that one opened). */
    private BpfSimulator sleeper(int kernelFrames, int userFrames) {
        runtime += 10_000;
        return new BpfSimulator(LAYOUT, INTERRUPTIBLE, NANOSLEEP, 3).reporting(FDS, maps).runtime(LAYOUT, runtime)
                .stacks(kernelFrames, userFrames);
    }

    private java.util.List<ByteBuffer> events() {
        return maps.records.stream().filter(record -> !SleepEnd.isEnd(record.capacity())).toList();
    }

    private static long[] frames(boolean user, int count) {
        return IntStream.range(0, count).mapToLong(i -> BpfSimulator.frame(user, i)).toArray();
    }

    @Test
    void aRecordIsAsLongAsItsStacksAndDecodesAsWritten() {
        sleeper(12, 3).run(REPORT);

        assertThat(maps.records).singleElement().satisfies(record -> {
            assertThat(record.capacity()).isEqualTo(EventLayout.FRAMES + 8 * (12 + 3));
            BlockingEvent event = BlockingEvent.decode(record);
            assertThat(event.kernelStack()).containsExactly(frames(false, 12));
            assertThat(event.userStack()).containsExactly(frames(true, 3));
            assertThat(event.syscall()).isEqualTo(NANOSLEEP);
            assertThat(event.tid()).isEqualTo(4242);
        });
    }

    @Test
    void theDeepestStacksAreCutAtTheRoomTheRecordHas() {
        sleeper(500, 500).run(REPORT);

        ByteBuffer record = maps.records.getFirst();
        assertThat(record.capacity()).isEqualTo(EventLayout.MAX_SIZE);
        BlockingEvent event = BlockingEvent.decode(record);
        assertThat(event.kernelStack()).containsExactly(frames(false, EventLayout.KERNEL_FRAMES));
        assertThat(event.userStack()).containsExactly(frames(true, EventLayout.USER_FRAMES));
    }

    @Test
    void aRecordWithoutStacksKeepsNothingTheScratchHeldBefore() {
        sleeper(30, 60).run(REPORT);
        sleeper(0, 0).run(REPORT);

        ByteBuffer second = events().get(1);
        assertThat(second.capacity()).isEqualTo(EventLayout.FRAMES);
        BlockingEvent event = BlockingEvent.decode(second);
        assertThat(event.kernelStack()).isEmpty();
        assertThat(event.userStack()).isEmpty();
    }

    @Test
    void anEventTheRingHasNoRoomForIsCountedAndOpensNoSleep() {
        maps.ringFull = true;
        sleeper(12, 3).run(REPORT);

        assertThat(maps.records).isEmpty();
        assertThat(maps.drops(EventLayout.DROPPED_EVENTS)).isEqualTo(1);
        assertThat(maps.asleep).as("no end is owed for a sleep nobody was told of").isEmpty();
    }
}
