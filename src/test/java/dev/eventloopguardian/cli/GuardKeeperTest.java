package dev.eventloopguardian.cli;

import dev.eventloopguardian.testing.Guardian;
import dev.eventloopguardian.testing.KernelTest;
import dev.eventloopguardian.testing.Python;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import static dev.eventloopguardian.testing.Guardian.guardian;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * COMMAND cannot shed its guard: daemons close every inherited descriptor at start-up, and the
 * guard's perf event was one of them. Whatever COMMAND closes, it stays guarded for its whole
 * life, and nothing of ours is left once it exits.
 */
@KernelTest
class GuardKeeperTest {
    private static final int SIGABRT = 6;
    private static final String CLOSE_EVERYTHING = "import os, sys, threading, time; os.closerange(3, 65536)\n";

    @Test
    void closingEveryDescriptorDoesNotDropTheGuard() {
        Guardian.Result result = guardian().noCoreDump().run(Python.executable(), "-c",
                CLOSE_EVERYTHING + "time.sleep(0.1); print('slept unguarded')");
        assertThat(result.killedBy(SIGABRT)).as(result.toString()).isTrue();
        assertThat(result.stdout()).as(result.toString()).doesNotContain("slept unguarded");
    }

    @Test
    void threadsCreatedAfterTheCloseAreGuardedWithAllThreads() {
        Guardian.Result result = guardian().noCoreDump().run("--all-threads", Python.executable(), "-c",
                CLOSE_EVERYTHING + "t = threading.Thread(target=lambda: time.sleep(0.1)); t.start(); t.join()\n"
                        + "print('slept unguarded')");
        assertThat(result.killedBy(SIGABRT)).as(result.toString()).isTrue();
        assertThat(result.stdout()).as(result.toString()).doesNotContain("slept unguarded");
    }

    @Test
    void aCommandThatClosesEverythingAndReExecsItselfIsStillGuarded() {
        Guardian.Result result = guardian().noCoreDump().run(Python.executable(), "-c",
                CLOSE_EVERYTHING + "os.execv(sys.executable, [sys.executable, '-c', "
                        + "'import time; time.sleep(0.1); print(\"slept unguarded\")'])");
        assertThat(result.killedBy(SIGABRT)).as(result.toString()).isTrue();
        assertThat(result.stdout()).as(result.toString()).doesNotContain("slept unguarded");
    }

    /**
     * The keeper holds the guard while COMMAND runs, is no child COMMAND could wait for, holds
     * none of COMMAND's stdio (a reader of COMMAND's output must see its end when COMMAND ends),
     * and is gone soon after COMMAND: then nothing holds the perf event, nor the program.
     */
    @Test
    void theKeeperHoldsTheGuardWhileCommandRunsAndLeavesAfterIt() throws Exception {
        try (Guardian.Running running = guardian().start("--allow", "clock_nanosleep", Python.executable(), "-c",
                CLOSE_EVERYTHING + """
                        try:
                            os.waitpid(-1, os.WNOHANG); print('has a child')
                        except ChildProcessError:
                            print('no child')
                        sys.stdout.flush(); time.sleep(2)""")) {
            running.closeStdin();
            String pid = Long.toString(running.pid());
            Optional<Path> keeper = Optional.empty();
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (keeper.isEmpty() && !running.endsWithin(Duration.ofMillis(50)) && System.nanoTime() < deadline) {
                keeper = keeperOf(pid);
            }
            assertThat(keeper).as("a keeper for pid " + pid).isPresent();
            List<String> held = descriptors(keeper.get());
            assertThat(held).as("the keeper's descriptors").contains("anon_inode:[perf_event]");
            assertThat(Files.readSymbolicLink(keeper.get().resolve("cwd"))).as("the keeper keeps no directory busy")
                    .isEqualTo(Path.of("/"));
            assertThat(held).as("the keeper holds no stdio of COMMAND's").allMatch(target ->
                    target.equals("/dev/null") || target.equals("anon_inode:[perf_event]") || target.startsWith("pipe:"));

            Guardian.Result result = running.result();
            assertThat(result.status()).as(result.toString()).isZero();
            assertThat(result.stdout()).as("COMMAND has no child of ours to wait for").contains("no child");

            long gone = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (Files.exists(keeper.get()) && System.nanoTime() < gone) {
                Thread.sleep(50);
            }
            assertThat(keeper.get()).as("the keeper leaves after COMMAND").doesNotExist();
        }
    }

    /** The keeper is a bash: it must not run what the user's environment asks every bash to run. */
    @Test
    void theKeeperRunsNoStartupFileFromTheEnvironment(@org.junit.jupiter.api.io.TempDir Path directory) throws Exception {
        Path ran = directory.resolve("ran");
        Path startup = Files.writeString(directory.resolve("bash_env.sh"), "echo \"$0\" >> " + ran + "\n");
        Guardian.Result result = guardian().env("BASH_ENV", startup.toString())
                .run("--allow", "clock_nanosleep", Python.executable(), "-c", "import time; time.sleep(0.05)");
        assertThat(result.status()).as(result.toString()).isZero();
        assertThat(ran).as("BASH_ENV must not run in the keeper").doesNotExist();
    }

    /** The /proc directory of the keeper of {@code pid}, found by its command line. */
    private static Optional<Path> keeperOf(String pid) throws IOException {
        try (Stream<Path> processes = Files.list(Path.of("/proc"))) {
            return processes.filter(process -> process.getFileName().toString().chars().allMatch(Character::isDigit))
                    .filter(process -> {
                        try {
                            List<String> argv = List.of(new String(Files.readAllBytes(process.resolve("cmdline")),
                                    StandardCharsets.UTF_8).split("\0"));
                            // The shell that launches the keeper has its name too, for a moment,
                            // and COMMAND for its parent; the keeper is that shell's child.
                            return argv.getFirst().equals("eventloop-guardian-keeper") && argv.contains(pid)
                                    && !parentOf(process).equals(pid);
                        } catch (IOException | RuntimeException gone) {
                            return false;
                        }
                    })
                    .findFirst();
        }
    }

    /** Field 4 of /proc/PID/stat, after the ") " that ends the name. */
    private static String parentOf(Path process) throws IOException {
        String stat = Files.readString(process.resolve("stat"));
        return stat.substring(stat.lastIndexOf(')') + 2).split(" ")[1];
    }

    private static List<String> descriptors(Path process) throws IOException {
        try (Stream<Path> fds = Files.list(process.resolve("fd"))) {
            return fds.map(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString();
                } catch (IOException e) {
                    return "?";
                }
            }).toList();
        }
    }
}
