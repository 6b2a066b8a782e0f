package dev.eventloopguardian.cli;

import dev.eventloopguardian.sys.Linux;
import dev.eventloopguardian.testing.Guardian;
import dev.eventloopguardian.testing.KernelTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static dev.eventloopguardian.testing.Guardian.guardian;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Everything that stops the tool before COMMAND runs, with the exit status the help promises
 * and a message that says what to do. COMMAND must never start in these cases, least of all
 * unguarded.
 */
@KernelTest
class ErrorsTest {
    private static final int USAGE = 64;
    private static final int UNGUARDABLE = 75;
    private static final int NOT_EXECUTABLE = 126;
    private static final int NOT_FOUND = 127;

    @Test
    void noCommandIsAUsageError() {
        Guardian.Result result = guardian().run();
        assertThat(result.status()).as(result.toString()).isEqualTo(USAGE);
        assertThat(result.stderr()).as(result.toString()).contains("COMMAND").contains("--help");
    }

    @Test
    void missingKernelBtfNamesTheKernelFeatureAndRunsNothing(@TempDir Path directory) {
        Path marker = directory.resolve("ran");
        Guardian.Result result = guardian().run("--btf", directory.resolve("no-vmlinux").toString(), "touch", marker.toString());
        assertThat(result.status()).as(result.toString()).isEqualTo(69);
        assertThat(result.stderr()).as(result.toString()).contains("CONFIG_DEBUG_INFO_BTF");
        assertThat(marker).as("COMMAND must not run").doesNotExist();
    }

    @Test
    void optionsButNoCommandIsAUsageError() {
        Guardian.Result result = guardian().run("--allow", "nanosleep", "--signal", "USR1");
        assertThat(result.status()).as(result.toString()).isEqualTo(USAGE);
        assertThat(result.stderr()).as(result.toString()).contains("COMMAND");
    }

    @Test
    void unknownSyscallIsAUsageErrorWithSuggestions(@TempDir Path directory) {
        Path marker = directory.resolve("ran");
        Guardian.Result result = guardian().run("--allow", "epol_wait", "touch", marker.toString());
        assertThat(result.status()).as(result.toString()).isEqualTo(USAGE);
        assertThat(result.stderr()).as(result.toString())
                .contains("epol_wait")
                .containsIgnoringCase("did you mean")
                .contains("epoll_wait");
        assertThat(marker).as("COMMAND must not run").doesNotExist();
    }

    /** A typo in --disallow must not leave the syscall the user meant allowed, in silence. */
    @Test
    void unknownSyscallInDisallowIsAUsageError() {
        Guardian.Result result = guardian().run("--disallow", "epol_wait", "true");
        assertThat(result.status()).as(result.toString()).isEqualTo(USAGE);
        assertThat(result.stderr()).as(result.toString()).contains("epol_wait").contains("epoll_wait");
    }

    @Test
    void unknownSignalIsAUsageError(@TempDir Path directory) {
        Path marker = directory.resolve("ran");
        Guardian.Result result = guardian().run("--signal", "SIGNOPE", "touch", marker.toString());
        assertThat(result.status()).as(result.toString()).isEqualTo(USAGE);
        assertThat(result.stderr()).as(result.toString()).contains("SIGNOPE");
        assertThat(marker).as("COMMAND must not run").doesNotExist();
    }

    @Test
    void signalNumberOutOfRangeIsAUsageError() {
        Guardian.Result result = guardian().run("--signal", "65", "true");
        assertThat(result.status()).as(result.toString()).isEqualTo(USAGE);
        assertThat(result.stderr()).as(result.toString()).contains("65");
    }

    @Test
    void threadPatternWithGlobSyntaxWeDoNotImplementIsAUsageError(@TempDir Path directory) {
        Path marker = directory.resolve("ran");
        Guardian.Result result = guardian().run("--all-threads", "--threads", "python[3]", "touch", marker.toString());
        assertRefusedAsUsage(result, marker, "--threads", "python[3]", "'vert.x-eventloo*'");
    }

