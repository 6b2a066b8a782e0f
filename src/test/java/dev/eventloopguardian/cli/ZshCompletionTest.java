package dev.eventloopguardian.cli;

import dev.eventloopguardian.testing.Zsh;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The completion script the build writes, used by a real interactive zsh: sourced from the shell's start-up (it turns
 * on zsh's bashcompinit), then TAB pressed after a word. bash's side is {@link DocsTest}; the script installed on
 * zsh's fpath, packaging.InstallIT.
 */
class ZshCompletionTest {
    @TempDir
    static Path directory;

    @BeforeAll
    static void write() throws IOException {
        Zsh.require();
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

    /** The line after typing {@code typed} and TAB, in a zsh whose ~/.zshrc sources the script. */
    private static String tab(String typed) throws Exception {
        return Zsh.tab(directory, "autoload -U +X compinit && compinit -u && source "
                + directory.resolve("eventloop-guardian.bash"), typed);
    }
}
