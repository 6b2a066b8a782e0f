package dev.eventloopguardian.testing;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real interactive zsh, driven through a pseudo-terminal by zsh's own zpty module, for completion tests: it runs a
 * setup line (as {@code ~/.zshrc} would), waits for the prompt, types a line and TAB, then a key bound to a widget
 * that writes zle's buffer to a file: the line as the user then sees it.
 */
public final class Zsh {
    private Zsh() {
    }

    /** Skips (or fails where programs are required) when zsh is not installed. */
    public static void require() {
        if (!Files.isExecutable(Path.of("/usr/bin/zsh"))) {
            throw KernelCondition.missing("zsh is not installed (apt-get install zsh)", "zsh completion tests");
        }
    }

    /** The line after typing {@code typed} and TAB, in a zsh that ran {@code setup}; {@code scratch} holds a file. */
    public static String tab(Path scratch, String setup, String typed) throws Exception {
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
