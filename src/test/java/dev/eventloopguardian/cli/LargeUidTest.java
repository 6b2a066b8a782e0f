package dev.eventloopguardian.cli;

import dev.eventloopguardian.testing.Guardian;
import dev.eventloopguardian.testing.KernelTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.eventloopguardian.testing.Guardian.guardian;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code --user} with ids past 2^31, which a Java int holds as negative numbers: uid_t and gid_t
 * are unsigned, and COMMAND must run as the very user and group asked for, in both modes. The
 * user is created for this test and deleted after it; useradd comes with Debian's passwd package
 * (.ci/run installs it), and without it this test fails rather than skips.
 */
@KernelTest
class LargeUidTest {
    private static final String NAME = "elg-test-high-uid";
    private static final long UID = 2_147_483_648L; // 2^31: Integer.MIN_VALUE as a Java int
    private static final long GID = 4_000_000_000L;
    private static final Pattern ID = Pattern.compile("^uid=(\\d+)\\S* gid=(\\d+)\\S* .*$");

    @BeforeAll
    static void createUser() {
        deleteUser(); // what an interrupted earlier run may have left
        system("groupadd", "-g", Long.toString(GID), NAME);
        system("useradd", "--no-create-home", "-u", Long.toString(UID), "-g", Long.toString(GID), "-s", "/usr/sbin/nologin",
                NAME);
    }

    @AfterAll
    static void deleteUser() {
        if (exists("passwd")) {
            system("userdel", NAME);
        }
        if (exists("group")) {
            system("groupdel", NAME);
        }
    }

    @Test
    void commandRunsAsAUserWhoseUidIsPastTwoToThe31() {
        Guardian.Result result = guardian().run("--user", Long.toString(UID), "id");
        assertThat(result.status()).as(result.toString()).isZero();
        assertRanAsTheUser(result);
    }

    @Test
    void reportModeRunsCommandAsAUserWhoseUidIsPastTwoToThe31() {
        Guardian.Result result = guardian().run("--report", "--user", Long.toString(UID), "id");
        assertThat(result.status()).as(result.toString()).isZero();
        assertRanAsTheUser(result);
    }

    private static void assertRanAsTheUser(Guardian.Result result) {
        Matcher id = ID.matcher(result.stdout().strip());
        assertThat(id.matches()).as(result.toString()).isTrue();
        assertThat(id.group(1)).as(result.toString()).isEqualTo(Long.toString(UID));
        assertThat(id.group(2)).as(result.toString()).isEqualTo(Long.toString(GID));
    }

    private static boolean exists(String database) {
        return run("getent", database, NAME).status() == 0;
    }

    private static void system(String... command) {
        Outcome outcome = run(command);
        assertThat(outcome.status()).as(String.join(" ", command) + ": " + outcome.output()).isZero();
    }

    private record Outcome(int status, String output) {
    }

    private static Outcome run(String... command) {
        try {
            Process process = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return new Outcome(process.waitFor(), output);
        } catch (IOException e) {
            throw new AssertionError("cannot run " + command[0] + " (install it: .ci/run lists what tests need)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
