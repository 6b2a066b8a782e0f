package dev.eventloopguardian.cli;

import dev.eventloopguardian.sys.Linux;
import dev.eventloopguardian.testing.Guardian;
import dev.eventloopguardian.testing.KernelTest;
import dev.eventloopguardian.testing.Python;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

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
    void writesJsonLinesWithTheDocumentedFields(@TempDir Path directory) throws Exception {
        Path output = directory.resolve("events.jsonl");
        Guardian.Result result = guardian().run("--report", "--format", "json", "--output", output.toString(), PYTHON, "-c",
                "import time; time.sleep(0.05); time.sleep(0.05)");
        assertThat(result.status()).as(result.toString()).isZero();
        JsonNode first = new ObjectMapper().readTree(Files.readAllLines(output).getFirst());
        assertThat(first.get("still_asleep").asBoolean()).isFalse();
        assertThat(first.get("blocked_ns").asLong()).as("ended by the second sleep's switch-out: " + first)
                .isBetween(50_000_000L, 5_000_000_000L);
        assertThat(result.status()).as(result.toString()).isZero();
        List<String> lines = Files.readAllLines(output);
        assertThat(lines).as(result.toString()).hasSizeGreaterThanOrEqualTo(2);
        ObjectMapper mapper = new ObjectMapper();
        for (String line : lines) {
            JsonNode event = mapper.readTree(line);
            assertThat(event.fieldNames()).toIterable().contains("schema", "time", "pid", "tid", "thread", "syscall", "args",
                    "state", "kernel_stack", "user_stack", "blocked_ns");
            assertThat(event.get("schema").asText()).isEqualTo("eventloop-guardian/blocking-event/1");
            assertThat(event.get("syscall").asText()).isEqualTo("clock_nanosleep");
            assertThat(event.get("args")).hasSize(6);
            assertThat(event.get("kernel_stack").size()).isGreaterThan(2);
            assertThat(event.get("kernel_stack").get(0).asText()).startsWith("schedule+0x");
            assertThat(event.get("user_stack").size()).isPositive();
            assertThat(Instant.parse(event.get("time").asText())).isBetween(Instant.now().minusSeconds(120), Instant.now());
        }
        assertThat(result.stderr()).doesNotContain("blocked in");
    }

    @Test
    void aProcessThatExecsIsNamedWithEachImage(@TempDir Path directory) throws Exception {
        Path output = directory.resolve("events.jsonl");
        // Each image lives 0.3 s after its sleep begins: the reader names a stack from the process's
        // memory map, which an image that has exec'd or exited no longer has, and a loaded machine
        // can keep the reader from its events for tens of milliseconds.
        Guardian.Result result = guardian().run("--report", "--format", "json", "--output", output.toString(), PYTHON, "-c",
                "import os, time; time.sleep(0.3); os.execv('/bin/sleep', ['sleep', '0.3'])");
        assertThat(result.status()).as(result.toString()).isZero();
        ObjectMapper mapper = new ObjectMapper();
        List<JsonNode> events = Files.readAllLines(output).stream().map(line -> {
            try {
                return mapper.readTree(line);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).filter(event -> event.get("syscall").asText().equals("clock_nanosleep")).toList();
        assertThat(events).extracting(event -> event.get("thread").asText()).as(result.toString())
                .containsExactly("python3", "sleep");
        assertThat(events).allSatisfy(event -> assertThat(event.get("user_stack").get(0).asText())
                .startsWith("clock_nanosleep+0x").endsWith(" (libc.so.6)"));
    }

    @Test
    void summarizesAtExitAndWritesFoldedStacks(@TempDir Path directory) throws Exception {
        Path folded = directory.resolve("stacks.folded");
        Guardian.Result result = guardian().run("--report", "--folded", folded.toString(), PYTHON, "-c",
                "import time\nfor _ in range(3): time.sleep(0.1)");
        assertThat(result.status()).as(result.toString()).isZero();
        assertThat(result.stderr()).as(result.toString())
                .contains("summary: 3 blocking sleeps, 0 dropped")
                .contains("by syscall: clock_nanosleep 3")
                .containsPattern("by thread: +python3 \\(tid [0-9]+\\) 3")
                .containsPattern("\\s3  clock_nanosleep <- clock_nanosleep\\+0x");
        // flamegraph.pl's input: frames root first, separated by ';', then a space and the count.
        assertThat(Files.readAllLines(folded)).singleElement().asString()
                .startsWith("python3;")
                .contains(";clock_nanosleep_(libc.so.6);")
                .endsWith(";schedule 3");
    }

    @Test
    void forwardsTerminationToCommandAndExitsWithItsStatus() throws Exception {
        try (Guardian.Running running = guardian().start("--report", PYTHON, "-c",
                "import asyncio; asyncio.run(asyncio.sleep(30))")) {
            long python = awaitChild(running.pid(), "python3");
            Linux.kill((int) running.pid(), 15); // SIGTERM to the guardian, as a supervisor would send it
            Guardian.Result result = running.result();
            assertThat(result.status()).as("killed by the forwarded SIGTERM: " + result).isEqualTo(128 + 15);
            assertThat(ProcessHandle.of(python)).isEmpty();
            assertThat(result.stderr()).contains("summary: 0 blocking sleeps");
        }
    }

    /**
     * The pid of {@code parent}'s child once it runs {@code name}, i.e. once it has exec'd
     * COMMAND. A JVM starts children from whichever thread asks, so every thread's list counts.
     */
    private static long awaitChild(long parent, String name) throws Exception {
        for (int attempt = 0; attempt < 300; attempt++) {
            StringBuilder children = new StringBuilder();
            try (var tasks = Files.list(Path.of("/proc", Long.toString(parent), "task"))) {
                for (Path task : tasks.toList()) {
                    try {
                        children.append(' ').append(Files.readString(task.resolve("children")));
                    } catch (java.nio.file.NoSuchFileException ended) {
                        // a short-lived JVM thread ended since the listing
                    }
                }
            }
            for (String child : children.toString().trim().split("\\s+")) {
                if (!child.isEmpty()) {
                    Path comm = Path.of("/proc", child, "comm");
                    if (Files.exists(comm) && Files.readString(comm).strip().equals(name)) {
                        return Long.parseLong(child);
                    }
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no child named " + name + " under " + parent);
    }

    @Test
    void threadsGlobActsOnlyForMatchingThreadsOfAMultiThreadedProgram() {
        // Three threads name themselves (prctl PR_SET_NAME) and each sleeps once; only loop-* count.
        String program = String.join("\n",
                "import ctypes, threading, time",
                "libc = ctypes.CDLL(None)",
                "def run(name):",
                "    libc.prctl(15, name.encode(), 0, 0, 0)",
                "    time.sleep(0.1)",
                "threads = [threading.Thread(target=run, args=(n,)) for n in ('loop-1', 'loop-2', 'worker-1')]",
                "[t.start() for t in threads]",
                "[t.join() for t in threads]");
        Guardian.Result result = guardian().run("--report", "--all-threads", "--threads", "loop-*", PYTHON, "-c", program);
        assertThat(result.status()).as(result.toString()).isZero();
        assertThat(result.stderr()).as(result.toString())
                .contains("(loop-1) blocked in clock_nanosleep", "(loop-2) blocked in clock_nanosleep")
                .doesNotContain("(worker-1) blocked", "(python3) blocked")
                .contains("summary: 2 blocking sleeps");
    }

    @Test
    void eachSleepIsReportedWithHowLongItLasted() {
        Guardian.Result result = guardian().run("--report", PYTHON, "-c", "import time; time.sleep(0.1); time.sleep(0.01)");
        assertThat(result.status()).as(result.toString()).isZero();
        assertThat(result.stderr()).as(result.toString()).containsPattern("blocked in clock_nanosleep\\(.*\\) \\[S\\] for 1\\d\\d ms\n");
    }

    @Test
    void threadsGlobWorksOnJvmThreadsByTheirLongJavaNames() {
        // The kernel knows vert.x-eventloop-thread-0 as vert.x-eventloo: the glob is cut to match.
        List<String> arguments = new java.util.ArrayList<>(List.of("--report", "--all-threads", "--threads",
                "vert.x-eventloop-thread-*"));
        arguments.addAll(dev.eventloopguardian.testing.NamedThreadsProgram.command("vert.x-eventloop-thread-0",
                "vert.x-eventloop-thread-1", "vert.x-worker-thread-0"));
        Guardian.Result result = guardian().run(arguments.toArray(String[]::new));
        assertThat(result.status()).as(result.toString()).isZero();
        assertThat(result.stdout()).isEqualTo("done\n");
        assertThat(result.stderr()).as(result.toString())
                .containsPattern("by thread: +vert.x-eventloo \\(tid [0-9]+\\) 1, vert.x-eventloo \\(tid [0-9]+\\) 1\n")
                .contains("(vert.x-eventloo) blocked in read(")
                .doesNotContain("(vert.x-worker-) blocked")
                .contains("summary: 2 blocking sleeps");
    }

    @Test
    void minDurationDropsShortSleepsAndKeepsLongOnes() {
        // The last sleep is too short to report, but its switch-out ends the long one, whose wake-up follows.
        Guardian.Result result = guardian().run("--report", "--min-duration", "200ms", PYTHON, "-c",
                "import time; time.sleep(0.02); time.sleep(0.02); time.sleep(0.5); time.sleep(0.001)");
        assertThat(result.status()).as(result.toString()).isZero();
        assertThat(result.stderr().split("blocked in clock_nanosleep", -1)).as(result.toString()).hasSize(2);
        assertThat(result.stderr()).contains("summary: 1 blocking sleep,")
                .containsPattern("\\[S\\] still asleep\n")
                .containsPattern("\\(python3\\) woke from clock_nanosleep after 5\\d\\d ms\n");
    }

    @Test
    void aSleepThatOutlastsMinDurationIsReportedWhileItStillSleeps(@TempDir Path directory) throws Exception {
        Path output = directory.resolve("events.txt");
        try (Guardian.Running running = guardian().start("--report", "--min-duration", "100ms", "--output", output.toString(),
                PYTHON, "-c", "import time; time.sleep(4)")) {
            long deadline = System.nanoTime() + 3_000_000_000L;
            while (System.nanoTime() < deadline && !(Files.exists(output) && Files.readString(output).contains("blocked in"))) {
                Thread.sleep(20);
            }
            assertThat(running.endsWithin(java.time.Duration.ZERO)).as("still sleeping").isFalse();
            assertThat(Files.readString(output)).contains("blocked in clock_nanosleep", "still asleep");
            assertThat(running.result().status()).isZero();
        }
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
