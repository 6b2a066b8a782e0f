package dev.eventloopguardian.jvm;

import dev.eventloopguardian.testing.KernelTest;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The measurement behind docs/blockhound-comparison.md: the same blocking scenarios on a Vert.x 5
 * event loop, once under BlockHound 1.0.13 and once under the guardian, each in a fresh JVM
 * ({@link BlockingScenariosUnderOneTool}). It prints the table and asserts it as measured, so that
 * a change in either tool's behaviour shows up here and the page can be corrected.
 */
@KernelTest
class BlockHoundComparisonTest {
    /** What one tool did in one scenario: reported it at all, and with the scenario's own frame. */
    record Outcome(boolean caught, boolean frame) {
        static final Outcome CAUGHT_WITH_FRAME = new Outcome(true, true);
        static final Outcome MISSED = new Outcome(false, false);
    }

    private static final Pattern RESULT = Pattern.compile("result (\\S+) caught=(true|false) frame=(true|false) .*");

    /**
     * BlockHound's JVM flags, as bench/end-to-end/http.sh gives them: it redefines native JDK
     * methods (Thread.sleep's sleepNanos0, ...), which JDK 13+ allows only with the first, and
     * attaches its agent at run time, which JDK 21+ warns about without the second.
     */
    private static final List<String> BLOCKHOUND_FLAGS = List.of("-XX:+AllowRedefinitionToAddDeleteMethods",
            "-XX:+EnableDynamicAgentLoading");

    /** One row of the table as measured: a scenario, what BlockHound did, what the guardian did. */
    private record Row(String scenario, Outcome blockHound, Outcome guardian) {
    }

    /**
     * The table as measured (docs/blockhound-comparison.md). The guardian catches every scenario
     * that puts the loop to sleep, with its frame; a read of a cached file never sleeps, so there
     * is nothing in the kernel to see. BlockHound catches what it instruments, with the stack of
     * the blocking call itself; it has no Java method to hook for a contended {@code synchronized}
     * (the wait is inside the VM), an FFM downcall or a FIFO's open, and 1.0.13 does not mark the
     * NIO file channel read that {@code Files.readAllBytes} uses.
     */
    private static final List<Row> MEASURED = List.of(
            new Row("sleep", Outcome.CAUGHT_WITH_FRAME, Outcome.CAUGHT_WITH_FRAME),
            new Row("future", Outcome.CAUGHT_WITH_FRAME, Outcome.CAUGHT_WITH_FRAME),
            new Row("monitor", Outcome.MISSED, Outcome.CAUGHT_WITH_FRAME),
            new Row("wait", Outcome.CAUGHT_WITH_FRAME, Outcome.CAUGHT_WITH_FRAME),
            new Row("socket-read", Outcome.CAUGHT_WITH_FRAME, Outcome.CAUGHT_WITH_FRAME),
            new Row("native-sleep", Outcome.MISSED, Outcome.CAUGHT_WITH_FRAME),
            new Row("fifo-open", Outcome.MISSED, Outcome.CAUGHT_WITH_FRAME),
            new Row("cached-file-read", Outcome.MISSED, Outcome.MISSED),
            new Row("park-50us-x20", Outcome.CAUGHT_WITH_FRAME, Outcome.CAUGHT_WITH_FRAME));

    @Test
    void theSameScenariosOnAVertxEventLoopUnderBlockHoundAndUnderTheGuardian() throws Exception {
        Map<String, Outcome> blockHound = run("blockhound", BLOCKHOUND_FLAGS);
        Map<String, Outcome> guardian = run("guardian", List.of());
        assertThat(blockHound.keySet()).as("scenarios run under each tool").containsExactlyElementsOf(guardian.keySet());
        printTable(blockHound, guardian);

        Map<String, Outcome> guardianMeasured = new LinkedHashMap<>();
        Map<String, Outcome> blockHoundMeasured = new LinkedHashMap<>();
        MEASURED.forEach(row -> {
            guardianMeasured.put(row.scenario(), row.guardian());
            blockHoundMeasured.put(row.scenario(), row.blockHound());
        });
        assertThat(guardian).as("the guardian, as measured").containsExactlyEntriesOf(guardianMeasured);
        assertThat(blockHound).as("BlockHound 1.0.13, as measured").containsExactlyEntriesOf(blockHoundMeasured);
    }

    /**
     * The "setup needed" row, measured too: without {@code -XX:+AllowRedefinitionToAddDeleteMethods}
     * BlockHound's {@code install()} throws, naming the flag, and nothing is checked. (Without
     * {@code -XX:+EnableDynamicAgentLoading} it installs, with JDK 21+'s warning about an agent
     * loaded at run time; the guardian needs neither, and {@code --enable-native-access} only
     * silences JDK 25's restricted-method warning.)
     */
    @Test
    void blockHoundWithoutItsRedefinitionFlagRefusesToInstall() throws Exception {
        Process child = startScenarios("blockhound", List.of());
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor(120, TimeUnit.SECONDS)).isTrue();

        assertThat(child.exitValue()).as(output).isNotZero();
        assertThat(output).contains("IllegalStateException: The instrumentation have failed.",
                "You need to add '-XX:+AllowRedefinitionToAddDeleteMethods' JVM flag.").doesNotContain("result ");
    }

    private static Process startScenarios(String mode, List<String> jvmFlags) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElseThrow());
        command.add("--enable-native-access=ALL-UNNAMED"); // the scenarios' FFM usleep, and the guardian's own downcalls
        command.addAll(jvmFlags);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), BlockingScenariosUnderOneTool.class.getName(),
                mode, buildDirectory().toString()));
        return new ProcessBuilder(command).redirectErrorStream(true).start();
    }

    /** Runs the scenarios in a fresh JVM under one tool; its lines are echoed for the record. */
    private static Map<String, Outcome> run(String mode, List<String> jvmFlags) throws IOException, InterruptedException {
        Process child = startScenarios(mode, jvmFlags);
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor(120, TimeUnit.SECONDS)).as("%s run ended", mode).isTrue();
        output.lines().forEach(line -> System.out.println(mode + ": " + line));
        assertThat(child.exitValue()).as("%s run's exit status; its output:%n%s", mode, output).isZero();

        Map<String, Outcome> outcomes = new LinkedHashMap<>();
        output.lines().map(RESULT::matcher).filter(Matcher::matches).forEach(result -> outcomes.put(result.group(1),
                new Outcome(Boolean.parseBoolean(result.group(2)), Boolean.parseBoolean(result.group(3)))));
        return outcomes;
    }

    /** The markdown table of docs/blockhound-comparison.md, from this run. */
    private static void printTable(Map<String, Outcome> blockHound, Map<String, Outcome> guardian) {
        System.out.println("| Scenario | BlockHound 1.0.13: caught | BlockHound: own frame | eventloop-guardian: caught | eventloop-guardian: own frame |");
        System.out.println("|---|---|---|---|---|");
        guardian.keySet().forEach(scenario -> System.out.printf("| %s | %s | %s | %s | %s |%n", scenario,
                yesNo(blockHound.get(scenario).caught()), yesNo(blockHound.get(scenario).frame()),
                yesNo(guardian.get(scenario).caught()), yesNo(guardian.get(scenario).frame())));
    }

    private static String yesNo(boolean value) {
        return value ? "yes" : "no";
    }

    /** On the disk the build writes to, as the other kernel tests' scratch files. */
    private static Path buildDirectory() {
        return Path.of(System.getProperty("eventloop.guardian.classes", "target/classes")).toAbsolutePath().getParent();
    }
}
