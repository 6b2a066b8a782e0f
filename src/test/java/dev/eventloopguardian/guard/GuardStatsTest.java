package dev.eventloopguardian.guard;

import dev.eventloopguardian.btf.Btf;
import dev.eventloopguardian.bpf.ProgramInfo;
import dev.eventloopguardian.sys.Linux;
import dev.eventloopguardian.testing.KernelTest;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The guard attached to a live thread of this JVM: the kernel runs the program at every
 * switch-out of that thread and nowhere else, and reports how often and how long it ran.
 */
@KernelTest
class GuardStatsTest {
    private static final Path BPF_STATS = Path.of("/proc/sys/kernel/bpf_stats_enabled");
    /** SIGWINCH: ignored by default, so a counted sleep here could not hurt the test JVM. */
    private static final Signal HARMLESS = new Signal(28);

    @Test
    void runsOncePerSwitchOutOfTheGuardedThreadOnly() throws Exception {
        String statsBefore = Files.readString(BPF_STATS).strip();
        Files.writeString(BPF_STATS, "1");
        try (Guard guard = Guard.load(Policy.builder().signal(HARMLESS).build(), Btf.VMLINUX)) {
            LiveThread.runGuarded(guard, "elg-stats", () -> {
                for (int i = 0; i < 200; i++) {
                    Thread.sleep(1); // a futex wait: allowed, but the program still runs at each switch-out
                }
            });
            ProgramInfo info = guard.info();
            assertThat(info.runCount()).isBetween(200L, 2_000L);
            assertThat(info.runTimeNanos()).isPositive();
            System.out.printf("guard program: %d runs, %.0f ns per run%n", info.runCount(), info.nanosPerRun());
        } finally {
            Files.writeString(BPF_STATS, statsBefore);
        }
    }
}
