package dev.eventloopguardian.cli;

import dev.eventloopguardian.metrics.MetricsAddress;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code --metrics} as the command line reads it, before anything is loaded or bound. */
class MetricsOptionTest {
    private static GuardCommand parse(String... args) {
        return GuardCommand.of(Main.commandLine().parseArgs(args));
    }

    @Test
    void takesAPortOrAnAddressAndAPort() throws Exception {
        assertThat(MetricsOption.address(parse("--report", "--metrics", "9464", "x").reportOptions.metrics))
                .isEqualTo(new MetricsAddress("127.0.0.1", 9464));
        assertThat(MetricsOption.address(parse("--report", "--metrics=0.0.0.0:9464", "x").reportOptions.metrics))
                .isEqualTo(new MetricsAddress("0.0.0.0", 9464));
        assertThat(AttachCommand.of(Main.commandLine().parseArgs("attach", "--pid", "1", "--metrics", "localhost:0")
                .subcommand()).reportOptions.metrics).isEqualTo("localhost:0");
        parse("--report", "--metrics", "9464", "x").policy(); // valid with --report
    }

    @Test
    void badInputIsAUsageErrorThatSaysHowToWriteIt() {
        assertThatThrownBy(() -> parse("--report", "--metrics", "port9464", "x").policy())
                .isInstanceOf(UsageException.class)
                .hasMessageStartingWith("--metrics port9464: 'port9464' has no port")
                .hasMessageContaining("e.g. 9464");
        assertThatThrownBy(() -> parse("--report", "--metrics", "70000", "x").policy())
                .hasMessageContaining("not a port (0 to 65535)");
        assertThatThrownBy(() -> parse("--metrics", "9464", "x").policy())
                .isInstanceOf(UsageException.class).hasMessageContaining("--metrics go with --report");
    }

    @Test
    void theCommandLineExitsWith64BeforeLoadingAnything() {
        StringWriter err = new StringWriter();
        int status = Main.commandLine().setErr(new PrintWriter(err, true))
                .execute("--report", "--metrics", "::1:9464", "true");
        assertThat(status).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("write an IPv6 address in brackets, [ADDR]:PORT", "Try 'eventloop-guardian --help'");
    }

    @Test
    void helpTeachesTheOptionAndItsFolding() {
        StringWriter out = new StringWriter();
        Main.commandLine().setOut(new PrintWriter(out, true)).execute("--help");
        String help = out.toString().replaceAll("\\s+", " ");
        assertThat(help).contains("--metrics=[ADDR:]PORT", "127.0.0.1 unless given",
                "(vert.x-eventloop-thread-3 is vert.x-eventloop-thread-N)");
    }
}