    /** Past ~9.2e9 s the minimum overflowed and turned the filter around. */
    @Test
    void minDurationPastADayIsAUsageError(@TempDir Path directory) {
        Path marker = directory.resolve("ran");
        Guardian.Result result = guardian().run("--report", "--min-duration", "999999999999999999999s", "touch",
                marker.toString());
        assertRefusedAsUsage(result, marker, "999999999999999999999s", "from 0 to 24h");
    }

    /** uid_t is unsigned 32-bit, and 4294967295 is (uid_t) -1: none of these is a uid. */
    @ParameterizedTest
    @ValueSource(strings = {"4294967295", "99999999999", "99999999999999999999999999"})
    void uidOutOfRangeIsAUsageError(String uid, @TempDir Path directory) {
        Path marker = directory.resolve("ran");
        Guardian.Result result = guardian().run("--user", uid, "touch", marker.toString());
        assertRefusedAsUsage(result, marker, "--user " + uid, "4294967294");
    }

    @Test
    void uidWithoutAUserIsAUsageErrorThatSaysHowToCreateOne(@TempDir Path directory) {
        long uid = 3_999_999_999L;
        assertThat(Linux.accountById(uid)).as("a user with uid " + uid + " exists on this machine").isEmpty();
        Path marker = directory.resolve("ran");
        Guardian.Result result = guardian().run("--user", Long.toString(uid), "touch", marker.toString());
        assertRefusedAsUsage(result, marker, "no user has uid " + uid, "useradd -u " + uid);
    }

    /** Status 64, one line that names the problem (and the usual pointer to --help), and COMMAND never ran. */
    private static void assertRefusedAsUsage(Guardian.Result result, Path marker, String... mentions) {
        assertThat(result.status()).as(result.toString()).isEqualTo(USAGE);
        assertThat(result.stderr().lines()).as(result.toString()).hasSize(2);
        assertThat(result.stderr().lines().findFirst().orElseThrow()).as(result.toString()).contains(mentions);
        assertThat(result.stderr()).as(result.toString()).endsWith("Try 'eventloop-guardian --help'.\n");
        assertThat(marker).as("COMMAND must not run").doesNotExist();
    }

    @Test
    void commandNotFound() {
        Guardian.Result result = guardian().run("eventloop-guardian-no-such-command");
        assertThat(result.status()).as(result.toString()).isEqualTo(NOT_FOUND);
        assertThat(result.stderr()).as(result.toString()).contains("eventloop-guardian-no-such-command");
    }

    @Test
    void pathThatDoesNotExist(@TempDir Path directory) {
        Guardian.Result result = guardian().run(directory.resolve("missing").toString());
        assertThat(result.status()).as(result.toString()).isEqualTo(NOT_FOUND);
    }

