package dev.eventloopguardian.cli;

import dev.eventloopguardian.guard.Policy;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GuardCommandOptionsTest {
    private static GuardCommand parse(String... args) {
        return GuardCommand.of(Main.commandLine().parseArgs(args));
    }

    @Test
    void theFirstWordThatIsNotOurOptionStartsCommandAndKeepsItsOptions() {
        GuardCommand command = parse("python3", "-c", "import time; time.sleep(0.1)");
        assertThat(command.command).containsExactly("python3", "-c", "import time; time.sleep(0.1)");

        GuardCommand withOptions = parse("--all-threads", "sleep", "--allow", "nanosleep");
        assertThat(withOptions.allThreads).isTrue();
        assertThat(withOptions.policyOptions.allow).isEmpty();
        assertThat(withOptions.command).containsExactly("sleep", "--allow", "nanosleep");

        assertThat(parse("--", "--weird-name", "x").command).containsExactly("--weird-name", "x");
    }

    @Test
    void allowListsSplitOnCommasAndRepeat() throws Exception {
        Policy policy = parse("--allow", "nanosleep,clock_nanosleep", "--allow", "poll", "x").policy();
        assertThat(policy.allowed()).contains("nanosleep", "clock_nanosleep", "poll", "epoll_wait");
    }

    @Test
    void disallowDropsDefaultsAndTheirFdRulesAndWinsOverAllow() throws Exception {
        Policy policy = parse("--disallow", "futex,write", "--allow", "futex", "x").policy();
        assertThat(policy.allowed()).doesNotContain("futex");
        assertThat(policy.allowedFds()).doesNotContainKey("write").containsKey("read");
    }

    @Test
    void noDefaultsKeepsOnlyWhatIsNamed() throws Exception {
        Policy policy = parse("--no-defaults", "--allow", "epoll_pwait", "--allow-fd", "write:2", "x").policy();
        assertThat(policy.allowed()).containsExactly("epoll_pwait");
        assertThat(policy.allowedFds()).containsOnlyKeys("write");
        assertThat(policy.allowedFds().get("write")).containsExactly(2);
    }

    @Test
    void allowFdTakesSyscallColonFd() throws Exception {
        Policy policy = parse("--allow-fd", "write:3,sendto:7", "x").policy();
        assertThat(policy.allowedFds().get("write")).containsExactly(1, 2, 3);
        assertThat(policy.allowedFds().get("sendto")).containsExactly(7);
        assertThatThrownBy(() -> parse("--allow-fd", "write", "x").policy())
                .hasMessageContaining("SYSCALL:FD");
        assertThatThrownBy(() -> parse("--allow-fd", "write:x", "x").policy())
                .hasMessageContaining("not a file descriptor number");
    }

    @Test
    void signalAndSleepStatesReachThePolicy() throws Exception {
        Policy policy = parse("--signal", "USR1", "--include-uninterruptible", "x").policy();
        assertThat(policy.signal().orElseThrow().number()).isEqualTo(10);
        assertThat(policy.includeUninterruptible()).isTrue();
        assertThat(parse("x").policy()).isEqualTo(Policy.defaults());
    }

    @Test
    void badUsageExitsWith64AndSaysWhatToTry() {
        for (List<String> args : List.<List<String>>of(List.of("--no-such-option", "x"), List.of("--allow"), List.of())) {
            CommandLine cli = Main.commandLine();
            StringWriter err = new StringWriter();
            cli.setErr(new PrintWriter(err));
            int status = cli.execute(args.toArray(String[]::new));
            assertThat(status).as(args.toString()).isEqualTo(ExitCodes.USAGE);
            assertThat(err.toString()).as(args.toString()).contains("eventloop-guardian --help");
        }
    }

    @Test
    void reportOnlyOptionsNeedReport() {
        assertThatThrownBy(() -> parse("--format", "json", "x").policy()).hasMessageContaining("go with --report");
        assertThatThrownBy(() -> parse("--report", "--format", "xml", "x").policy()).hasMessageContaining("text, json");
        assertThatThrownBy(() -> parse("--threads", "*-loop", "x").policy()).hasMessageContaining("only a trailing *");
    }

    @Test
    void minDurationGoesWithReport() {
        assertThatThrownBy(() -> parse("--min-duration", "1s", "x").policy()).hasMessageContaining("go with --report");
    }

    @Test
    void htmlGoesWithReport() {
        assertThatThrownBy(() -> parse("--html", "report.html", "x").policy())
                .hasMessageContaining("--html, --min-duration and --metrics go with --report");
        assertThat(parse("--report", "--html", "report.html", "x").reportOptions.html)
                .isEqualTo(java.nio.file.Path.of("report.html"));
    }

    @Test
    void reportAloneSendsNoSignalAndReportWithSignalDoesBoth() throws Exception {
        Policy reportOnly = parse("--report", "x").policy();
        assertThat(reportOnly.report()).isTrue();
        assertThat(reportOnly.signal()).isEmpty();
        Policy both = parse("--report", "--signal", "KILL", "x").policy();
        assertThat(both.signal().orElseThrow().number()).isEqualTo(9);
        assertThat(parse("x").policy().signal().orElseThrow().number()).isEqualTo(6);
    }

    @Test
    void helpTeachesUsageExamplesAndExitCodes() {
        CommandLine cli = Main.commandLine();
        StringWriter out = new StringWriter();
        cli.setOut(new PrintWriter(out));
        assertThat(cli.execute("--help")).isZero();
        assertThat(out.toString())
                .contains("Usage: eventloop-guardian [OPTIONS] [--] COMMAND [ARGS...]", "--allow=SYSCALL", "--user=USER",
                        "time.sleep(0.1)", "Exit status", "127");
    }
}
