package dev.eventloopguardian.cli;

import picocli.AutoComplete;
import picocli.CommandLine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes the bash completion script and the man page from the tool's own command tree. Run by
 * the build ({@code mvn package}, pom.xml), never by the tool: none of this loads at launch.
 */
public final class Docs {
    static final String NAME = "eventloop-guardian";
    static final String SUMMARY = "catch event-loop threads the moment they sleep in a blocking syscall";

    private Docs() {
    }

    /** Usage: Docs DIRECTORY VERSION. */
    public static void main(String[] args) throws IOException {
        write(Path.of(args[0]), args[1]);
    }

    static void write(Path directory, String version) throws IOException {
        Files.createDirectories(directory);
        CommandLine cli = Main.commandLine();
        Files.writeString(directory.resolve(NAME + ".bash"), completion(cli));
        Files.writeString(directory.resolve(NAME + ".1"), ManPage.of(cli.getCommandSpec(), version, SUMMARY));
    }

    /** picocli's script, with our word on installing it ahead of picocli's own header. */
    static String completion(CommandLine cli) {
        String script = AutoComplete.bash(NAME, cli);
        String shebang = "#!/usr/bin/env bash\n";
        if (!script.startsWith(shebang)) {
            throw new IllegalStateException("picocli's completion script no longer starts with " + shebang.strip());
        }
        return shebang + """
                #
                # Written by 'mvn package' from eventloop-guardian's own command tree (cli.Docs).
                # bash: source this file (e.g. from ~/.bashrc), or copy it to /etc/bash_completion.d/eventloop-guardian.
                # zsh: source it too: it loads zsh's bashcompinit itself and registers the same completion.
                """ + script.substring(shebang.length());
    }
}
