package dev.eventloopguardian.cli;

import dev.eventloopguardian.testing.KernelCondition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The completion script the build writes, used by a real interactive zsh: it is sourced (it turns
 * on zsh's bashcompinit), TAB is pressed after a word, and the line zle then holds is read back.
 * bash's side is {@link DocsTest}.
 */
class ZshCompletionTest {
    @TempDir
    static Path directory;

    @BeforeAll
    static void write() throws IOException {
        if (!Files.isExecutable(Path.of("/usr/bin/zsh"))) {
            throw KernelCondition.missing("zsh is not installed (apt-get install zsh)", "zsh completion tests");
        }
        Docs.write(directory, "test");
    }

    @Test
    void tabCompletesAnOptionOfTheRootCommand() throws Exception {
        assertThat(tab("eventloop-guardian --for")).isEqualTo("eventloop-guardian --format ");
        assertThat(tab("eventloop-guardian --rep")).isEqualTo("eventloop-guardian --report ");
    }

    @Test
    void tabCompletesASubcommandAndItsOptions() throws Exception {
        assertThat(tab("eventloop-guardian att")).isEqualTo("eventloop-guardian attach ");
        assertThat(tab("eventloop-guardian attach --p")).isEqualTo("eventloop-guardian attach --pid ");
    }

    /** The line after typing {@code typed} and TAB in zsh with the script sourced, as {@code ~/.zshrc} would. */
    private static String tab(String typed) throws Exception {
        return ZshSession.tab(directory, "autoload -U +X compinit && compinit -u && source "
                + directory.resolve("eventloop-guardian.bash"), typed);
    }

    /**
     * Drives an interactive zsh through a pseudo-terminal (zsh's own zpty module): runs
     * {@code setup}, waits for the prompt, types {@code typed}, TAB, then a key bound to a widget
     * that writes zle's buffer to a file, the line as the user would see it.
     */
    static final class ZshSession {
        private ZshSession() {
        }

        static String tab(Path scratch, String setup, String typed) throws Exception {
            Path buffer = Files.createTempFile(scratch, "zle-buffer", ".txt");
            Files.delete(buffer);
            // The prompt is spelled in two parts so that the echo of this very line cannot match it.
            String driver = """
                    zmodload zsh/zpty || exit 3
                    zpty -b shell zsh -f -i
                    zpty -w shell "$1; dump() { print -r -- \\"\\$BUFFER\\" >| ${(q)2} }; zle -N dump; bindkey '^X^D' dump; PS1='RE''ADY> '"
                    zpty -r -m shell ignored '*READY> *' || exit 4
                    zpty -w -n shell "$3"$'\\t\\C-x\\C-d'
                    for i in {1..200}; do [[ -s $2 ]] && break; sleep 0.05; done
                    zpty -d shell
                    [[ -s $2 ]] || exit 5
                    """;
            Process zsh = new ProcessBuilder(List.of("zsh", "-f", "-c", driver, "zsh", setup, buffer.toString(), typed))
                    .redirectErrorStream(true).start();
            zsh.getOutputStream().close();
            String output = new String(zsh.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(zsh.waitFor(30, TimeUnit.SECONDS)).as("zsh finished").isTrue();
            assertThat(zsh.exitValue()).as("zsh completing %s: %s", typed, output).isZero();
            String line = Files.readString(buffer);
            return line.endsWith("\n") ? line.substring(0, line.length() - 1) : line;
        }
    }
}
