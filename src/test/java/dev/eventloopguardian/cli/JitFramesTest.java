package dev.eventloopguardian.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.eventloopguardian.testing.Guardian;
import dev.eventloopguardian.testing.JitCompiledBlocking;
import dev.eventloopguardian.testing.KernelTest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static dev.eventloopguardian.testing.Guardian.guardian;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A JVM's JIT-compiled method named in the user stacks of a report, from the perf map the JVM is
 * asked to write: the thread blocks in {@code poll} called through FFM from a compiled method
 * ({@link JitCompiledBlocking}), whose frame would otherwise be an address in {@code (jit)}.
 * The perf map is what names JIT frames where the Java agent is not used: the sessions run with
 * {@code --no-jvm-agent}, and the JVM without options from the environment. It runs in a directory
 * of its own, where the JDK's client puts {@code .attach_pidN} while it attaches.
 */
@KernelTest
class JitFramesTest {
    private static final String THREAD = "jit-poller";
    private static final String FRAME = JitCompiledBlocking.METHOD + "+0x";
    private static final Duration ATTACHED = Duration.ofSeconds(30);

    private final Set<Long> jvms = new HashSet<>();
    private final List<Process> targets = new ArrayList<>();

    @AfterEach
    void removePerfMaps() throws IOException {
        targets.forEach(Process::destroyForcibly);
        for (long pid : jvms) {
            Files.deleteIfExists(Path.of("/tmp/perf-" + pid + ".map"));
        }
    }

    @Test
    void reportNamesTheCompiledMethodOfAJvmCommand(@TempDir Path directory) throws IOException {
        Path events = directory.resolve("events.jsonl");
        List<String> arguments = new ArrayList<>(List.of("--report", "--no-jvm-agent", "--format", "json", "--output",
                events.toString(), "--all-threads", "--threads", THREAD));
        arguments.addAll(JitCompiledBlocking.command(THREAD, "3", "300"));
        Guardian.Result result = guardian().in(directory).run(arguments.toArray(String[]::new));

        assertThat(result.status()).as(result.toString()).isZero();
        assertThat(result.stdout()).as(result.toString()).isEqualTo("ready\ndone\n");
        List<JsonNode> reported = AttachTest.readJsonLines(events);
        assertThat(reported).as(result.toString()).hasSize(3).allSatisfy(event -> {
            assertThat(event.get("syscall").asText()).isEqualTo("poll");
            assertThat(userStack(event)).as("the first event too: it waits for the map it asked for")
                    .anySatisfy(frame -> assertThat(frame).startsWith(FRAME).endsWith(" (jit)"));
        });
        assertThat(result.stderr()).as(result.toString()).doesNotContain("stay unnamed");
        assertThat(Path.of("/tmp/perf-" + reported.getFirst().get("pid").asLong() + ".map"))
                .as("the map made for the report, removed once its JVM exited").doesNotExist();
    }

    @Test
    void attachNamesTheCompiledMethodOfARunningJvm(@TempDir Path directory) throws Exception {
        Process target = new ProcessBuilder(JitCompiledBlocking.command(JitCompiledBlocking.AWAIT_LINE, THREAD, "3", "300"))
                .directory(directory.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        targets.add(target);
        jvms.add(target.pid());
        BufferedReader out = new BufferedReader(new InputStreamReader(target.getInputStream(), StandardCharsets.UTF_8));
        assertThat(out.readLine()).isEqualTo("ready");
        Path events = directory.resolve("events.jsonl");
        try (Guardian.Running guardian = guardian().start("attach", "--pid", Long.toString(target.pid()), "--no-jvm-agent",
                "--threads", THREAD, "--format", "json", "--output", events.toString())) {
            guardian.awaitStderr("attached to pid " + target.pid(), ATTACHED);
            target.getOutputStream().write("go\n".getBytes(StandardCharsets.UTF_8));
            target.getOutputStream().flush();
            assertThat(out.readLine()).isEqualTo("done");
            Guardian.Result result = guardian.result(); // ends by itself when the target exits
            assertThat(result.status()).as(result.toString()).isZero();
            assertThat(AttachTest.readJsonLines(events)).as(result.toString()).hasSize(3).allSatisfy(event ->
                    assertThat(userStack(event)).anySatisfy(frame -> assertThat(frame).startsWith(FRAME).endsWith(" (jit)")));
        }
        assertThat(target.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(Path.of("/tmp/perf-" + target.pid() + ".map")).doesNotExist();
    }

    @Test
    void aJvmThatRefusesToBeAttachedKeepsItsAddressesAndTheReportGoesOn(@TempDir Path directory) throws IOException {
        Path events = directory.resolve("events.jsonl");
        List<String> arguments = new ArrayList<>(List.of("--report", "--no-jvm-agent", "--format", "json", "--output",
                events.toString(), "--all-threads", "--threads", THREAD));
        List<String> command = JitCompiledBlocking.command(THREAD, "3", "300");
        // Without perf data the JDK's client cannot tell that attaching is off, and would signal the JVM into thread dumps.
        int java = command.indexOf(ProcessHandle.current().info().command().orElseThrow());
        command = Stream.of(command.subList(0, java + 1), List.of("-XX:+DisableAttachMechanism", "-XX:-UsePerfData"),
                command.subList(java + 1, command.size())).flatMap(List::stream).toList();
        arguments.addAll(command);
        Guardian.Result result = guardian().in(directory).run(arguments.toArray(String[]::new));

        assertThat(result.status()).as(result.toString()).isZero();
        assertThat(result.stdout()).as("no thread dump: " + result).isEqualTo("ready\ndone\n");
        List<JsonNode> reported = AttachTest.readJsonLines(events);
        assertThat(reported).as(result.toString()).hasSize(3).allSatisfy(event ->
                assertThat(userStack(event)).anySatisfy(frame -> assertThat(frame).matches("0x\\p{XDigit}+ \\(jit\\)"))
                        .noneSatisfy(frame -> assertThat(frame).startsWith(FRAME)));
        assertThat(result.stderr().lines().filter(line -> line.contains("stay unnamed")).toList()).as(result.toString())
                .containsExactly("eventloop-guardian: JIT frames of pid " + reported.getFirst().get("pid").asLong()
                        + " stay unnamed: it cannot be asked for a perf map (it runs with -XX:+DisableAttachMechanism)");
    }

    private List<String> userStack(JsonNode event) {
        jvms.add(event.get("pid").asLong());
        List<String> frames = new ArrayList<>();
        event.get("user_stack").forEach(frame -> frames.add(frame.asText()));
        return frames;
    }
}
