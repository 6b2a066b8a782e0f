package dev.eventloopguardian.cli;

import dev.eventloopguardian.testing.Guardian;
import dev.eventloopguardian.testing.KernelTest;
import dev.eventloopguardian.testing.Python;
import org.junit.jupiter.api.Test;

import static dev.eventloopguardian.testing.Guardian.guardian;
import static org.assertj.core.api.Assertions.assertThat;

/** {@code --report}: COMMAND keeps running as our child, and each blocking sleep is reported with stacks. */
@KernelTest
class ReportModeTest {
    private static final String PYTHON = Python.executable();

    @Test
    void reportsTheBlockingCallWithNamedStacksAndKeepsCommandRunning() {
        Guardian.Result result = guardian().run("--report", PYTHON, "-c",
                "import time; time.sleep(0.1); print('still running')");
        assertThat(result.status()).as(result.toString()).isZero();
        assertThat(result.stdout()).contains("still running");
        assertThat(result.stderr()).as(result.toString())
                .contains("(python3) blocked in clock_nanosleep(0x1, ")
                .contains("kernel stack:", "do_nanosleep+0x", "user stack:", "clock_nanosleep+0x");
    }

    @Test
    void reportsAndSignalsWhenAskedToDoBoth() {
        Guardian.Result result = guardian().noCoreDump().run("--report", "--signal", "ABRT", PYTHON, "-c",
                "import time; time.sleep(0.1); print('not reached')");
        assertThat(result.killedBy(6)).as(result.toString()).isTrue();
        assertThat(result.stdout()).doesNotContain("not reached");
        assertThat(result.stderr()).contains("blocked in clock_nanosleep");
    }

    @Test
    void passesCommandsExitStatusThroughAndReportsNothingForAllowedWaits() {
        Guardian.Result result = guardian().run("--report", PYTHON, "-c",
                "import asyncio, sys; asyncio.run(asyncio.sleep(0.2)); sys.exit(3)");
        assertThat(result.status()).as(result.toString()).isEqualTo(3);
        assertThat(result.stderr()).as(result.toString()).doesNotContain("blocked in");
    }
}
