package dev.eventloopguardian.jvm;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.eventloopguardian.testing.KernelTest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarInputStream;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The agent in a fresh JVM, as users run it: {@code java -javaagent:JAR=OPTIONS} on a program that
 * knows nothing of it. The jar is made here from this build's classes and jackson-core, with the
 * manifest entries the product jar has: surefire runs before the product jar is packaged.
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
    private static final String AGENT_LINE = "eventloop-guardian agent: ";

    @TempDir
    static Path scratch;
    private static Path agentJar;
    private static Path programClasses;

    private record Run(int status, String stdout, String stderr) {
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
        agentJar = agentJar(scratch.resolve("agent.jar"));
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

    private static Run runProgram(String agentOptions) throws IOException, InterruptedException {
        List<String> command = List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--enable-native-access=ALL-UNNAMED", "-javaagent:" + agentJar + "=" + agentOptions,
                "-cp", programClasses.toString(), "LoopProgram");
        Process process = new ProcessBuilder(command).start();
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

    /** This build's classes and jackson-core's, in one jar whose manifest names the agent, as the product jar's does. */
    private static Path agentJar(Path jar) throws IOException {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().putValue("Premain-Class", Agent.class.getName());
        manifest.getMainAttributes().putValue("Agent-Class", Agent.class.getName());
        Set<String> written = new HashSet<>();
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
            copyDirectory(codeSource(Agent.class), out, written);
            copyClassesOfJar(codeSource(JsonFactory.class), out, written);
        }
        return jar;
    }

    private static void copyDirectory(Path classes, JarOutputStream out, Set<String> written) throws IOException {
        try (Stream<Path> files = Files.walk(classes)) {
            for (Path file : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                try (InputStream in = Files.newInputStream(file)) {
                    add(classes.relativize(file).toString(), in, out, written);
                }
            }
        }
    }

    private static void copyClassesOfJar(Path source, JarOutputStream out, Set<String> written) throws IOException {
        try (JarInputStream in = new JarInputStream(Files.newInputStream(source))) {
            for (JarEntry entry; (entry = in.getNextJarEntry()) != null; ) {
                if (!entry.isDirectory() && entry.getName().endsWith(".class") && !entry.getName().contains("module-info")) {
                    add(entry.getName(), in, out, written);
                }
            }
        }
    }

    private static void add(String name, InputStream content, JarOutputStream out, Set<String> written) throws IOException {
        if (name.equals(JarFile.MANIFEST_NAME) || !written.add(name)) {
            return;
        }
        out.putNextEntry(new JarEntry(name));
        content.transferTo(out);
        out.closeEntry();
    }

    private static Path codeSource(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }
}
