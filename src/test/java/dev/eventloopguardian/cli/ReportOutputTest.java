package dev.eventloopguardian.cli;

import dev.eventloopguardian.testing.Guardian;
import dev.eventloopguardian.testing.KernelTest;
import dev.eventloopguardian.testing.Python;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.eventloopguardian.testing.Guardian.guardian;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A report that cannot be written (a full disk, a reader gone away) never stops or kills
 * COMMAND: COMMAND runs to its end and keeps its status, the guardian says once what it could
 * not write and why, counts what was lost, and exits 74 when COMMAND's own status was 0.
 */
@KernelTest
class ReportOutputTest {
    private static final int REPORT_INCOMPLETE = 74;
    private static final String TWO_SLEEPS = "import time, sys; time.sleep(0.05); time.sleep(0.05); print('done')";

    @Test
    void jsonToAFullDiskLeavesCommandRunningAndSaysWhatWasLost() {
        Guardian.Result result = guardian().run("--report", "--format", "json", "--output", "/dev/full", Python.executable(),
                "-c", TWO_SLEEPS);
        assertIncomplete(result, "cannot write to --output /dev/full: No space left on device");
        assertThat(result.stderr()).as(result.toString()).contains("2 of 2 events were not written");
    }

    @Test
    void textToAFullDiskIsNotLostInSilence() {
        Guardian.Result result = guardian().run("--report", "--output", "/dev/full", Python.executable(), "-c", TWO_SLEEPS);
        assertIncomplete(result, "cannot write to --output /dev/full: No space left on device");
        assertThat(result.stderr()).as(result.toString()).contains("2 of 2 events were not written");
    }

    @Test
    void foldedStacksThatCannotBeWrittenAreSaid() {
        for (String folded : List.of("/dev/full", "/proc/version")) {
            Guardian.Result result = guardian().run("--report", "--folded", folded, Python.executable(), "-c", TWO_SLEEPS);
            assertIncomplete(result, "the folded stacks were not written (cannot write to --folded " + folded + ": ");
        }
    }

    @Test
    void commandsOwnFailureWinsOverAnIncompleteReport() {
        Guardian.Result result = guardian().run("--report", "--output", "/dev/full", Python.executable(), "-c",
                "import time, sys; time.sleep(0.05); sys.exit(3)");
        assertThat(result.status()).as(result.toString()).isEqualTo(3);
        assertThat(result.stderr()).as(result.toString()).contains("the report is incomplete");
    }

    @Test
    void anOutputThatCannotBeCreatedSaysWhy(@TempDir Path directory) {
        Path marker = directory.resolve("ran");
        Guardian.Result result = guardian().run("--report", "--output", "/proc/1/mem", "touch", marker.toString());
        assertThat(result.status()).as(result.toString()).isEqualTo(64);
        assertThat(result.stderr()).as(result.toString()).contains("--output /proc/1/mem: cannot create it: permission denied");
        assertThat(marker).as("COMMAND must not run").doesNotExist();
    }

    /** `eventloop-guardian --report ... 2>&1 | head -1`: the reader of our stderr leaves after one line. */
    @Test
    void aReaderThatGoesAwayDoesNotStopCommand(@TempDir Path directory) throws Exception {
        Path commandOutput = directory.resolve("stdout");
        List<String> command = Guardian.javaCommand(List.of("--report", Python.executable(), "-c",
                "import time\nfor _ in range(20): time.sleep(0.02)\nprint('done')"));
        Process guardian = new ProcessBuilder(command).redirectOutput(commandOutput.toFile()).start();
        guardian.getOutputStream().close();
        try (BufferedReader stderr = new BufferedReader(new InputStreamReader(guardian.getErrorStream(), StandardCharsets.UTF_8))) {
            assertThat(stderr.readLine()).contains("blocked in clock_nanosleep");
        }
        assertThat(guardian.waitFor(60, TimeUnit.SECONDS)).as("the guardian ends with COMMAND").isTrue();
        assertThat(Files.readString(commandOutput)).as("COMMAND ran to its end").isEqualTo("done\n");
        assertThat(guardian.exitValue()).isEqualTo(REPORT_INCOMPLETE);
    }

    private static void assertIncomplete(Guardian.Result result, String why) {
        assertThat(result.status()).as(result.toString()).isEqualTo(REPORT_INCOMPLETE);
        assertThat(result.stdout()).as("COMMAND ran to its end: " + result).isEqualTo("done\n");
        assertThat(result.stderr()).as(result.toString()).contains(why).doesNotContain("Exception");
    }
}
