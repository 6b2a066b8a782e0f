package dev.eventloopguardian.packaging;

import dev.eventloopguardian.testing.KernelTest;
import dev.eventloopguardian.testing.Zsh;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;

import static dev.eventloopguardian.packaging.Release.BLOCKING_PYTHON;
import static dev.eventloopguardian.packaging.Release.PYTHON;
import static dev.eventloopguardian.packaging.Release.command;
import static dev.eventloopguardian.packaging.Release.run;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The release archive installed with {@code install.sh --prefix} into a fresh directory, then used as installed: the
 * command on the prefix's bin, its man page, its completions in bash and zsh, and install.sh run again and undone.
 */
class InstallIT {
    /** One installation for the tests that only use it (install.sh trains the AOT cache: seconds each). */
    @TempDir
    static Path shared;
    static Path prefix;

    @TempDir
    Path scratch;

    @BeforeAll
    static void install() throws Exception {
        prefix = Release.install(shared);
    }

    @Test
    @KernelTest
    void theInstalledCommandRunsAndReportsABlockingSleep() throws Exception {
        String bin = prefix.resolve("bin/eventloop-guardian").toString();

        Release.Run version = run(List.of(bin, "--version"), Map.of());
        assertThat(version.status()).as(version.both()).isZero();
        assertThat(version.out()).startsWith("eventloop-guardian ").contains("Java 2");

        Release.Run report = run(List.of(bin, "--report", PYTHON, "-c", BLOCKING_PYTHON), Map.of());
        assertThat(report.status()).as(report.both()).isZero();
        assertThat(report.err()).contains("(python3) blocked in clock_nanosleep(", "summary: 1 blocking sleep");
    }

    @Test
    void theLayoutIsTheOneInstallShSays() throws Exception {

        assertThat(Files.readSymbolicLink(prefix.resolve("bin/eventloop-guardian")))
                .isEqualTo(Path.of("../lib/eventloop-guardian/eventloop-guardian"));
        for (String file : List.of("lib/eventloop-guardian/target/eventloop-guardian.jar",
                "lib/eventloop-guardian/scripts/jdk.sh", "lib/eventloop-guardian/scripts/jvm.options",
                "share/man/man1/eventloop-guardian.1", "share/bash-completion/completions/eventloop-guardian",
                "share/zsh/site-functions/_eventloop-guardian", "lib/systemd/system/eventloop-guardian.service",
                "etc/eventloop-guardian/watch.toml")) {
            assertThat(prefix.resolve(file)).as(file).isRegularFile();
        }
        try (var libraries = Files.list(prefix.resolve("lib/eventloop-guardian/target/lib"))) {
            assertThat(libraries.map(p -> p.getFileName().toString()))
                    .as("the libraries kept beside the jar").anyMatch(name -> name.startsWith("prometheus-metrics-core-"));
        }
        assertThat(Files.readString(prefix.resolve("lib/systemd/system/eventloop-guardian.service")))
                .contains("\nExecStart=" + prefix + "/bin/eventloop-guardian watch --config " + prefix
                        + "/etc/eventloop-guardian/watch.toml ");
    }

    /**
     * The launcher keeps a JDK AOT cache beside the jar and trains one when it finds none. install.sh makes it, so
     * that a user who cannot write the installed directory neither retrains on every launch nor fails.
     */
    @Test
    void theAotCacheIsMadeAtInstallAndAUserWhoCannotWriteTheDirectoryRunsWithIt() throws Exception {
        Path aot = prefix.resolve("lib/eventloop-guardian/target/eventloop-guardian.aot");
        assertThat(aot).as("made by install.sh").isRegularFile();
        FileTime made = Files.getLastModifiedTime(aot);

        Release.Run asNobody = run(command("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                prefix.resolve("bin/eventloop-guardian"), "--version"), Map.of());
        assertThat(asNobody.status()).as(asNobody.both()).isZero();
        assertThat(asNobody.both()).startsWith("eventloop-guardian ").doesNotContain("error", "Permission denied");
        assertThat(Files.getLastModifiedTime(aot)).isEqualTo(made);
        try (var files = Files.list(aot.getParent())) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("eventloop-guardian.jar", "eventloop-guardian.aot", "lib");
        }
    }

    /**
     * A cache older than the jar (a jar replaced after install.sh, by hand or by a package) holds
     * stale classes, and the JVM was seen to run them: a user who cannot retrain it runs without
     * it, and one who can retrains it first.
     */
    @Test
    void aCacheOlderThanTheJarIsNeverUsedAndIsRetrainedWhereItCanBe() throws Exception {
        Path ownPrefix = Release.install(scratch);
        Path jar = ownPrefix.resolve("lib/eventloop-guardian/target/eventloop-guardian.jar");
        Path aot = jar.resolveSibling("eventloop-guardian.aot");
        Files.setLastModifiedTime(aot, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() - 60_000));
        String bin = ownPrefix.resolve("bin/eventloop-guardian").toString();

        Release.Run asNobody = run(command("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "bash", "-x",
                bin, "--version"), Map.of());
        assertThat(asNobody.status()).as(asNobody.both()).isZero();
        assertThat(asNobody.out()).startsWith("eventloop-guardian ");
        assertThat(execLine(asNobody)).as("the java command line").doesNotContain("-XX:AOTCache=");

        Release.Run asRoot = run(command("bash", "-x", bin, "--version"), Map.of());
        assertThat(asRoot.status()).as(asRoot.both()).isZero();
        assertThat(Files.getLastModifiedTime(aot)).as("retrained").isGreaterThan(Files.getLastModifiedTime(jar));
        assertThat(execLine(asRoot)).contains("-XX:AOTCache=" + aot);
    }

