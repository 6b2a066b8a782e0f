package dev.eventloopguardian.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.eventloopguardian.sys.Linux;
import dev.eventloopguardian.testing.Guardian;
import dev.eventloopguardian.testing.HeldObjects;
import dev.eventloopguardian.testing.KernelTest;
import dev.eventloopguardian.testing.PrometheusServer;
import dev.eventloopguardian.testing.Python;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.eventloopguardian.testing.Guardian.guardian;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code watch} on this host: real processes it never attaches to (asyncio loops, a Vert.x
 * server), some started before it and some after, scraped by a real Prometheus; its rules
 * reloaded at HUP; a storm in one process that does not crowd out another's events; and TERM,
 * after which nothing of it is left in the kernel.
 */
@KernelTest
class WatchTest {
    private static final int SIGHUP = 1;
    private static final int SIGTERM = 15;
    private static final Duration STARTED = Duration.ofSeconds(30);
    private static final Duration SCRAPED = Duration.ofSeconds(60);
    private static final String PYTHON = Python.executable();
    private static final Pattern ADDRESS = Pattern.compile("metrics at http://([^/\\s]+)/metrics");
    private static final ObjectMapper JSON = new ObjectMapper();


    private static final String RULES = String.join("\n",
            "[[rule]]",
            "name = \"asyncio\"",
            "executables = [\"python3*\"]",
            "threads = [\"event-loop-*\"]",
            "",
            "[[rule]]",
            "name = \"vertx\"",
            "executables = [\"java\"]",
            "threads = [\"vert.x-eventloo*\"]",
            "");

    private final List<Process> targets = new ArrayList<>();
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void stopTargets() {
        targets.forEach(Process::destroyForcibly);
    }

    private Process start(List<String> command) throws IOException {
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        targets.add(process);
        return process;
    }

    private Process asyncio() throws IOException {
        return start(List.of(PYTHON, "-c", Python.ASYNCIO_LOOP));
    }

    /** The Vert.x server of the JVM tests, as its user would start it; returns it with its port. */
    private record Server(Process process, int port) {
    }

