package dev.eventloopguardian.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.eventloopguardian.sys.Linux;
import dev.eventloopguardian.testing.Chromium;
import dev.eventloopguardian.testing.Guardian;
import dev.eventloopguardian.testing.KernelTest;
import dev.eventloopguardian.testing.Python;
import dev.eventloopguardian.testing.ReportPages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static dev.eventloopguardian.testing.Guardian.guardian;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code --html FILE} in real sessions: the page of a {@code --report} run, opened in a real
 * headless Chromium, draws the frames that blocked; a session stopped by TERM or INT still writes
 * it; a file that cannot be written is said, at start or at the end, with the exit statuses of
 * {@code --folded}. HtmlReportIT does the same on a JVM, with Java frames.
 */
@KernelTest
class HtmlReportSessionTest {
    private static final String PYTHON = Python.executable();
    private static final Duration REPORTED = Duration.ofSeconds(30);
    /** The main thread sleeps three times, and after each sleep writes to a pipe that a thread named loop-1 reads twice. */
    private static final String SLEEPS_AND_READS = String.join("\n",
            "import ctypes, os, threading, time",
            "r, w = os.pipe()",
            "def loop():",
            "    ctypes.CDLL(None).prctl(15, b'loop-1', 0, 0, 0)",
            "    for _ in range(2):",
            "        os.read(r, 1)",
            "thread = threading.Thread(target=loop)",
            "thread.start()",
            "for _ in range(3):",
            "    time.sleep(0.05)",
            "    os.write(w, b'x')",
            "thread.join()",
            "print('done')");
    private static final String SLEEPS_ON = "import time\nwhile True: time.sleep(0.05)";

    @Test
    void aReportSessionsPageDrawsTheFramesThatBlocked(@TempDir Path scratch) throws Exception {
        Path page = scratch.resolve("report.html");
        Guardian.Result result = guardian().run("--report", "--all-threads", "--html", page.toString(), "--output",
                scratch.resolve("events.txt").toString(), PYTHON, "-c", SLEEPS_AND_READS);
        assertThat(result.status()).as(result.toString()).isZero();
        assertThat(result.stdout()).isEqualTo("done\n");
        assertThat(result.stderr()).as(result.toString()).contains("summary: 5 blocking sleeps", "clock_nanosleep 3", "read 2");

        try (Chromium chromium = Chromium.start(scratch, 1400, 1000)) {
            ReportPages.Drawn drawn = ReportPages.check(chromium, page, "python-session");
            assertThat(drawn.frames()).as("the syscalls under the root, then the native frames, then the kernel's")
                    .contains("clock_nanosleep", "read", "clock_nanosleep (libc.so.6)", "do_nanosleep", "schedule");
            assertThat(drawn.marks()).as("a mark per sleep on the timeline").isEqualTo(5);
            assertThat(drawn.tableRows()).anySatisfy(row -> assertThat(row).startsWith("clock_nanosleep\t3\t60.0 %\t"))
                    .anySatisfy(row -> assertThat(row).startsWith("read\t2\t40.0 %\t"))
                    .anySatisfy(row -> assertThat(row).startsWith("loop-1 (tid "));
            assertThat(drawn.text()).contains("5 blocking sleeps in 2 threads");
        }
    }

    @Test
    void aReportSessionStoppedByTermStillWritesThePage(@TempDir Path scratch) throws Exception {
        Path page = scratch.resolve("report.html");
        try (Guardian.Running running = guardian().start("--report", "--html", page.toString(), PYTHON, "-c", SLEEPS_ON)) {
            running.awaitStderr("blocked in clock_nanosleep", REPORTED);
            Linux.kill((int) running.pid(), 15); // passed on to COMMAND, which it ends
            Guardian.Result result = running.result();
            assertThat(result.status()).as(result.toString()).isEqualTo(128 + 15);
            assertWritten(page, result);
        }
    }

    @Test
    void anAttachStoppedByIntStillWritesThePage(@TempDir Path scratch) throws Exception {
        Process target = new ProcessBuilder(PYTHON, "-c", SLEEPS_ON).start();
        Path page = scratch.resolve("report.html");
        try (Guardian.Running running = guardian().start("attach", "--pid", Long.toString(target.pid()), "--html",
                page.toString())) {
            running.awaitStderr("blocked in clock_nanosleep", REPORTED);
            Linux.kill((int) running.pid(), 2);
            Guardian.Result result = running.result();
            assertThat(result.status()).as(result.toString()).isZero();
            assertThat(result.stderr()).contains("SIGINT: detached from pid " + target.pid());
            assertWritten(page, result);
        } finally {
            target.destroyForcibly();
        }
    }

    private static void assertWritten(Path page, Guardian.Result result) throws Exception {
        JsonNode data = ReportPages.data(page);
        assertThat(data.get("sleeps").asLong()).as(result.toString()).isPositive();
        assertThat(data.get("syscalls").get(0).get("name").asText()).isEqualTo("clock_nanosleep");
        assertThat(data.get("threads").get(0).get("name").asText()).isEqualTo("python3");
    }

    @Test
    void aPageThatCannotBeCreatedStopsTheSessionBeforeCommandRuns(@TempDir Path scratch) {
        Path marker = scratch.resolve("ran");
        Guardian.Result result = guardian().run("--report", "--html", "/proc/1/mem", "touch", marker.toString());
        assertThat(result.status()).as(result.toString()).isEqualTo(ExitCodes.USAGE);
        assertThat(result.stderr()).as(result.toString()).contains("--html /proc/1/mem: cannot create it: permission denied; "
                + "give a file you can write, e.g. --html ./report.html");
        assertThat(marker).as("COMMAND must not run").doesNotExist();
    }

    @Test
    void aPageThatCannotBeWrittenMakesTheReportIncomplete() {
        Guardian.Result result = guardian().run("--report", "--html", "/dev/full", PYTHON, "-c",
                "import time; time.sleep(0.05); print('done')");
        assertThat(result.status()).as(result.toString()).isEqualTo(ExitCodes.REPORT_INCOMPLETE);
        assertThat(result.stdout()).as("COMMAND ran to its end").isEqualTo("done\n");
        assertThat(result.stderr()).as(result.toString())
                .contains("the HTML report was not written (cannot write to --html /dev/full: No space left on device)")
                .doesNotContain("Exception");
    }
}
