package dev.eventloopguardian.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.eventloopguardian.sys.Linux;
import dev.eventloopguardian.testing.Guardian;
import dev.eventloopguardian.testing.KernelTest;
import dev.eventloopguardian.testing.NamedThreadsProgram;
import dev.eventloopguardian.testing.Python;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.eventloopguardian.testing.Guardian.guardian;
import static org.assertj.core.api.Assertions.assertThat;

/** {@code attach --pid}: a process that is already running is reported on, then left running. */
@KernelTest
class AttachTest {
    private static final int SIGINT = 2;
    private static final Duration ATTACHED = Duration.ofSeconds(30);

    /**
     * A Python process driven by stdin: {@code sleep} sleeps 50 ms on the main thread, {@code
     * thread NAME} starts a thread that names itself and sleeps 50 ms, {@code quit} exits 0. It
     * answers each line with the native id of the thread that did it.
     */
    private static final String TARGET = String.join("\n",
            "import ctypes, sys, threading, time",
            "libc = ctypes.CDLL(None)",
            "def named(name, done):",
            "    libc.prctl(15, name.encode(), 0, 0, 0)",
            "    time.sleep(0.05)",
            "    done.append(threading.get_native_id())",
            "for line in sys.stdin:",
            "    words = line.split()",
            "    if words[0] == 'sleep':",
            "        time.sleep(0.05)",
            "        print(threading.get_native_id(), flush=True)",
            "    elif words[0] == 'thread':",
            "        done = []",
            "        t = threading.Thread(target=named, args=(words[1], done)); t.start(); t.join()",
            "        print(done[0], flush=True)",
            "    elif words[0] == 'quit':",
            "        sys.exit(0)");

    private final List<Process> targets = new ArrayList<>();

    @AfterEach
    void stopTargets() {
        targets.forEach(Process::destroyForcibly);
    }

    /** A target process, its stdin and stdout kept for the test to drive it. */
    private record Target(Process process, Writer in, BufferedReader out) {
        /** Sends {@code command} and returns the target's answer. */
        String ask(String command) throws IOException {
            in.write(command + "\n");
            in.flush();
            String answer = out.readLine();
            assertThat(answer).as("the target's answer to " + command).isNotNull();
            return answer;
        }
    }

    private Target start(List<String> command) throws IOException {
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        targets.add(process);
        return new Target(process, new java.io.OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8),
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)));
    }

    @Test
    void reportsTheRunningProcessAndItsNewThreadsThenCtrlCLeavesItRunning(@TempDir Path directory) throws Exception {
        Target target = start(List.of(Python.executable(), "-c", TARGET));
        String mainTid = target.ask("sleep"); // running, before the guardian comes
        Path events = directory.resolve("events.jsonl");
        try (Guardian.Running guardian = guardian().start("attach", "--pid", Long.toString(target.process().pid()),
                "--format", "json", "--output", events.toString())) {
            guardian.awaitStderr("attached to pid " + target.process().pid(), ATTACHED);
            assertThat(target.ask("sleep")).isEqualTo(mainTid);
            String lateTid = target.ask("thread late-1");
            Thread.sleep(300); // the reports reach the guardian
            Linux.kill((int) guardian.pid(), SIGINT); // Ctrl-C
            Guardian.Result result = guardian.result();

            assertThat(result.status()).as(result.toString()).isZero();
            assertThat(result.stderr()).as(result.toString())
                    .contains("SIGINT: detached from pid " + target.process().pid() + ", which runs on")
                    .contains("summary: 2 blocking sleeps, 0 dropped");
            List<JsonNode> reported = readJsonLines(events);
            assertThat(reported).extracting(event -> event.get("tid").asText() + " " + event.get("thread").asText() + " "
                    + event.get("syscall").asText()).as(result.toString())
                    .containsExactly(mainTid + " python3 clock_nanosleep", lateTid + " late-1 clock_nanosleep");
            assertThat(reported.getFirst().get("blocked_ns").asLong()).as("ended by the next sleep's switch-out")
                    .isBetween(50_000_000L, 5_000_000_000L);
            assertThat(reported).allSatisfy(event -> assertThat(event.get("user_stack").size()).isPositive());
        }
        // Detached: the target sleeps unreported, unharmed, and exits with its own status.
        assertThat(target.ask("sleep")).isEqualTo(mainTid);
        assertThat(target.ask("thread after-1")).isNotBlank();
        target.in().write("quit\n");
        target.in().flush();
        assertThat(target.process().waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(target.process().exitValue()).isZero();
    }

    @Test
    void threadsGlobPicksTheEventLoopsOfARunningJvmAndTheGuardianEndsWithIt() throws Exception {
        List<String> command = NamedThreadsProgram.command(NamedThreadsProgram.AWAIT_LINE, "vert.x-eventloop-thread-0",
                "vert.x-eventloop-thread-1", "vert.x-worker-thread-0");
        Target target = start(command);
        assertThat(target.out().readLine()).isEqualTo("ready");
        try (Guardian.Running guardian = guardian().start("attach", "--pid", Long.toString(target.process().pid()),
                "--threads", "vert.x-eventloo*")) {
            guardian.awaitStderr("attached to pid", ATTACHED);
            target.in().write("go\n");
            target.in().flush();
            assertThat(target.out().readLine()).isEqualTo("done");
            Guardian.Result result = guardian.result(); // ends by itself when the target exits
            assertThat(result.status()).as(result.toString()).isZero();
            assertThat(result.stderr()).as(result.toString())
                    .contains("pid " + target.process().pid() + " has exited")
                    .contains("(vert.x-eventloo) blocked in read(")
                    .doesNotContain("(vert.x-worker-) blocked")
                    .contains("summary: 2 blocking sleeps");
        }
        assertThat(target.process().waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(target.process().exitValue()).isZero();
    }

    @Test
    void refusesAProcessThatDoesNotExistOrIsAKernelThread() {
        Guardian.Result missing = guardian().run("attach", "--pid", Integer.toString(unusedPid()));
        assertThat(missing.status()).as(missing.toString()).isEqualTo(ExitCodes.USAGE);
        assertThat(missing.stderr()).contains("no process has pid " + unusedPid());

        Guardian.Result kernel = guardian().run("attach", "--pid", "2"); // kthreadd
        assertThat(kernel.status()).as(kernel.toString()).isEqualTo(ExitCodes.USAGE);
        assertThat(kernel.stderr()).contains("pid 2 is a kernel thread");
    }

    private static int unusedPid() {
        int pid = 4_000_000;
        while (Files.exists(Path.of("/proc", Integer.toString(pid)))) {
            pid--;
        }
        return pid;
    }

    /** The JSON lines of a report written with {@code --format json --output FILE}. */
    static List<JsonNode> readJsonLines(Path file) throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        return Files.readAllLines(file).stream().map(line -> {
            try {
                return mapper.readTree(line);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }).toList();
    }
}
