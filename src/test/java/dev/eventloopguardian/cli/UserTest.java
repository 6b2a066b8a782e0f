package dev.eventloopguardian.cli;

import dev.eventloopguardian.testing.Guardian;
import dev.eventloopguardian.testing.KernelTest;
import dev.eventloopguardian.testing.Python;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.eventloopguardian.testing.Guardian.guardian;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Who COMMAND runs as: {@code --user} switches to another account and stays guarded (the
 * seed's privilege bug ran it unguarded), and without privileges the tool says what it needs.
 */
@KernelTest
class UserTest {
    private static final int SIGABRT = 6;
    private static final int USAGE = 64;
    private static final int PERMISSION = 77;
    private static final int NOBODY = 65534;

    @Test
    void userRunsCommandAsThatUser() {
        Guardian.Result result = guardian().run("--user", "nobody", "id", "-u");
        assertThat(result.status()).as(result.toString()).isZero();
        assertThat(result.stdout()).as(result.toString()).isEqualTo(NOBODY + "\n");
    }

    private static final Pattern ID = Pattern.compile("^uid=(\\d+)\\S* gid=(\\d+)\\S* groups=(.*)$");

    @Test
    void userByNumberTakesThatUsersGroupsAndDropsOurs() {
        Guardian.Result result = guardian().run("--user", Integer.toString(NOBODY), "id");
        assertThat(result.status()).as(result.toString()).isZero();
        Matcher id = ID.matcher(result.stdout().strip());
        assertThat(id.matches()).as(result.toString()).isTrue();
        assertThat(id.group(1)).as(result.toString()).isEqualTo(Integer.toString(NOBODY));
        assertThat(id.group(2)).as(result.toString()).isNotEqualTo("0");
        // root's supplementary groups must not come along
        assertThat(id.group(3)).as(result.toString()).doesNotContainPattern("(^|,)0\\(");
    }

    @Test
    void commandRunAsAnotherUserIsStillGuarded() {
        Guardian.Result result = guardian().noCoreDump().run("--user", "nobody", pythonEveryoneCanRun(), "-c",
                "import time; time.sleep(0.1); print('slept')");
        assertThat(result.killedBy(SIGABRT)).as(result.toString()).isTrue();
        assertThat(result.stdout()).as(result.toString()).isEmpty();
    }

    @Test
    void reportModeRunsCommandAsTheUserStillGuardedWithTheUsersEnvironment() {
        Guardian.Result result = guardian().run("--report", "--user", "nobody", pythonEveryoneCanRun(), "-c",
                "import os, time; time.sleep(0.1); print(os.getuid(), os.getgid(), os.getgroups(), os.environ['USER'])");
        assertThat(result.status()).as(result.toString()).isZero();
        assertThat(result.stdout()).as(result.toString()).startsWith(NOBODY + " ").endsWith(" nobody\n")
                .doesNotContain("[0", ", 0,", " 0]");
        assertThat(result.stderr()).as(result.toString()).contains("blocked in clock_nanosleep").contains("summary: 1 blocking sleep");
    }

    @Test
    void reportModeRefusesAFileTheUserMayRunButNotReadBeforeAnythingRuns(@TempDir Path scratch) throws Exception {
        // The kernel would make COMMAND undumpable at exec and detach the guard: checked as nobody, not as root.
        Path marker = scratch.resolve("ran");
        Path script = scratch.resolve("secret.sh");
        Files.writeString(script, "#!/bin/sh\ntouch " + marker + "\n");
        Files.setPosixFilePermissions(scratch, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.setPosixFilePermissions(script, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
        Guardian.Result result = guardian().run("--report", "--user", "nobody", script.toString());
        assertThat(result.status()).as(result.toString()).isEqualTo(75);
        assertThat(result.stderr()).as(result.toString()).contains("may execute it but not read it");
        assertThat(marker).as("COMMAND must not run").doesNotExist();
    }

    @Test
    void unknownUserIsAUsageError() {
        Guardian.Result result = guardian().run("--user", "no-such-user", "true");
        assertThat(result.status()).as(result.toString()).isEqualTo(USAGE);
        assertThat(result.stderr()).as(result.toString()).contains("no-such-user");
    }

    @Test
    void withoutCapabilitiesTheToolSaysWhichItNeeds(@TempDir Path scratch) {
        Guardian.Result result = guardian().withoutPrivileges(scratch).run("echo", "ran");
        assertThat(result.status()).as(result.toString()).isEqualTo(PERMISSION);
        assertThat(result.stderr()).as(result.toString()).contains("CAP_BPF").contains("CAP_PERFMON");
        assertThat(result.stdout()).as("COMMAND must not run: " + result).doesNotContain("ran");
    }

    @Test
    void userNeedsRoot(@TempDir Path scratch) {
        Guardian.Result result = guardian().withoutPrivileges(scratch).run("--user", "root", "echo", "ran");
        assertThat(result.status()).as(result.toString()).isEqualTo(USAGE);
        assertThat(result.stderr()).as(result.toString()).contains("--user root").contains("root");
        assertThat(result.stdout()).as("COMMAND must not run: " + result).doesNotContain("ran");
    }

    /**
     * The system's python3, which nobody may read and run; {@link Python#executable()} can be
     * a pyenv build under root's home, which nobody cannot reach.
     */
    private static String pythonEveryoneCanRun() {
        for (String candidate : new String[] {"/usr/bin/python3", "/usr/local/bin/python3"}) {
            Path path = Path.of(candidate);
            if (Files.isExecutable(path)) {
                return candidate;
            }
        }
        return Python.executable();
    }
}
