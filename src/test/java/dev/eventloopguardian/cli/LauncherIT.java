package dev.eventloopguardian.cli;

import dev.eventloopguardian.testing.KernelTest;
import dev.eventloopguardian.testing.Python;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The entry point users run: the {@code ./eventloop-guardian} launcher on the packaged jar.
 * Runs after {@code package}, so the launcher finds a fresh jar and builds nothing.
 */
class LauncherIT {
    private static final Path LAUNCHER = Path.of("eventloop-guardian").toAbsolutePath();

    private record Run(int status, String output, long millis) {
    }

    private static Run launch(Map<String, String> environment, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(LAUNCHER.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(environment);
        long started = System.nanoTime();
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return new Run(process.exitValue(), output, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    }

    @Test
    void findsAJdk25EvenWhenJavaHomeAndPathPointAtAnOlderOne() throws Exception {
        Run run = launch(Map.of("JAVA_HOME", "/usr/lib/jvm/java-17-openjdk-amd64", "PATH", "/usr/lib/jvm/java-17-openjdk-amd64/bin:"
                + System.getenv("PATH")), "--version");
        assertThat(run.status()).as(run.output()).isZero();
        assertThat(run.output()).contains("eventloop-guardian ").containsPattern("Java (2[5-9]|[3-9][0-9])");
    }

    @Test
    @KernelTest
    void saysWhichJdkIsMissingWhenThereIsNoJdk25(@TempDir Path empty) throws Exception {
        Path jdk = Path.of(ProcessHandle.current().info().command().orElseThrow()).getParent().getParent();
        // Hide this JDK in a private mount namespace: the launcher must then find none and say so.
        List<String> command = List.of("unshare", "--mount", "sh", "-c",
                "mount --bind \"$1\" \"$2\" && exec \"$3\" --version", "sh", empty.toString(), jdk.toString(),
                LAUNCHER.toString());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(output).isEqualTo(69);
        assertThat(output).contains("needs a JDK 25 or newer", "JAVA_HOME");
    }

    @Test
    @KernelTest
    void putsThePrometheusClientBesideTheJarOnTheClassPathOfASessionThatAsksForMetrics() throws Exception {
        Run served = launch(Map.of(), "--report", "--metrics", "127.0.0.1:0", "true");
        assertThat(served.status()).as(served.output()).isZero();
        assertThat(served.output()).containsPattern("metrics at http://127\\.0\\.0\\.1:[1-9][0-9]*/metrics");

        // The jar alone, which is also the agent, does not carry the client: run so, --metrics says what to do.
        List<String> jarAlone = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--enable-native-access=ALL-UNNAMED", "-jar", Path.of("target", "eventloop-guardian.jar").toString(),
                "--report", "--metrics", "127.0.0.1:0", "true"));
        Process process = new ProcessBuilder(jarAlone).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(output).isEqualTo(ExitCodes.UNSUPPORTED);
        assertThat(output).contains("--metrics needs the Prometheus client", "run ./eventloop-guardian");
    }

    @Test
    @KernelTest
    void runsTheSeedsFirstExampleAndPrintsLaunchTime() throws Exception {
        String python = Python.executable();
        launch(Map.of(), "--dry-run", "true"); // first run may write the AOT cache; time the ones after
        Run blocked = launch(Map.of(), python, "-c", "import time; time.sleep(0.1)");
        assertThat(blocked.status()).as(blocked.output()).isEqualTo(128 + 6);

        List<Long> times = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            Run run = launch(Map.of(), "/bin/true");
            assertThat(run.status()).as(run.output()).isZero();
            times.add(run.millis());
        }
        times.sort(null);
        System.out.println("launcher start to exit of /bin/true, 5 runs, ms: " + times + " (median " + times.get(2) + ")");
    }
}