    private Server vertxServer(Path scratch) throws IOException {
        Process process = start(List.of(ProcessHandle.current().info().command().orElseThrow(), "--enable-native-access=ALL-UNNAMED",
                "-Xmx256m", "-cp", System.getProperty("java.class.path"), "dev.eventloopguardian.jvm.BlockingHttpServer", "VERTX",
                scratch.toString()));
        String line = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)).readLine();
        assertThat(line).as("the server's first line").startsWith("port ");
        return new Server(process, Integer.parseInt(line.substring("port ".length())));
    }

    @Test
    void prometheusScrapesTheWatchOfAsyncioLoopsAndAJvmStartedBeforeAndAfterIt(@TempDir Path scratch) throws Exception {
        Path config = Files.writeString(scratch.resolve("watch.toml"), RULES);
        Path events = scratch.resolve("events.jsonl");
        Process before = asyncio();
        try (Guardian.Running watch = guardian().start("watch", "--config", config.toString(), "--metrics", "127.0.0.1:0",
                "--format", "json", "--output", events.toString())) {
            watch.awaitStderr("watching the host", STARTED);
            Process after = asyncio();
            Server jvm = vertxServer(scratch);
            String address = metricsAddress(watch);
            try (PrometheusServer prometheus = PrometheusServer.scraping(address, scratch)) {
                for (int i = 0; i < 3; i++) {
                    get(jvm.port(), "/native-sleep"); // the handler sleeps 150 ms in clock_nanosleep, on the loop
                }
                for (Process python : List.of(before, after)) {
                    JsonNode sleeps = prometheus.awaitSeries("eventloop_guardian_blocking_sleeps_total",
                            series -> label(series, "pid").equals(Long.toString(python.pid())) && value(series) > 0, SCRAPED);
                    assertThat(label(sleeps, "thread_pool")).isEqualTo("event-loop-N");
                    assertThat(label(sleeps, "process")).startsWith("python3");
                    assertThat(label(sleeps, "syscall")).isEqualTo("clock_nanosleep");
                }
                JsonNode jvmSleeps = prometheus.awaitSeries("eventloop_guardian_blocking_sleeps_total",
                        series -> label(series, "pid").equals(Long.toString(jvm.process().pid())) && value(series) > 0, SCRAPED);
                assertThat(label(jvmSleeps, "process")).isEqualTo("java");
                assertThat(label(jvmSleeps, "thread_pool")).startsWith("vert.x-eventloo");
                assertThat(label(jvmSleeps, "syscall")).isEqualTo("clock_nanosleep");
                assertThat(value(prometheus.query("eventloop_guardian_guarded_processes").get(0)))
                        .as("the three, at least").isGreaterThanOrEqualTo(3);
            }
            List<JsonNode> reported = read(events);
            assertThat(reported).as("each event says who it belongs to").anySatisfy(event -> {
                assertThat(event.path("pid").asLong()).isEqualTo(after.pid());
                assertThat(event.path("rule").asText()).isEqualTo("asyncio");
                assertThat(event.path("cmdline").asText()).startsWith(PYTHON + " -c import asyncio");
                assertThat(event.path("exe").asText()).contains("python3");
                assertThat(event.path("cgroup").asText()).startsWith("/");
            });
            assertThat(reported).anySatisfy(event -> {
                assertThat(event.path("pid").asLong()).isEqualTo(jvm.process().pid());
                assertThat(event.path("rule").asText()).isEqualTo("vertx");
                assertThat(event.path("user_stack").toString()).contains("clock_nanosleep");
            });
            assertThat(reported).as("nothing but the loops").allSatisfy(event ->
                    assertThat(event.path("thread").asText()).matches("event-loop-1|vert\\.x-eventloo.*"));

            HeldObjects held = HeldObjects.of(watch.pid());
            assertThat(held.programIds()).as("the watch's three programs").hasSizeGreaterThanOrEqualTo(3);
            Linux.kill((int) watch.pid(), SIGTERM);
            Guardian.Result result = watch.result();
            assertThat(result.status()).as(result.toString()).isZero();
            assertThat(result.stderr()).contains("SIGTERM: stopped watching");
            assertThat(held.stillInTheKernel()).as("programs and maps left in the kernel").isEmpty();
        }
    }

    @Test
    void hangUpReadsTheRulesAgainKeepsTheOldOnesWhenTheNewCannotBeReadAndTheEndWritesThePage(@TempDir Path scratch) throws Exception {
        Path config = Files.writeString(scratch.resolve("watch.toml"), "[[rule]]\nname = \"none\"\nexecutables = [\"no-such-program\"]\n");
        Path events = scratch.resolve("events.jsonl");
        Process python = asyncio();
        Path page = scratch.resolve("watch.html");
        try (Guardian.Running watch = guardian().start("watch", "--config", config.toString(), "--format", "json",
                "--output", events.toString(), "--html", page.toString())) {
            watch.awaitStderr("watching the host: 1 rule (none)", STARTED);
            Thread.sleep(500);
            assertThat(eventsOf(events, python.pid())).as("no rule selects it yet").isZero();

            Files.writeString(config, RULES);
            Linux.kill((int) watch.pid(), SIGHUP);
            watch.awaitStderr("SIGHUP: rules read again: 2 rules", STARTED);
            awaitEvents(events, python.pid(), 3);

            Files.writeString(config, "[[rule]]\nname = \"typo\"\nexecutabels = [\"python3*\"]\n");
            Linux.kill((int) watch.pid(), SIGHUP);
            watch.awaitStderr("SIGHUP: the rules were not replaced, the old ones stay", STARTED);
            assertThat(watch.stderrSoFar()).contains("Unrecognized field \"executabels\"");
            long counted = eventsOf(events, python.pid());
            awaitEvents(events, python.pid(), counted + 3);

            Linux.kill((int) watch.pid(), SIGTERM);
            Guardian.Result result = watch.result();
            assertThat(result.status()).as(result.toString()).isZero();
            assertThat(result.stderr()).as("the summary counts every event, before and after the reloads")
                    .contains("summary: " + read(events).size() + " blocking sleep");
            assertThat(Files.readString(page)).as("the page at the end, with the loop's frames")
                    .startsWith("<!DOCTYPE html>").contains("clock_nanosleep");
        }
    }

    @Test
    void aStormInOneProcessDoesNotCrowdOutTheEventsOfAnother(@TempDir Path scratch) throws Exception {
        Path events = scratch.resolve("events.jsonl");
        String storm = "import time\nend = time.time() + 3\nwhile time.time() < end:\n    time.sleep(0.00005)\n";
        String quiet = "import sys, time\nsys.stdin.readline()\nfor _ in range(20):\n    time.sleep(0.02)\n    sum(range(20000))\n";
        try (Guardian.Running watch = guardian().start("watch", "--exe", "python3*", "--events-per-second", "200",
                "--format", "json", "--output", events.toString())) {
            watch.awaitStderr("watching the host", STARTED);
            Process stormy = start(List.of(PYTHON, "-c", storm));
            Process calm = start(List.of(PYTHON, "-c", quiet));
            Thread.sleep(300); // the rescan or the exec has given both their rules
            calm.getOutputStream().write('\n');
            calm.getOutputStream().flush();
            assertThat(stormy.waitFor()).isZero();
            assertThat(calm.waitFor()).isZero();
            Thread.sleep(1_500);
            Linux.kill((int) watch.pid(), SIGTERM);
            Guardian.Result result = watch.result();
            assertThat(result.status()).as(result.toString()).isZero();

            long calmEvents = read(events).stream().filter(event -> event.path("pid").asLong() == calm.pid()
                    && event.path("syscall").asText().equals("clock_nanosleep")).count();
            long stormEvents = eventsOf(events, stormy.pid());
            assertThat(calmEvents).as("every sleep of the calm process").isEqualTo(20);
            assertThat(stormEvents).as("the storm within its budget: 200 a second for 3 s, and a window's edge")
                    .isBetween(200L, 1_000L);
            assertThat(result.stderr()).as("the storm's sleeps past its budget, counted")
                    .containsPattern("counted and not written: \\{.*" + stormy.pid() + "=\\d{3,}");
            assertThat(result.stderr()).contains(", 0 dropped");
        }
    }

    private void get(int port, String path) throws IOException, InterruptedException {
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(path).isEqualTo(200);
    }

    private static List<JsonNode> read(Path events) throws IOException {
        List<JsonNode> nodes = new ArrayList<>();
        if (Files.exists(events)) {
            for (String line : Files.readAllLines(events)) {
                if (line.endsWith("}")) {
                    JsonNode node = JSON.readTree(line);
                    if (node.path("schema").asText().startsWith("eventloop-guardian/blocking-event/")) {
                        nodes.add(node);
                    }
                }
            }
        }
        return nodes;
    }

    private static long eventsOf(Path events, long pid) throws IOException {
        return read(events).stream().filter(event -> event.path("pid").asLong() == pid).count();
    }

    private static void awaitEvents(Path events, long pid, long atLeast) throws Exception {
        long deadline = System.nanoTime() + STARTED.toNanos();
        while (eventsOf(events, pid) < atLeast && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(eventsOf(events, pid)).as("events of pid %d", pid).isGreaterThanOrEqualTo(atLeast);
    }

    private static String metricsAddress(Guardian.Running session) {
        session.awaitStderr("metrics at http://", STARTED);
        Matcher matcher = ADDRESS.matcher(session.stderrSoFar());
        assertThat(matcher.find()).as(session.stderrSoFar()).isTrue();
        return matcher.group(1);
    }

    private static String label(JsonNode series, String name) {
        return series.path("metric").path(name).asText();
    }

    private static double value(JsonNode series) {
        return Double.parseDouble(series.path("value").get(1).asText());
    }
}
