package dev.eventloopguardian.cli;

import dev.eventloopguardian.testing.Guardian;
import dev.eventloopguardian.testing.KernelTest;
import dev.eventloopguardian.testing.Python;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.io.TempDirFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.eventloopguardian.testing.Guardian.guardian;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/** Each option of the guard command, seen from the outside: how COMMAND ends, what is printed. */
@KernelTest
class OptionsTest {
    private static final int SIGABRT = 6;
    private static final int SIGKILL = 9;
    private static final int SIGUSR1 = 10;
    private static final int USAGE = 64;
    private static final String PYTHON = Python.executable();
    /** The syscall Python's asyncio loop sleeps in: glibc's epoll_wait is epoll_pwait where epoll_wait is absent. */
    private static final String EPOLL_WAIT = "aarch64".equals(System.getProperty("os.arch")) ? "epoll_pwait" : "epoll_wait";

    // --signal

    @ParameterizedTest
    @ValueSource(strings = {"USR1", "SIGUSR1", "10"})
    void signalChoosesWhatTheThreadGets(String signal) {
        Guardian.Result result = guardian().run("--signal", signal, "sleep", "1");
        assertThat(result.killedBy(SIGUSR1)).as(result.toString()).isTrue();
    }

    @Test
    void signalKill() {
        Guardian.Result result = guardian().run("--signal", "KILL", "sleep", "1");
        assertThat(result.killedBy(SIGKILL)).as(result.toString()).isTrue();
    }

    // --allow, --disallow, --allow-fd, --no-defaults

    @Test
    void allowedSleepRunsClean() {
        Guardian.Result result = guardian().run("--allow", "nanosleep,clock_nanosleep", "sleep", "0.1");
        assertThat(result.status()).as(result.toString()).isZero();
    }

    @Test
    void allowIsRepeatable() {
        Guardian.Result result = guardian().run("--allow", "nanosleep", "--allow", "clock_nanosleep", "sleep", "0.1");
        assertThat(result.status()).as(result.toString()).isZero();
    }

    @Test
    void byDefaultReadingAnEmptyStdinIsAllowed() {
        CatRun cat = catFromAPipeThatStaysEmpty();
        assertThat(cat.sawItWaiting()).as(cat.result().toString()).isTrue();
        assertThat(cat.result().status()).as(cat.result().toString()).isZero();
        assertThat(cat.result().stdout()).as(cat.result().toString()).isEqualTo("late\n");
    }

    @Test
    void disallowReadStopsAReadOfAnEmptyStdin() {
        CatRun cat = catFromAPipeThatStaysEmpty("--disallow", "read");
        assertThat(cat.result().killedBy(SIGABRT)).as(cat.result().toString()).isTrue();
        assertThat(cat.result().stdout()).as(cat.result().toString()).isEmpty();
    }

    @Test
    void noDefaultsStopsEvenTheStdinRead() {
        CatRun cat = catFromAPipeThatStaysEmpty("--no-defaults");
        assertThat(cat.result().killedBy(SIGABRT)).as(cat.result().toString()).isTrue();
    }

    @Test
    void allowFdAddsAnExemptionToAnEmptyPolicy() {
        CatRun cat = catFromAPipeThatStaysEmpty("--no-defaults", "--allow-fd", "read:0");
        assertThat(cat.sawItWaiting()).as(cat.result().toString()).isTrue();
        assertThat(cat.result().status()).as(cat.result().toString()).isZero();
        assertThat(cat.result().stdout()).as(cat.result().toString()).isEqualTo("late\n");
    }

    @Test
    void allowFdForAnotherFdDoesNotCoverStdin() {
        CatRun cat = catFromAPipeThatStaysEmpty("--no-defaults", "--allow-fd", "read:3");
        assertThat(cat.result().killedBy(SIGABRT)).as(cat.result().toString()).isTrue();
    }

