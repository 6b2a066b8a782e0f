package dev.eventloopguardian.cli;

import dev.eventloopguardian.guard.Policy;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code attach}'s options, parsed without a kernel: the same policy and report options as the guard command. */
class AttachCommandOptionsTest {
    private static AttachCommand parse(String... args) {
        return AttachCommand.of(Main.commandLine().parseArgs(args).subcommand());
    }

    @Test
    void attachAlwaysReportsAndSendsNoSignalUnlessAsked() throws Exception {
        AttachCommand attach = parse("attach", "--pid", "42", "--threads", "vert.x-eventloo*", "--min-duration", "10ms");
        assertThat(attach.pid).isEqualTo(42);
        assertThat(attach.reportOptions.minDuration).isEqualTo(Duration.ofMillis(10));
        Policy policy = attach.policy();
        assertThat(policy.report()).isTrue();
        assertThat(policy.signal()).isEmpty();
        assertThat(policy.threads()).hasSize(1);
        assertThat(parse("attach", "--pid", "42", "--signal", "USR1").policy().signal().orElseThrow().number()).isEqualTo(10);
        assertThat(parse("attach", "--report", "--pid", "42").policy().report()).as("--report is accepted").isTrue();
    }

    @Test
    void badUsageExits64WithAMessage() {
        assertThat(run("attach")).startsWith("64 ").contains("Missing required option: '--pid=PID'");
        assertThat(run("attach", "--pid", "forty-two")).startsWith("64 ").contains("'forty-two' is not an int");
        assertThat(run("attach", "--pid", "0")).startsWith("64 ").contains("a process id is a positive number");
        assertThat(run("attach", "--pid", "42", "--format", "xml")).startsWith("64 ").contains("use one of text, json");
        assertThatThrownBy(() -> parse("attach", "--pid", "42", "--threads", "*-loop").policy())
                .hasMessageContaining("only a trailing *");
    }

    /** Runs the CLI in this JVM: "STATUS stderr". */
    private static String run(String... args) {
        StringWriter err = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setErr(new PrintWriter(err));
        cli.getSubcommands().get("attach").setErr(new PrintWriter(err));
        int status = cli.execute(args);
        return status + " " + err;
    }
}
