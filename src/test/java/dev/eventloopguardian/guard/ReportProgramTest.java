package dev.eventloopguardian.guard;

import dev.eventloopguardian.bpf.RingBuffer;
import dev.eventloopguardian.btf.Btf;
import dev.eventloopguardian.sys.Arch;
import dev.eventloopguardian.sys.Linux;
import dev.eventloopguardian.testing.KernelTest;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A reporting guard on a live thread of this JVM, with futex taken out of the allowlist so
 * that the thread's {@code Thread.sleep} calls count: each must arrive as an event carrying
 * the thread, the syscall, its arguments and both stacks; no signal is sent.
 */
@KernelTest
class ReportProgramTest {
    /** What the guard reported while a thread of this JVM slept 2 ms twenty times. */
    private record Reported(List<BlockingEvent> sleeps, List<SleepEnd> ends) {
        /** The ends that belong to one of the reported sleeps. */
        List<SleepEnd> endsOfSleeps() {
            return ends.stream().filter(end -> sleeps.stream()
                    .anyMatch(sleep -> sleep.monotonicNanos() == end.sleepStartNanos())).toList();
        }
    }

    private static Reported sleepTwentyTimes(int perfEvents) throws Exception {
        Policy policy = Policy.builder().disallow("futex").noSignal().report(true).build();
        List<BlockingEvent> events = new CopyOnWriteArrayList<>();
        List<SleepEnd> ends = new CopyOnWriteArrayList<>();
        int futex = SyscallTable.of(Arch.current()).number("futex").orElseThrow();
        Guard.SleepListener listener = new Guard.SleepListener() {
            @Override
            public void asleep(BlockingEvent event) {
                events.add(event);
            }

            @Override
            public void ended(SleepEnd end) {
                ends.add(end);
            }
        };
        try (Guard guard = Guard.load(policy, Btf.VMLINUX); RingBuffer reader = guard.events(listener)) {
            LiveThread.runGuarded(guard, perfEvents, "elg-sleeper", () -> {
                for (int i = 0; i < 20; i++) {
                    Thread.sleep(2);
                }
            });
            while (reader.poll(Duration.ofMillis(100)) > 0) {
                // drain
            }
            assertThat(guard.droppedEvents()).isZero();
        }
        return new Reported(events.stream().filter(e -> e.syscall() == futex).toList(), ends);
    }

    @Test
    void eachCountedSleepArrivesAsAnEventWithStacks() throws Exception {
        Reported reported = sleepTwentyTimes(1);
        List<BlockingEvent> sleeps = reported.sleeps();
        assertThat(sleeps).hasSizeGreaterThanOrEqualTo(20);
        BlockingEvent first = sleeps.getFirst();
        assertThat(first.pid()).isEqualTo(Linux.pid());
        assertThat(sleeps).extracting(BlockingEvent::tid).containsOnly(first.tid());
        assertThat(first.thread()).isEqualTo("elg-sleeper");
        assertThat(first.stateLetter()).isEqualTo('S');
        assertThat(first.arguments()[0]).as("futex's first argument: the futex word's address").isNotZero();
        assertThat(first.kernelStack()).as("kernel stack").hasSizeGreaterThan(2);
        assertThat(java.util.Arrays.stream(first.kernelStack()).allMatch(address -> address < 0))
                .as("kernel addresses are in the upper half").isTrue();
        assertThat(first.userStack()).as("user stack").isNotEmpty();
        assertThat(java.util.Arrays.stream(first.userStack()).allMatch(address -> address > 0 && address < 1L << 47))
                .as("user addresses, read from right after the kernel frames").isTrue();
        assertThat(first.monotonicNanos()).isPositive();
        assertThat(first.switches()).as("task->sched_info.pcount at the switch-out").isPositive();

        // Every sleep but the thread's last is ended by its next switch-out, with the time it was off the CPU.
        List<SleepEnd> sleepEnds = reported.endsOfSleeps();
        assertThat(sleepEnds).hasSizeGreaterThanOrEqualTo(sleeps.size() - 1).allSatisfy(end -> {
            assertThat(end.tid()).isEqualTo(first.tid());
            assertThat(end.offCpuNanos()).isBetween(0L, 2_000_000_000L);
        });
        assertThat(sleepEnds).as("each Thread.sleep(2) is off the CPU 2 ms at least")
                .filteredOn(end -> end.offCpuNanos() >= 2_000_000L).hasSizeGreaterThanOrEqualTo(19);
    }

    @Test
    void aThreadWithTwoEventsHasEachSleepReportedAndEndedOnce() throws Exception {
        Reported reported = sleepTwentyTimes(2);
        assertThat(reported.sleeps()).as("one event per sleep, not one per perf event")
                .hasSizeBetween(20, 30)
                .extracting(BlockingEvent::switches).doesNotHaveDuplicates();
        // Without the check, the second run ends each sleep at once: about twenty ends of ~0 ns.
        assertThat(reported.endsOfSleeps()).as("every sleep but the last is ended once")
                .hasSizeGreaterThanOrEqualTo(reported.sleeps().size() - 1)
                .filteredOn(end -> end.offCpuNanos() < 100_000L).as("ends of under 100 µs").hasSizeLessThanOrEqualTo(1);
    }
}