    @Test
    void allowFdWithoutAnFdIsAUsageError() {
        Guardian.Result result = guardian().run("--allow-fd", "read", "true");
        assertThat(result.status()).as(result.toString()).isEqualTo(USAGE);
        assertThat(result.stderr()).as(result.toString()).contains("--allow-fd").contains("SYSCALL:FD").contains("'read'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"read:x", "read:"})
    void allowFdWithABadFdIsAUsageError(String rule) {
        Guardian.Result result = guardian().run("--allow-fd", rule, "true");
        assertThat(result.status()).as(result.toString()).isEqualTo(USAGE);
        assertThat(result.stderr()).as(result.toString()).contains("--allow-fd").contains(rule);
    }

    @Test
    void noDefaultsStopsAnAsyncioLoop() {
        Guardian.Result result = guardian().noCoreDump().run("--no-defaults", PYTHON, "-c",
                "import asyncio; asyncio.run(asyncio.sleep(0.2)); print('done')");
        assertThat(result.killedBy(SIGABRT)).as(result.toString()).isTrue();
        assertThat(result.stdout()).as(result.toString()).isEmpty();
    }

    @Test
    void noDefaultsWithTheLoopsWaitAllowedRunsTheAsyncioLoop() {
        Guardian.Result result = guardian().run("--no-defaults", "--allow", EPOLL_WAIT, PYTHON, "-c",
                "import asyncio; asyncio.run(asyncio.sleep(0.2)); print('done')");
        assertThat(result.status()).as(result.toString()).isZero();
        assertThat(result.stdout()).as(result.toString()).isEqualTo("done\n");
    }

    // --print-policy, --dump-program

    @Test
    void printPolicyListsAllowedSyscallsWithReasonsAndRunsNothing(@TempDir Path directory) {
        Path marker = directory.resolve("ran");
        Guardian.Result result = guardian().run("--print-policy", "--allow", "nanosleep", "touch", marker.toString());
        assertThat(result.status()).as(result.toString()).isZero();
        assertThat(marker).as("COMMAND must not run").doesNotExist();
        String out = result.stdout();
        for (String name : List.of("epoll_pwait", "futex", "io_uring_enter")) {
            // name, its number, then why an event loop may sleep there
            assertThat(out).as(result.toString()).containsPattern("(?m)^\\s+" + name + "\\s+#\\d+\\s+\\S.{10,}$");
        }
        assertThat(out).as(result.toString())
                .containsPattern("(?m)^\\s+nanosleep\\s+#\\d+\\s*$")
                .containsPattern("(?m)^\\s+read\\s+#\\d+\\s+fd 0$")
                .containsPattern("(?m)^\\s+write\\s+#\\d+\\s+fd 1, 2$")
                .contains("SIGABRT");
        assertThat(result.stderr()).as(result.toString()).isEmpty();
    }

    private static final Pattern INSTRUCTION_COUNT = Pattern.compile("\\A; (\\d+) instructions for this policy\\n");

    @Test
    void dumpProgramPrintsTheListing(@TempDir Path directory) {
        Path marker = directory.resolve("ran");
        Guardian.Result result = guardian().run("--dump-program", "touch", marker.toString());
        assertThat(result.status()).as(result.toString()).isZero();
        assertThat(marker).as("COMMAND must not run").doesNotExist();
        assertThat(result.stdout()).as(result.toString())
                .containsPattern(INSTRUCTION_COUNT)
                .contains("call bpf_send_signal_thread");
        // Lines are numbered by instruction slot; the last one (an exit or a jump) is slot count - 1.
        int lastSlot = result.stdout().lines().filter(line -> line.matches("\\s*\\d+: .*"))
                .mapToInt(line -> Integer.parseInt(line.strip().substring(0, line.strip().indexOf(':'))))
                .max().orElse(-1);
        assertThat(lastSlot + 1).as(result.toString()).isEqualTo(instructions(result));
    }

    @Test
    void dumpProgramWithNoDefaultsIsShorter() {
        Guardian.Result defaults = guardian().run("--dump-program");
        Guardian.Result empty = guardian().run("--no-defaults", "--dump-program");
        assertThat(empty.status()).as(empty.toString()).isZero();
        assertThat(instructions(empty)).as(defaults + "\n" + empty).isLessThan(instructions(defaults));
        assertThat(empty.stdout()).as(empty.toString()).contains("call bpf_send_signal_thread");
    }

    @Test
    void dumpProgramShowsTheChosenSignal() {
        Guardian.Result result = guardian().run("--signal", "USR1", "--dump-program");
        assertThat(result.status()).as(result.toString()).isZero();
        assertThat(result.stdout()).as(result.toString()).contains("SIGUSR1").doesNotContain("SIGABRT");
    }

    private static int instructions(Guardian.Result result) {
        Matcher m = INSTRUCTION_COUNT.matcher(result.stdout());
        assertThat(m.find()).as("first line states the instruction count:\n" + result).isTrue();
        return Integer.parseInt(m.group(1));
    }

    // where our options end

    @Test
    void doubleDashRunsAProgramNamedLikeASubcommand(@TempDir Path directory) throws IOException {
        Path check = Files.copy(Path.of("/bin/echo"), directory.resolve("check"));
        Files.setPosixFilePermissions(check, PosixFilePermissions.fromString("rwxr-xr-x"));
        Guardian.Result result = guardian().env("PATH", directory + ":" + System.getenv("PATH"))
                .run("--", "check", "not the check command");
        assertThat(result.status()).as(result.toString()).isZero();
        assertThat(result.stdout()).as(result.toString()).isEqualTo("not the check command\n");
    }

    @Test
    void theFirstPositionalEndsOurOptions() {
        Guardian.Result result = guardian().run(PYTHON, "-c", "import sys; print(sys.argv[1:])",
                "--signal", "KILL", "--print-policy", "--");
        assertThat(result.status()).as(result.toString()).isZero();
        assertThat(result.stdout()).as(result.toString()).isEqualTo("['--signal', 'KILL', '--print-policy', '--']\n");
    }

    @Test
    void anUnknownOptionBeforeCommandIsAUsageError(@TempDir Path directory) {
        Path marker = directory.resolve("ran");
        Guardian.Result result = guardian().run("--no-such-option", "touch", marker.toString());
        assertThat(result.status()).as(result.toString()).isEqualTo(USAGE);
        assertThat(result.stderr()).as(result.toString()).contains("--no-such-option");
        assertThat(marker).as("COMMAND must not run").doesNotExist();
    }

    @Test
    void helpExitsZeroAndExplainsExitCodes() {
        Guardian.Result result = guardian().run("--help");
        assertThat(result.status()).as(result.toString()).isZero();
        assertThat(result.stdout()).as(result.toString())
                .contains("Exit status")
                .containsPattern("(?m)^\\s*64\\s+bad usage")
                .containsPattern("(?m)^\\s*75\\s+COMMAND would run unguarded")
                .containsPattern("(?m)^\\s*77\\s+missing privileges")
                .containsPattern("(?m)^\\s*126\\s+COMMAND cannot be executed")
                .contains("127  COMMAND not found");
    }

    // --include-uninterruptible

    /**
     * Reads 2 MiB with O_DIRECT from a file on a real disk: each read waits for the device in
     * state D (uninterruptible) inside read(2), on an fd above 2 so no fd exemption applies.
     * "reading" is printed once the interpreter is up and the file open: a thread stopped
     * after that was stopped in the read loop. (dd is no good here: it reopens if= as its
     * fd 0, which read:0 exempts.)
     */
    private static final String DIRECT_READ = """
            import mmap, os, sys
            fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECT)
            assert fd > 2
            buffer = mmap.mmap(-1, 1 << 19)
            print("reading", flush=True)
            total = 0
            while n := os.readv(fd, [buffer]):
                total += n
            print("read", total)
            """;
    private static final int FILE_SIZE = 2 << 20;

    /** Where the tool was built: a directory on disk. A tmpfs temp directory has no disk to wait for. */
    static final class OnDisk implements TempDirFactory {
        @Override
        public Path createTempDirectory(org.junit.jupiter.api.extension.AnnotatedElementContext element,
                                        ExtensionContext context) throws IOException {
            Path classes = Path.of(System.getProperty("eventloop.guardian.classes", "target/classes"));
            return Files.createTempDirectory(classes.toAbsolutePath().getParent(), "direct-io");
        }
    }

    @Test
    void includeUninterruptibleStopsADiskWait(@TempDir(factory = OnDisk.class) Path directory) throws Exception {
        Path data = fileOnDisk(directory);
        warmUpInterpreter();
        Guardian.Result result = guardian().noCoreDump()
                .run("--include-uninterruptible", PYTHON, "-c", DIRECT_READ, data.toString());
        assertThat(result.killedBy(SIGABRT)).as(result.toString()).isTrue();
        assertThat(result.stdout()).as("stopped in the read loop: " + result).isEqualTo("reading\n");
    }

    @Test
    void byDefaultADiskWaitIsNotCounted(@TempDir(factory = OnDisk.class) Path directory) throws IOException {
        Path data = fileOnDisk(directory);
        Guardian.Result result = guardian().run(PYTHON, "-c", DIRECT_READ, data.toString());
        assertThat(result.status()).as(result.toString()).isZero();
        assertThat(result.stdout()).as(result.toString()).isEqualTo("reading\nread " + FILE_SIZE + "\n");
    }

    /**
     * Runs the interpreter once unguarded with the same imports, so that its own files are in the
     * page cache: a start-up read from the disk (this VM reclaims cold pages proactively, kdamond)
     * would be a D sleep before "reading", and stop it there.
     */
    private static void warmUpInterpreter() throws Exception {
        Process warm = new ProcessBuilder(PYTHON, "-c", "import mmap, os, sys").inheritIO().start();
        assertThat(warm.waitFor()).isZero();
    }

    private static Path fileOnDisk(Path directory) throws IOException {
        assumeThat(Files.getFileStore(directory).type()).as("O_DIRECT reads need a real disk; the build directory "
                + directory + " is on tmpfs").isNotEqualTo("tmpfs");
        Path data = directory.resolve("data");
        byte[] bytes = new byte[FILE_SIZE];
        new Random(42).nextBytes(bytes);
        try (FileChannel channel = FileChannel.open(data, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(bytes));
            channel.force(true); // on the disk, so that a direct read must go to the device
        }
        return data;
    }

    // cat reading a pipe that stays empty

    private record CatRun(Guardian.Result result, boolean sawItWaiting) {
    }

    /**
     * Runs {@code cat} guarded with {@code options}, its stdin an open pipe with nothing in it.
     * Once cat is seen asleep in {@code read(0, ...)} (or has died), it gets a line and EOF.
     */
    private static CatRun catFromAPipeThatStaysEmpty(String... options) {
        List<String> arguments = new ArrayList<>(List.of(options));
        arguments.add("cat");
        try (Guardian.Running cat = guardian().noCoreDump().start(arguments.toArray(String[]::new))) {
            boolean waiting = false;
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!waiting && System.nanoTime() < deadline && !cat.endsWithin(Duration.ofMillis(10))) {
                waiting = sleepsReadingStdin(cat.pid());
            }
            cat.write("late\n");
            cat.closeStdin();
            return new CatRun(cat.result(), waiting);
        }
    }

    /** Whether process {@code pid} is cat, asleep in read(2) on fd 0 ({@code /proc/PID/syscall}: "0 0x0 ..."). */
    private static boolean sleepsReadingStdin(long pid) {
        try {
            String comm = Files.readString(Path.of("/proc/" + pid + "/comm")).strip();
            String syscall = Files.readString(Path.of("/proc/" + pid + "/syscall"));
            String[] words = syscall.split(" ");
            return comm.equals("cat") && words.length > 2 && words[0].equals(readNumber()) && words[1].equals("0x0");
        } catch (IOException gone) {
            return false;
        }
    }

    private static String readNumber() {
        return "aarch64".equals(System.getProperty("os.arch")) ? "63" : "0";
    }
}
