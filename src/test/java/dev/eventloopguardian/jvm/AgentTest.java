package dev.eventloopguardian.jvm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.eventloopguardian.testing.AgentJar;
import dev.eventloopguardian.testing.KernelTest;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.ToolProvider;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The agent in a fresh JVM, as users run it: {@code java -javaagent:JAR=OPTIONS} on a program that
 * knows nothing of it. The jar is made here from this build's classes and jackson-core, with the
 * manifest entries the product jar has ({@link AgentJar}): surefire runs before the product jar is
 * packaged. {@code AgentOnAnyJvmIT} runs the product jar itself.
 */
@KernelTest
class AgentTest {
    /** A loop thread and a worker that both sleep; only the loop is guarded. */
    private static final String PROGRAM = """
            public class LoopProgram {
                public static void main(String[] args) throws InterruptedException {
                    Thread loop = Thread.ofPlatform().name("loop-1").start(LoopProgram::blockTheLoop);
                    Thread worker = Thread.ofPlatform().name("worker-1").start(LoopProgram::sleepOnTheWorker);
                    loop.join();
                    worker.join();
                    System.out.println("done");
                }

                static void blockTheLoop() {
                    sleepSixTimes();
                }

                static void sleepOnTheWorker() {
                    sleepSixTimes();
                }

                private static void sleepSixTimes() {
                    try {
                        for (int i = 0; i < 6; i++) { // the agent looks for new threads every 50 ms: several are guarded, with an end
                            Thread.sleep(50);
                        }
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                }
            }
            """;
    static final String AGENT_LINE = "eventloop-guardian agent: ";

    @TempDir
    static Path scratch;
    private static Path agentJar;
    private static Path programClasses;

    record Run(int status, String stdout, String stderr) {
        List<String> agentLines() {
            return stderr.lines().filter(line -> line.startsWith(AGENT_LINE)).toList();
        }

        @Override
        public String toString() {
            return "exit status " + status + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
        }
    }

    @BeforeAll
    static void buildTheAgentAndTheProgram() throws IOException {
        agentJar = AgentJar.write(scratch.resolve("eventloop-guardian.jar"));
        programClasses = Files.createDirectories(scratch.resolve("program"));
        Path source = Files.writeString(scratch.resolve("LoopProgram.java"), PROGRAM);
        int status = ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", programClasses.toString(), source.toString());
        assertThat(status).as("javac LoopProgram.java").isZero();
    }