    @Test
    void fileWithoutExecutePermission(@TempDir Path directory) throws IOException {
        Path marker = directory.resolve("ran");
        Path script = Files.writeString(directory.resolve("script"), "#!/bin/sh\ntouch " + marker + "\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rw-r--r--"));
        Guardian.Result result = guardian().run(script.toString());
        assertThat(result.status()).as(result.toString()).isEqualTo(NOT_EXECUTABLE);
        assertThat(result.stderr()).as(result.toString()).contains(script.toString()).containsIgnoringCase("permission");
        assertThat(marker).as("COMMAND must not run").doesNotExist();
    }

    @Test
    void directory(@TempDir Path directory) {
        Guardian.Result result = guardian().run(directory.toString());
        assertThat(result.status()).as(result.toString()).isEqualTo(NOT_EXECUTABLE);
        assertThat(result.stderr()).as(result.toString()).contains("directory");
    }

    /** An executable file that is neither a binary nor a script with #!: shells say 126. */
    @Test
    void fileThatIsNotAProgram(@TempDir Path directory) throws IOException {
        Path marker = directory.resolve("ran");
        Path file = Files.writeString(directory.resolve("not-a-program"), "touch " + marker + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
        Guardian.Result result = guardian().run(file.toString());
        assertThat(result.status()).as(result.toString()).isEqualTo(NOT_EXECUTABLE);
        assertThat(result.stderr()).as(result.toString()).contains(file.toString());
        assertThat(marker).as("COMMAND must not run").doesNotExist();
    }

    /** A script whose interpreter does not exist cannot run (bash says 127, dash 126); nothing is unguarded. */
    @Test
    void scriptWithAMissingInterpreter(@TempDir Path directory) throws IOException {
        Path script = Files.writeString(directory.resolve("script"), "#!/nonexistent/interpreter\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        Guardian.Result result = guardian().run(script.toString());
        assertThat(result.status()).as(result.toString()).isIn(NOT_EXECUTABLE, NOT_FOUND);
        assertThat(result.stderr()).as(result.toString()).contains("/nonexistent/interpreter");
    }

    /** Root may run a mode 0700 file; the --user it runs as may not: that is 126, not "unguarded". */
    @Test
    void commandTheUserMayNotExecute(@TempDir Path directory) throws IOException {
        Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path marker = directory.resolve("ran");
        Path touch = Files.copy(Path.of("/usr/bin/touch"), directory.resolve("touch"));
        Files.setPosixFilePermissions(touch, PosixFilePermissions.fromString("rwx------"));
        Guardian.Result result = guardian().run("--user", "nobody", touch.toString(), marker.toString());
        assertThat(result.status()).as(result.toString()).isEqualTo(NOT_EXECUTABLE);
        assertThat(result.stderr()).as(result.toString()).contains(touch.toString()).containsIgnoringCase("permission");
        assertThat(marker).as("COMMAND must not run").doesNotExist();
    }

    @Test
    void setUserIdCommandIsRefusedNotRunUnguarded(@TempDir Path directory) throws IOException {
        Path marker = directory.resolve("ran");
        Path touch = specialCopyOfTouch(directory, 04755);
        Guardian.Result result = guardian().run(touch.toString(), marker.toString());
        assertThat(result.status()).as(result.toString()).isEqualTo(UNGUARDABLE);
        assertThat(result.stderr()).as(result.toString()).contains("set-user-ID").contains("unguarded");
        assertThat(marker).as("COMMAND must not run").doesNotExist();
    }

    @Test
    void setGroupIdCommandIsRefusedNotRunUnguarded(@TempDir Path directory) throws IOException {
        Path marker = directory.resolve("ran");
        Path touch = specialCopyOfTouch(directory, 02755);
        Guardian.Result result = guardian().run(touch.toString(), marker.toString());
        assertThat(result.status()).as(result.toString()).isEqualTo(UNGUARDABLE);
        assertThat(result.stderr()).as(result.toString()).contains("set-group-ID").contains("unguarded");
        assertThat(marker).as("COMMAND must not run").doesNotExist();
    }

    /**
     * A binary its user may execute but not read is exec'd non-dumpable, which tears the guard
     * down: as nobody, a mode 0711 copy of touch must be refused.
     */
    @Test
    void commandTheUserCannotReadIsRefusedNotRunUnguarded(@TempDir Path directory) throws IOException {
        Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path marker = directory.resolve("ran");
        Path touch = Files.copy(Path.of("/usr/bin/touch"), directory.resolve("touch"));
        Files.setPosixFilePermissions(touch, PosixFilePermissions.fromString("rwx--x--x"));
        Guardian.Result result = guardian().run("--user", "nobody", touch.toString(), marker.toString());
        assertThat(result.status()).as(result.toString()).isEqualTo(UNGUARDABLE);
        assertThat(result.stderr()).as(result.toString()).contains("read").contains("unguarded");
        assertThat(marker).as("COMMAND must not run").doesNotExist();
    }

    /**
     * A copy of touch owned by nobody:nogroup with {@code mode}, in {@code directory} made
     * writable by all, so that the marker would appear if the copy ran as nobody.
     */
    private static Path specialCopyOfTouch(Path directory, int mode) throws IOException {
        Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path touch = Files.copy(Path.of("/usr/bin/touch"), directory.resolve("touch"));
        Files.setAttribute(touch, "unix:uid", 65534);
        Files.setAttribute(touch, "unix:gid", 65534);
        // chown clears the special bits: set the mode after it
        Files.setAttribute(touch, "unix:mode", mode);
        assertThat((int) Files.getAttribute(touch, "unix:mode") & 07777).as("mode of " + touch).isEqualTo(mode);
        return touch;
    }
}
