package dev.eventloopguardian.cli;

import dev.eventloopguardian.proc.ProcessFacts;
import dev.eventloopguardian.watch.WatchRule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code watch}'s rules, from its config file and its options, parsed without a kernel. */
class WatchConfigTest {
    private static final ProcessFacts NODE = ProcessFacts.of(10, "node", "/usr/bin/node", "node server.js",
            "0::/system.slice/api.service\n");
    private static final ProcessFacts JAVA_IN_DOCKER = ProcessFacts.of(11, "java", "/opt/java/openjdk/bin/java", "java -jar app.jar",
            "0::/system.slice/docker-" + "ab".repeat(32) + ".scope\n");

    @Test
    void aFileGivesItsRulesInOrderWithTheirPolicies() throws Exception {
        WatchConfig.Loaded loaded = WatchConfig.parse("watch.toml", String.join("\n",
                "events_per_second = 250",
                "[[rule]]",
                "name = \"node\"",
                "executables = [\"node\"]",
                "threads = [\"node\"]",
                "allow = [\"poll\"]",
                "[[rule]]",
                "name = \"containers\"",
                "cgroups = [\"*/docker-*.scope\"]",
                "threads = [\"vert.x-eventloo*\"]",
                "disallow = [\"futex\"]",
                "allow_fd = [\"write:3\"]",
                "include_uninterruptible = true",
                "signal = \"USR1\""));

        assertThat(loaded.eventsPerSecond()).isEqualTo(250);
        assertThat(loaded.rules()).extracting(WatchRule::name).containsExactly("node", "containers");
        WatchRule node = loaded.rules().get(0);
        assertThat(node.selects(NODE)).isTrue();
        assertThat(node.selects(JAVA_IN_DOCKER)).isFalse();
        assertThat(node.policy().allowed()).contains("poll", "epoll_wait");
        assertThat(node.policy().signal()).as("reports only").isEmpty();
        WatchRule containers = loaded.rules().get(1);
        assertThat(containers.selects(JAVA_IN_DOCKER)).isTrue();
        assertThat(containers.selects(NODE)).isFalse();
        assertThat(containers.policy().allowed()).doesNotContain("futex");
        assertThat(containers.policy().allowedFds()).containsKey("write");
        assertThat(containers.policy().includeUninterruptible()).isTrue();
        assertThat(containers.policy().signal().orElseThrow().number()).isEqualTo(10);
        assertThat(containers.policy().report()).isTrue();
    }

    @Test
    void mistakesInTheFileSayWhereAndWhatToDo() {
        assertThatThrownBy(() -> WatchConfig.parse("w.toml", "[[rule]]\nname = \"a\"\nexecutabels = [\"node\"]\n"))
                .hasMessageContaining("w.toml: Unrecognized field \"executabels\"").hasMessageContaining("executables");
        assertThatThrownBy(() -> WatchConfig.parse("w.toml", "[[rule]]\nthreads = [\"x\"]\n"))
                .hasMessageContaining("w.toml: rule 1 has no name");
        assertThatThrownBy(() -> WatchConfig.parse("w.toml", "[[rule]]\nname = \"a\"\n[[rule]]\nname = \"a\"\n"))
                .hasMessageContaining("two rules are named 'a'");
        assertThatThrownBy(() -> WatchConfig.parse("w.toml", "events_per_second = 5\n"))
                .hasMessageContaining("w.toml: no rule; add one");
        assertThatThrownBy(() -> WatchConfig.parse("w.toml", "[[rule]]\nname = \"a\"\nthreads = [\"*-loop\"]\n"))
                .hasMessageContaining("w.toml: rule 'a': ").hasMessageContaining("trailing *");
        assertThatThrownBy(() -> WatchConfig.parse("w.toml", "[[rule]]\nname = \"a\"\nsignal = \"SIGNOPE\"\n"))
                .hasMessageContaining("rule 'a'");
        assertThatThrownBy(() -> WatchConfig.parse("w.toml", "[[rule]\nname = \"a\"\n")).hasMessageStartingWith("w.toml: ");
        assertThatThrownBy(() -> WatchConfig.parse("w.toml", "events_per_second = 0\n[[rule]]\nname = \"a\"\n"))
                .hasMessageContaining("events_per_second is at least 1");
    }

    @Test
    void theOptionsMakeARuleTriedBeforeTheFilesOnes(@TempDir Path scratch) throws Exception {
        Path config = Files.writeString(scratch.resolve("watch.toml"), "[[rule]]\nname = \"node\"\nexecutables = [\"node\"]\n");
        WatchConfig.Loaded loaded = parse("watch", "--config", config.toString(), "--exe", "java", "--threads", "vert.x-eventloo*",
                "--allow", "poll", "--events-per-second", "50").rules();
        assertThat(loaded.rules()).extracting(WatchRule::name).containsExactly(WatchCommand.RULE_FROM_OPTIONS, "node");
        assertThat(loaded.rules().get(0).policy().allowed()).contains("poll");
        assertThat(loaded.rules().get(0).policy().threads()).hasSize(1);
        assertThat(loaded.eventsPerSecond()).isEqualTo(50);
    }

    @Test
    void badUsageExits64WithAMessage(@TempDir Path scratch) {
        assertThat(run("watch", "--config", scratch.resolve("missing.toml").toString()))
                .startsWith("64 ").contains("missing.toml: no such file");
        assertThat(run("watch", "--allow", "poll", "--config", scratch.resolve("missing.toml").toString()))
                .startsWith("64 ").contains("the policy options make a rule with --exe, --cgroup or --threads");
        assertThat(run("watch", "--exe", "node", "--events-per-second", "0")).startsWith("64 ").contains("at least 1");
        assertThat(run("watch", "--exe", "node", "--allow", "no_such_call")).startsWith("64 ").contains("no_such_call");
        assertThat(run("watch", "--exe", "node", "--jvm-agent")).startsWith("64 ").contains("--jvm-agent does not go with watch");
        assertThat(run("watch", "--exe", "node", "--format", "xml")).startsWith("64 ").contains("use one of text, json");
    }

    private static WatchCommand parse(String... args) {
        return WatchCommand.of(Main.commandLine().parseArgs(args).subcommand());
    }

    /** Runs the CLI in this JVM: "STATUS stderr". */
    private static String run(String... args) {
        StringWriter err = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setErr(new PrintWriter(err));
        cli.getSubcommands().get("watch").setErr(new PrintWriter(err));
        int status = cli.execute(args);
        return status + " " + err;
    }
}
