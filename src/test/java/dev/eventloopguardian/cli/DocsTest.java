package dev.eventloopguardian.cli;

import dev.eventloopguardian.testing.KernelCondition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The man page and the bash completion the build writes, each used by the real tool: the page
 * rendered by {@code man}, the script sourced in {@code bash} and asked to complete.
 */
class DocsTest {
    @Test
    void manRendersThePageWithoutWarningsAndEveryOptionOfEveryCommand(@TempDir Path directory) throws Exception {
        Path page = written(directory).resolve("eventloop-guardian.1");
        requireMan();
        Output man = run(List.of("man", "--warnings", "-l", page.toString()), "MANWIDTH", "80");

        assertThat(man.status()).as(man.err()).isZero();
        assertThat(man.err()).as("man's warnings").isEmpty();
        String rendered = man.out().replace('\u2010', '-').replace('\u2212', '-');
        assertThat(rendered).contains("EVENTLOOP-GUARDIAN(1)", "NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "COMMANDS",
                "EXIT STATUS", "EXAMPLES", "eventloop-guardian attach --pid PID [OPTIONS]",
                "eventloop-guardian python3 -c 'import time; time.sleep(0.1)'", "77  missing privileges");
        for (CommandSpec command : commands()) {
            if (command.parent() != null) {
                assertThat(rendered).as("its section under COMMANDS").contains("\n   " + command.name() + "\n");
            }
            for (ArgSpec arg : shown(command)) {
                for (String name : arg.isOption() ? ((OptionSpec) arg).names()
                        : new String[] {arg.paramLabel()}) {
                    assertThat(rendered).as("%s of %s", name, command.name()).contains(name);
                }
            }
        }
    }

    @Test
    void bashCompletesTheRootsOptionsAndAttachs(@TempDir Path directory) throws Exception {
        Path script = written(directory).resolve("eventloop-guardian.bash");

        assertThat(complete(script, "eventloop-guardian", "--rep")).containsExactly("--report");
        assertThat(complete(script, "eventloop-guardian", "attach", "--p")).containsExactly("--pid");
        assertThat(complete(script, "eventloop-guardian", "ch")).containsExactly("check");
    }

    @Test
    void noneOfItLoadsWhenTheToolRuns() throws Exception {
        String classes = System.getProperty("eventloop.guardian.classes");
        Output help = run(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xlog:class+load", "-cp", classes, Main.class.getName(), "--help"));

        assertThat(help.status()).as(help.err()).isZero();
        assertThat(help.out()).contains("Usage: eventloop-guardian", Main.class.getName() + " source:")
                .doesNotContain(Docs.class.getName(), ManPage.class.getName(), "picocli.AutoComplete");
    }

    @Test
    void troffSpecialsAreEscaped() {
        assertThat(ManPage.escape(".allow-fd read:0 \\d")).isEqualTo("\\&.allow\\-fd read:0 \\ed");
        assertThat(ManPage.escape("'quoted'")).isEqualTo("\\&'quoted'");
    }

    private static Path written(Path directory) throws IOException {
        Docs.write(directory, "test");
        return directory;
    }

    /**
     * What the completion function {@code script} registers for eventloop-guardian puts in
     * COMPREPLY, as bash calls it on TAB after {@code words} (the last one being completed).
     */
    private static List<String> complete(Path script, String... words) throws Exception {
        String line = String.join(" ", words);
        String bash = """
                source "$1"; shift
                spec=$(complete -p eventloop-guardian) || exit 3
                function=$(sed -E 's/.* -F ([^ ]+) .*/\\1/' <<<"$spec")
                COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
                "$function"
                printf '%s\\n' "${COMPREPLY[@]}"
                """;
        List<String> command = new ArrayList<>(List.of("bash", "-c", bash, "bash", script.toString()));
        command.addAll(List.of(words));
        Output out = run(command);
        assertThat(out.status()).as("bash for %s: %s", line, out.err()).isZero();
        return out.out().lines().filter(s -> !s.isEmpty()).map(String::strip).toList();
    }

    private static List<CommandSpec> commands() {
        CommandSpec root = Main.commandLine().getCommandSpec();
        return Stream.concat(Stream.of(root), root.subcommands().values().stream().map(CommandLine::getCommandSpec))
                .toList();
    }

    private static List<ArgSpec> shown(CommandSpec command) {
        return command.args().stream().filter(a -> !a.hidden()).toList();
    }

    private static void requireMan() {
        if (Files.isExecutable(Path.of("/usr/bin/man"))) {
            return;
        }
        throw KernelCondition.missing("man is not installed (apt-get install man-db)", "man page tests");
    }

    private record Output(int status, String out, String err) {
    }

    private static Output run(List<String> command, String... environment) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command);
        for (int i = 0; i < environment.length; i += 2) {
            builder.environment().put(environment[i], environment[i + 1]);
        }
        Process process = builder.start();
        process.getOutputStream().close();
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(process.getErrorStream()));
        String out = read(process.getInputStream());
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("%s finished", command).isTrue();
        return new Output(process.exitValue(), out, err.join());
    }

    private static String read(InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
