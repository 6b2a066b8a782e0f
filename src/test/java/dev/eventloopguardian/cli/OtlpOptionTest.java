package dev.eventloopguardian.cli;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code --otlp} as the command line reads it, before anything is loaded or sent. */
class OtlpOptionTest {
    private static GuardCommand parse(String... args) {
        return GuardCommand.of(Main.commandLine().parseArgs(args));
    }

    @Test
    void takesAReceiversUrlWithReportAndAttach() throws Exception {
        assertThat(OtlpOption.endpoint(parse("--report", "--otlp", "http://127.0.0.1:4318", "x").reportOptions.otlp)
                .toString()).isEqualTo("http://127.0.0.1:4318");
        assertThat(OtlpOption.endpoint(parse("--report", "--otlp=https://collector.example:4318/otlp/", "x")
                .reportOptions.otlp).uri().getPath()).isEqualTo("/otlp/");
        assertThat(OtlpOption.endpoint("http://[::1]:4318").uri().getHost()).isEqualTo("[::1]");
        assertThat(AttachCommand.of(Main.commandLine().parseArgs("attach", "--pid", "1", "--otlp", "http://localhost:4318")
                .subcommand()).reportOptions.otlp).isEqualTo("http://localhost:4318");
        parse("--report", "--metrics", "0", "--otlp", "http://localhost:4318", "x").policy(); // both at once
    }

    @Test
    void aUrlWithoutSchemeIsAUsageErrorThatSaysWhatToWrite() {
        assertThatThrownBy(() -> parse("--report", "--otlp", "127.0.0.1:4318", "x").policy())
                .isInstanceOf(UsageException.class)
                .hasMessage("--otlp 127.0.0.1:4318: '127.0.0.1:4318' has no http:// or https://: write the receiver's "
                        + "URL, e.g. http://127.0.0.1:4318 (an OpenTelemetry Collector's OTLP/HTTP port), or "
                        + "https://collector.example:4318/ with TLS; here perhaps http://127.0.0.1:4318");
    }

    @Test
    void otherMistakesSayWhatIsWrongWithTheUrl() {
        assertThatThrownBy(() -> OtlpOption.endpoint("grpc://127.0.0.1:4317"))
                .hasMessageStartingWith("--otlp grpc://127.0.0.1:4317: 'grpc://127.0.0.1:4317': OTLP is sent over HTTP "
                        + "here, not grpc: write the receiver's URL");
        assertThatThrownBy(() -> OtlpOption.endpoint("http://:4318"))
                .hasMessageContaining("has no host");
        assertThatThrownBy(() -> OtlpOption.endpoint("http://user:secret@collector:4318"))
                .hasMessageContaining("put credentials in OTEL_EXPORTER_OTLP_HEADERS");
        assertThatThrownBy(() -> OtlpOption.endpoint("http://collector:4318/v1/logs?x=1"))
                .hasMessageContaining("a base URL has no ?query or #fragment");
        assertThatThrownBy(() -> OtlpOption.endpoint("http://collector:43 18"))
                .hasMessageContaining("is not a URL");
    }

    @Test
    void goesWithReportOnly() {
        assertThatThrownBy(() -> parse("--otlp", "http://127.0.0.1:4318", "x").policy())
                .isInstanceOf(UsageException.class).hasMessageContaining("--otlp").hasMessageEndingWith("go with --report");
    }

    @Test
    void theCommandLineExitsWith64BeforeLoadingAnything() {
        StringWriter err = new StringWriter();
        int status = Main.commandLine().setErr(new PrintWriter(err, true))
                .execute("--report", "--otlp", "localhost:4318", "true");
        assertThat(status).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("here perhaps http://localhost:4318", "Try 'eventloop-guardian --help'");
    }

    @Test
    void helpTeachesTheOption() {
        StringWriter out = new StringWriter();
        Main.commandLine().setOut(new PrintWriter(out, true)).execute("--help");
        String help = out.toString().replaceAll("\\s+", " ");
        assertThat(help).contains("--otlp=ENDPOINT", "http://127.0.0.1:4318", "OTEL_EXPORTER_OTLP_HEADERS");
    }
}