    @Test
    void guardsTheMatchingThreadAsItAppearsAndWritesJsonLines() throws Exception {
        Path calls = scratch.resolve("calls.jsonl");
        Run run = runProgram("threads=loop-.*,format=json,output=" + calls);

        assertThat(run.status()).as("%s", run).isZero();
        assertThat(run.stdout()).as("%s", run).isEqualTo("done\n");
        assertThat(run.agentLines()).as("%s", run).isEmpty();
        List<JsonNode> lines = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(calls)) {
            lines.add(json.readTree(line));
        }
        assertThat(lines).as("%s", lines).isNotEmpty().allSatisfy(call -> {
            assertThat(call.get("thread").asText()).isEqualTo("loop-1");
            assertThat(call.get("kind").asText()).isEqualTo("sleep");
            assertThat(call.get("syscall").asText()).isEqualTo("futex");
        });
        assertThat(lines).as("%s", lines).anySatisfy(call -> assertThat(call.get("java_stack").toString())
                .contains("LoopProgram.blockTheLoop(LoopProgram.java:"));
    }

    @Test
    void byDefaultEachCallIsALineOnStderrWithItsJavaStack() throws Exception {
        Run run = runProgram("threads=loop-1");

        assertThat(run.status()).as("%s", run).isZero();
        assertThat(run.stderr()).as("%s", run)
                .containsPattern("blocking call on loop-1 \\(tid \\d+\\): sleep in futex for \\d+ us at java.base@[^/]+/java.lang.Thread.sleepNanos0")
                .contains("\tat app//LoopProgram.blockTheLoop(LoopProgram.java:")
                .doesNotContain("worker-1");
    }

    /** A typo must not go unnoticed, nor stop an application that did not ask for that. */
    @Test
    void aBadOptionIsSaidOnceAndTheProgramRunsUnguarded() throws Exception {
        Run run = runProgram("threads=loop-.*,formt=json");

        assertThat(run.status()).as("%s", run).isZero();
        assertThat(run.stdout()).isEqualTo("done\n");
        assertThat(run.agentLines()).as("%s", run).singleElement().asString()
                .contains("not guarding this JVM: unknown option 'formt' (did you mean 'format'?)")
                .contains("add required=true");
        assertThat(run.stderr()).as("nothing but the one line").isEqualTo(run.agentLines().getFirst() + "\n");
    }

    @Test
    void withRequiredABadOptionStopsTheJvmBeforeMain() throws Exception {
        Run run = runProgram("threads=loop-.*,formt=json,required=true");

        assertThat(run.status()).as("%s", run).isEqualTo(64);
        assertThat(run.stdout()).as("main never ran").isEmpty();
        assertThat(run.stderr()).as("%s", run).isEqualTo(AGENT_LINE + "unknown option 'formt' (did you mean 'format'?); "
                + "options: " + AgentOptions.SYNTAX + "; required=true, so the JVM stops\n");
    }

    /**
     * The agent enables native access for its own module: a JVM given no flag prints no warning
     * of restricted methods (nor anything else: the calls go to a file), and is guarded.
     */
    @Test
    void withoutANativeAccessFlagTheJdkWarnsOfNothingAndTheLoopIsGuarded() throws Exception {
        Path calls = scratch.resolve("calls-without-flag.txt");
        Run run = runProgram(List.of(), "threads=loop-1,output=" + calls);

        assertThat(run.status()).as("%s", run).isZero();
        assertThat(run.stdout()).as("%s", run).isEqualTo("done\n");
        assertThat(run.stderr()).as("%s", run).isEmpty();
        assertThat(Files.readString(calls)).contains("blocking call on loop-1 (tid ")
                .contains("\tat app//LoopProgram.blockTheLoop(LoopProgram.java:");
    }

    /** The agent's JFR event class is its own module's, which JFR records as it does the class path's. */
    @Test
    void jfrRecordsTheAgentsEventsFromItsOwnModule() throws Exception {
        Path recording = scratch.resolve("agent.jfr");
        Run run = runProgram(List.of("-XX:StartFlightRecording:filename=" + recording, "-Xlog:jfr+startup=warning"),
                "threads=loop-1,jfr=true,output=" + scratch.resolve("calls-with-jfr.txt"));

        assertThat(run.status()).as("%s", run).isZero();
        assertThat(run.stderr()).as("%s", run).isEmpty();
        assertThat(RecordingFile.readAllEvents(recording))
                .filteredOn(event -> event.getEventType().getName().equals("dev.eventloopguardian.BlockingCall"))
                .isNotEmpty()
                .allSatisfy(event -> assertThat(event.getString("blockedThread")).isEqualTo("loop-1"));
    }

    /** LoopProgram with the agent, in a JVM that allows the class path native access, as the agent once needed. */
    private static Run runProgram(String agentOptions) throws IOException, InterruptedException {
        return runProgram(List.of("--enable-native-access=ALL-UNNAMED"), agentOptions);
    }

    private static Run runProgram(List<String> jvmOptions, String agentOptions) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow()));
        command.addAll(jvmOptions);
        command.addAll(List.of("-javaagent:" + agentJar + "=" + agentOptions, "-cp", programClasses.toString(), "LoopProgram"));
        return run(command, Map.of());
    }

    /** Runs {@code command} with {@code environment} added to ours, and waits for it. */
    static Run run(List<String> command, Map<String, String> environment) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().putAll(environment);
        Process process = builder.start();
        CompletableFuture<String> stdout = drain(process.getInputStream());
        CompletableFuture<String> stderr = drain(process.getErrorStream());
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("timed out: " + command + "\n" + stderr.getNow(""));
        }
        return new Run(process.exitValue(), stdout.join(), stderr.join());
    }

    private static CompletableFuture<String> drain(InputStream stream) {
        return CompletableFuture.supplyAsync(() -> {
            try (stream) {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "(unreadable: " + e + ")";
            }
        }, Thread.ofPlatform().daemon()::start);
    }
}
