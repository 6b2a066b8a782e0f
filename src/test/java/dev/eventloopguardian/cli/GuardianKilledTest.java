package dev.eventloopguardian.cli;

import dev.eventloopguardian.sys.Linux;
import dev.eventloopguardian.testing.Guardian;
import dev.eventloopguardian.testing.HeldObjects;
import dev.eventloopguardian.testing.TickingPython;
import dev.eventloopguardian.testing.KernelTest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import static dev.eventloopguardian.testing.Guardian.guardian;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code kill -9} of the guardian, which runs no clean-up: the kernel must still take back
 * every program, map and perf event it had (they live only as long as its descriptors), and the
 * process it guarded must go on unharmed.
 */
@KernelTest
class GuardianKilledTest {
    private static final int SIGKILL = 9;
    private static final Duration STARTED = Duration.ofSeconds(30);
    private static final Duration PROGRESS = Duration.ofSeconds(10);

    private final List<Long> pythons = new ArrayList<>();

    @AfterEach
    void stopPythons() {
        pythons.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
    }

    @Test
    void inReportModeItLeavesNothingInTheKernelAndCommandRunsOn(@TempDir Path directory) throws Exception {
        Path output = directory.resolve("command.out");
        List<String> arguments = new ArrayList<>(List.of("--report"));
        arguments.addAll(TickingPython.command(output));
        try (Guardian.Running running = guardian().start(arguments.toArray(String[]::new))) {
            TickingPython.awaitTick(output, 1, STARTED); // COMMAND runs, guarded from its first instruction
            long command = TickingPython.pid(TickingPython.contentOf(output).get());
            pythons.add(command);
            HeldObjects held = HeldObjects.of(running.pid());
            assertThat(held.programIds()).as("the guard program").isNotEmpty();
            assertThat(held.mapIds()).as("the ring buffer and the report's maps").isNotEmpty();
            assertThat(held.perfEvents()).as("the event on COMMAND's thread").isPositive();

            killAndAssertNothingLeft(running, held);
            assertAliveAndTicking(command, TickingPython.contentOf(output));
        }
    }

    @Test
    void attachedItLeavesNothingInTheKernelAndTheTargetRunsOn(@TempDir Path directory) throws Exception {
        Path output = directory.resolve("target.out");
        Process target = TickingPython.startWritingTo(output);
        pythons.add(target.pid());
        try (Guardian.Running running = guardian().start("attach", "--pid", Long.toString(target.pid()))) {
            running.awaitStderr("attached to pid " + target.pid(), STARTED);
            HeldObjects held = HeldObjects.of(running.pid());
            assertThat(held.programIds()).as("the guard program").isNotEmpty();
            assertThat(held.mapIds()).as("the ring buffer and the report's maps").isNotEmpty();
            assertThat(held.perfEvents()).as("one event per thread of the target, opened by the guardian")
                    .isGreaterThanOrEqualTo(threadsOf(target.pid()));

            killAndAssertNothingLeft(running, held);
            assertAliveAndTicking(target.pid(), TickingPython.contentOf(output));
        }
    }

    private static void killAndAssertNothingLeft(Guardian.Running running, HeldObjects held) throws Exception {
        Linux.kill((int) running.pid(), SIGKILL);
        assertThat(running.endsWithin(Duration.ofSeconds(10))).as("the guardian dies of SIGKILL").isTrue();
        // A perf event left on a thread would hold its program: a program id still there means a guard still armed.
        assertThat(held.stillInTheKernel()).as("objects of the killed guardian still in the kernel (" + held + ")").isEmpty();
    }

    private static void assertAliveAndTicking(long pid, Supplier<String> output) throws InterruptedException {
        TickingPython.assertKeepsTicking(output, PROGRESS);
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).as("pid " + pid + " after the guardian's death")
                .contains(true);
    }

    private static int threadsOf(long pid) throws IOException {
        try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            return Math.toIntExact(tasks.count());
        }
    }
}
