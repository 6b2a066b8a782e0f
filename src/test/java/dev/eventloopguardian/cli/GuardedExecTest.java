package dev.eventloopguardian.cli;

import dev.eventloopguardian.testing.Guardian;
import dev.eventloopguardian.testing.KernelTest;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.eventloopguardian.testing.Guardian.guardian;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * COMMAND replaces the tool in place: whoever started {@code eventloop-guardian COMMAND} sees
 * COMMAND itself, with its pid, exit status, stdio, environment and a clean signal mask, and
 * none of the JVM's descriptors but the guard's perf event.
 */
@KernelTest
class GuardedExecTest {
    @Test
    void commandKeepsThePidWeStarted() {
        try (Guardian.Running running = guardian().start("sh", "-c", "echo $$")) {
            running.closeStdin();
            Guardian.Result result = running.result();
            assertThat(result.status()).as(result.toString()).isZero();
            assertThat(result.stdout().strip()).as(result.toString()).isEqualTo(Long.toString(running.pid()));
        }
    }

    @Test
    void commandsExitStatusPassesThrough() {
        Guardian.Result result = guardian().run("sh", "-c", "exit 7");
        assertThat(result.status()).as(result.toString()).isEqualTo(7);
        assertThat(result.stderr()).as(result.toString()).isEmpty();
    }

    @Test
    void stdinAndStdoutAreCommands() {
        Guardian.Result result = guardian().stdin("hello\nworld\n").run("cat");
        assertThat(result.status()).as(result.toString()).isZero();
        assertThat(result.stdout()).as(result.toString()).isEqualTo("hello\nworld\n");
        assertThat(result.stderr()).as(result.toString()).isEmpty();
    }

    @Test
    void stderrIsCommands() {
        Guardian.Result result = guardian().run("sh", "-c", "echo to-stderr >&2; echo to-stdout");
        assertThat(result.status()).as(result.toString()).isZero();
        assertThat(result.stderr()).as(result.toString()).isEqualTo("to-stderr\n");
        assertThat(result.stdout()).as(result.toString()).isEqualTo("to-stdout\n");
    }

    /** Lines of {@code ls -l /proc/self/fd}: "lrwx------ 1 root root 64 ... 3 -> /proc/123/fd". */
    private static final Pattern FD_LINK = Pattern.compile("\\s(\\d+) -> (.+)$");

    @Test
    void noDescriptorLeaksIntoCommandButThePerfEvent() {
        Guardian.Result result = guardian().run("ls", "-l", "/proc/self/fd/");
        assertThat(result.status()).as(result.toString()).isZero();
        Map<Integer, String> fds = new TreeMap<>();
        for (String line : result.stdout().lines().toList()) {
            Matcher m = FD_LINK.matcher(line);
            if (m.find()) {
                fds.put(Integer.parseInt(m.group(1)), m.group(2));
            }
        }
        assertThat(fds).as(result.toString()).containsKeys(0, 1, 2);
        Map<Integer, String> others = new HashMap<>(fds);
        List.of(0, 1, 2).forEach(others::remove);
        // What remains: the directory ls is listing, and the guard's event.
        assertThat(others.values()).as(result.toString())
                .containsOnlyOnce("anon_inode:[perf_event]")
                .hasSize(2)
                .anyMatch(target -> target.matches("/proc/\\d+/fd"));
    }

    @Test
    void environmentIsPassedUnchanged() {
        Guardian guardian = guardian()
                .env("EVENTLOOP_GUARDIAN_TEST", "a value with spaces, = and\nnewline")
                .env("EVENTLOOP_GUARDIAN_EMPTY", "");
        Guardian.Result result = guardian.run("env", "-0");
        assertThat(result.status()).as(result.toString()).isZero();
        Map<String, String> seen = new HashMap<>();
        for (String entry : result.stdout().split("\0")) {
            int equals = entry.indexOf('=');
            if (equals > 0) {
                seen.put(entry.substring(0, equals), entry.substring(equals + 1));
            }
        }
        assertThat(seen).as(result.toString())
                .containsEntry("EVENTLOOP_GUARDIAN_TEST", "a value with spaces, = and\nnewline")
                .containsEntry("EVENTLOOP_GUARDIAN_EMPTY", "")
                .isEqualTo(guardian.environment());
    }

    @Test
    void commandStartsWithNoSignalBlocked() {
        Guardian.Result result = guardian().run("grep", "^SigBlk:", "/proc/self/status");
        assertThat(result.status()).as(result.toString()).isZero();
        assertThat(result.stdout()).as(result.toString()).matches("SigBlk:\\s+0{16}\\n");
    }
}
