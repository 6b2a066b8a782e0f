package dev.eventloopguardian.jvm;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.eventloopguardian.testing.KernelTest;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.ToolProvider;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import static dev.eventloopguardian.jvm.AgentTest.AGENT_LINE;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The product jar as the agent of any JVM, as it is once {@code -javaagent} is in
 * {@code JAVA_TOOL_OPTIONS}: a JVM older than 25 (a build tool's) is told so in one line and runs
 * on, and a JDK 25 given no flag is guarded without a word on stderr. Runs after {@code package},
 * on the jar users get (shaded, its manifest from the POM).
 */
class AgentOnAnyJvmIT {
    private static final Path PRODUCT_JAR = Path.of("target", "eventloop-guardian.jar").toAbsolutePath();
    private static final String REQUIRE = "EVENTLOOP_GUARDIAN_REQUIRE_KERNEL";
    /** For Java 8 and up; a thread named like an event loop sleeps in steps, so that the agent finds it in time. */
    private static final String PROGRAM = """
            public class AnyJvmProgram {
                public static void main(String[] args) throws InterruptedException {
                    Thread loop = new Thread(AnyJvmProgram::sleepSixTimes, "loop-1");
                    loop.start();
                    loop.join();
                    System.out.println("main ran");
                }

                private static void sleepSixTimes() {
                    try {
                        for (int i = 0; i < 6; i++) {
                            Thread.sleep(50);
                        }
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                }
            }
            """;

    /** A JVM under /usr/lib/jvm: its home (as its {@code java.home} says it), its {@code java.version} and feature release. */
    private record Jvm(Path home, String version, int feature) {
        String java() {
            return home.resolve("bin").resolve("java").toString();
        }

        /** The JVM installed at {@code home}, as its {@code release} file says. */
        static Optional<Jvm> at(Path home) {
            Path release = home.resolve("release");
            if (!Files.isExecutable(home.resolve("bin").resolve("java")) || !Files.isReadable(release)) {
                return Optional.empty();
            }
            try (Stream<String> lines = Files.lines(release)) {
                return lines.filter(line -> line.startsWith("JAVA_VERSION=")).findFirst()
                        .map(line -> line.substring("JAVA_VERSION=".length()).replace("\"", ""))
                        .map(version -> new Jvm(home, version, version.startsWith("1.")
                                ? Integer.parseInt(version.split("\\.")[1]) : Runtime.Version.parse(version).feature()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    @TempDir
    static Path scratch;
    private static Path programClasses;
    private static Optional<Jvm> olderJvm;

    @BeforeAll
    static void compileTheProgramAndFindAnOlderJvm() throws IOException {
        assertThat(PRODUCT_JAR).as("the packaged jar").isRegularFile();
        programClasses = Files.createDirectories(scratch.resolve("program"));
        Path source = Files.writeString(scratch.resolve("AnyJvmProgram.java"), PROGRAM);
        int status = ToolProvider.getSystemJavaCompiler().run(null, null, null, "--release", "8", "-Xlint:-options",
                "-d", programClasses.toString(), source.toString());
        assertThat(status).as("javac --release 8 AnyJvmProgram.java").isZero();
        try (Stream<Path> homes = Files.list(Path.of("/usr/lib/jvm"))) {
            List<Path> distinct = homes.map(AgentOnAnyJvmIT::realPath).distinct().toList();
            olderJvm = distinct.stream().map(Jvm::at).flatMap(Optional::stream)
                    .filter(jvm -> jvm.feature() < 25)
                    .min(Comparator.comparingInt(Jvm::feature));
        }
    }

    @Test
    void anOlderJvmSaysOnceThatTheAgentCannotGuardItAndRunsMain() throws Exception {
        Jvm jvm = olderJvm();
        AgentTest.Run run = runOn(jvm, List.of("-javaagent:" + PRODUCT_JAR + "=threads=x"), Map.of());

        assertThat(run.status()).as("%s", run).isZero();
        assertThat(run.stdout()).as("%s", run).isEqualTo("main ran\n");
        assertThat(run.stderr()).as("%s", run).isEqualTo(AGENT_LINE + "not guarding this JVM: " + tooOld(jvm)
                + " (the application runs unguarded; add required=true to stop it instead)\n");
    }

    /** How every JVM a command starts gets the agent: HotSpot's own line, then ours. */
    @Test
    void anOlderJvmGivenTheAgentInJavaToolOptionsRunsMainToo() throws Exception {
        Jvm jvm = olderJvm();
        String options = "-javaagent:" + PRODUCT_JAR + "=threads=x";
        AgentTest.Run run = runOn(jvm, List.of(), Map.of("JAVA_TOOL_OPTIONS", options));

        assertThat(run.status()).as("%s", run).isZero();
        assertThat(run.stdout()).as("%s", run).isEqualTo("main ran\n");
        assertThat(run.stderr()).as("%s", run).isEqualTo("Picked up JAVA_TOOL_OPTIONS: " + options + "\n"
                + AGENT_LINE + "not guarding this JVM: " + tooOld(jvm)
                + " (the application runs unguarded; add required=true to stop it instead)\n");
    }

    @Test
    void withRequiredAnOlderJvmStopsBeforeMain() throws Exception {
        Jvm jvm = olderJvm();
        AgentTest.Run run = runOn(jvm, List.of("-javaagent:" + PRODUCT_JAR + "=threads=x,required=true"), Map.of());

        assertThat(run.status()).as("%s", run).isEqualTo(69);
        assertThat(run.stdout()).as("main never ran").isEmpty();
        assertThat(run.stderr()).as("%s", run).isEqualTo(AGENT_LINE + tooOld(jvm) + "; required=true, so the JVM stops\n");
    }

    /**
     * The agent needs no {@code --enable-native-access}: it enables native access for its own
     * module, and the JDK prints no warning. JSON lines also show that the shaded jackson-core
     * works from the agent's module.
     */
    @Test
    @KernelTest
    void aJdk25GivenNoFlagIsGuardedWithoutAWordOnStderr() throws Exception {
        Path calls = scratch.resolve("calls.jsonl");
        Jvm jdk = new Jvm(Path.of(System.getProperty("java.home")), System.getProperty("java.version"), Runtime.version().feature());
        AgentTest.Run run = runOn(jdk, List.of("-javaagent:" + PRODUCT_JAR + "=threads=loop-1,format=json,output=" + calls), Map.of());

        assertThat(run.status()).as("%s", run).isZero();
        assertThat(run.stdout()).as("%s", run).isEqualTo("main ran\n");
        assertThat(run.stderr()).as("%s", run).isEmpty();
        ObjectMapper json = new ObjectMapper();
        assertThat(Files.readAllLines(calls)).isNotEmpty().allSatisfy(line -> {
            assertThat(json.readTree(line).get("thread").asText()).isEqualTo("loop-1");
            assertThat(json.readTree(line).get("java_stack").toString()).contains("AnyJvmProgram.sleepSixTimes");
        });
    }

    private static AgentTest.Run runOn(Jvm jvm, List<String> jvmOptions, Map<String, String> environment)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(jvm.java()));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", programClasses.toString(), "AnyJvmProgram"));
        return AgentTest.run(command, environment);
    }

    /** The oldest JVM under /usr/lib/jvm older than 25; a skip where there is none, a failure where CI says there must be. */
    private static Jvm olderJvm() {
        if (olderJvm.isEmpty()) {
            String reason = "no JVM older than Java 25 under /usr/lib/jvm to load the agent into (apt-get install openjdk-17-jre-headless)";
            if ("1".equals(System.getenv(REQUIRE))) {
                throw new AssertionError(reason + ", and " + REQUIRE + "=1 says these tests must run");
            }
            Assumptions.abort(reason);
        }
        return olderJvm.get();
    }

    private static String tooOld(Jvm jvm) {
        return "Java " + jvm.version() + " (" + jvm.home() + ") is too old for the agent, which needs Java 25 or newer";
    }

    private static Path realPath(Path path) {
        try {
            return path.toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
