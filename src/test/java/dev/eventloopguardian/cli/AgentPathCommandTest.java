package dev.eventloopguardian.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class AgentPathCommandTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(CommandLine cli, String... args) {
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        return cli.execute(args);
    }

    @Test
    void printsTheJarTheToolRunsFrom(@TempDir Path directory) throws IOException {
        Path jar = Files.createFile(directory.resolve("eventloop-guardian.jar"));
        assertThat(AgentPathCommand.print(Optional.of(jar), "unused", new PrintWriter(out, true), new PrintWriter(err, true)))
                .as("%s", err).isZero();
        assertThat(out.toString()).isEqualTo(jar + System.lineSeparator());
        assertThat(err.toString()).isEmpty();
    }

    /** The tests run from target/classes: a directory -javaagent cannot take. */
    @Test
    void fromADirectoryOfClassesItSaysHowToGetTheJar() {
        assertThat(run(Main.commandLine(), "agent-path")).isEqualTo(ExitCodes.UNSUPPORTED);
        assertThat(out.toString()).isEmpty();
        assertThat(err.toString()).contains("not from a jar").contains("mvn package").contains("target/classes");
    }

    @Test
    void isListedInTheHelp() {
        assertThat(run(Main.commandLine(), "--help")).isZero();
        assertThat(out.toString()).contains("eventloop-guardian agent-path");
    }
}