    /** The launcher's last command, as bash -x traced it: the exec of java. */
    private static String execLine(Release.Run traced) {
        return traced.err().lines().filter(line -> line.startsWith("+ exec ")).reduce((first, last) -> last).orElse("");
    }

    @Test
    void theManPageRendersFromThePrefix() throws Exception {

        Release.Run man = run(List.of("man", "--warnings", "-l", prefix.resolve("share/man/man1/eventloop-guardian.1")
                .toString()), Map.of("MANWIDTH", "80"));
        assertThat(man.status()).as(man.err()).isZero();
        assertThat(man.err()).isEmpty();
        assertThat(man.out()).contains("EVENTLOOP-GUARDIAN(1)", "SYNOPSIS", "EXIT STATUS");
    }

    @Test
    void bashAndZshCompleteFromWhereInstallShPutTheirScripts() throws Exception {
        Zsh.require();
        Path bash = prefix.resolve("share/bash-completion/completions/eventloop-guardian");

        // bash-completion loads PREFIX/share/bash-completion/completions/NAME on the first TAB after NAME.
        Release.Run completed = run(List.of("bash", "-c", """
                source "$1"
                COMP_WORDS=(eventloop-guardian --rep); COMP_CWORD=1; COMP_LINE="eventloop-guardian --rep"; COMP_POINT=${#COMP_LINE}
                _complete_eventloop-guardian
                printf '%s\\n' "${COMPREPLY[@]}"
                """, "bash", bash.toString()), Map.of());
        assertThat(completed.status()).as(completed.err()).isZero();
        assertThat(completed.out().strip()).isEqualTo("--report");

        // zsh autoloads _eventloop-guardian from its fpath at compinit, as for every installed completion.
        String zshrc = "fpath=(" + prefix.resolve("share/zsh/site-functions") + " $fpath); autoload -U compinit && compinit -u";
        assertThat(Zsh.tab(scratch, zshrc, "eventloop-guardian --for")).isEqualTo("eventloop-guardian --format ");
        assertThat(Zsh.tab(scratch, zshrc, "eventloop-guardian attach --p")).isEqualTo("eventloop-guardian attach --pid ");
    }

    @Test
    void installingAgainKeepsAnEditedConfigAndUninstallingLeavesOnlyIt() throws Exception {
        Path prefix = Release.install(scratch);
        Path config = prefix.resolve("etc/eventloop-guardian/watch.toml");
        Files.writeString(config, "# mine\n", java.nio.file.StandardOpenOption.APPEND);
        Path installSh = scratch.resolve("unpacked").toFile().listFiles()[0].toPath().resolve("install.sh");

        Release.Run again = run(command(installSh, "--prefix", prefix), Map.of());
        assertThat(again.status()).as(again.both()).isZero();
        assertThat(again.out()).contains("kept the existing " + config);
        assertThat(Files.readString(config)).endsWith("# mine\n");

        Release.Run uninstall = run(command(installSh, "--prefix", prefix, "--uninstall"), Map.of());
        assertThat(uninstall.status()).as(uninstall.both()).isZero();
        assertThat(uninstall.out()).contains("kept your " + config);
        try (var left = Files.walk(prefix)) {
            assertThat(left.filter(Files::isRegularFile).map(prefix::relativize).map(Path::toString))
                    .containsExactly("etc/eventloop-guardian/watch.toml");
        }
        assertThat(prefix.resolve("bin/eventloop-guardian")).doesNotExist();
    }
}
