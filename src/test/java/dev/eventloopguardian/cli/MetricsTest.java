package dev.eventloopguardian.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.eventloopguardian.sys.Linux;
import dev.eventloopguardian.testing.Guardian;
import dev.eventloopguardian.testing.KernelTest;
import dev.eventloopguardian.testing.PrometheusServer;
import dev.eventloopguardian.testing.Python;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.eventloopguardian.testing.Guardian.guardian;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code --metrics}: a real Prometheus server scrapes a session that guards a real asyncio
 * program, and its query API returns the counters with their labels.
 */
@KernelTest
class MetricsTest {
    private static final int SIGINT = 2;
    private static final int SIGTERM = 15;
    private static final Duration STARTED = Duration.ofSeconds(30);
    private static final Duration SCRAPED = Duration.ofSeconds(60);
    private static final String PYTHON = Python.executable();
    /** The kernel names a process after its executable's file, cut to 15 characters. */
    private static final String PYTHON_NAME = truncated(Path.of(PYTHON).getFileName().toString());
    private static final Pattern ADDRESS = Pattern.compile("metrics at http://([^/\\s]+)/metrics");


    private final List<Process> targets = new ArrayList<>();

    @AfterEach
    void stopTargets() {
        targets.forEach(Process::destroyForcibly);
    }

    @Test
    void prometheusScrapesAReportSessionGuardingAnAsyncioLoop(@TempDir Path scratch) throws Exception {
        Path events = scratch.resolve("events.jsonl");
        try (Guardian.Running session = guardian().start("--report", "--all-threads", "--metrics", "127.0.0.1:0",
                "--format", "json", "--output", events.toString(), PYTHON, "-c", Python.ASYNCIO_LOOP)) {
            String address = metricsAddress(session);
            try (PrometheusServer prometheus = PrometheusServer.scraping(address, scratch)) {
                JsonNode sleeps = prometheus.awaitSeries("eventloop_guardian_blocking_sleeps_total",
                        series -> label(series, "thread_pool").equals("event-loop-N") && value(series) > 0, SCRAPED);
                long commandPid = ProcessHandle.of(session.pid()).orElseThrow().children().findFirst().orElseThrow().pid();
                assertThat(label(sleeps, "process")).isEqualTo(PYTHON_NAME);
                assertThat(label(sleeps, "pid")).isEqualTo(Long.toString(commandPid));
                assertThat(label(sleeps, "syscall")).isEqualTo("clock_nanosleep");
                assertThat(label(sleeps, "kind")).isEqualTo("syscall");
                assertThat(sleeps.path("metric").has("container")).as("Prometheus drops an empty label: no container here")
                        .isEqualTo(!label(sleeps, "container").isEmpty());

                JsonNode blocked = prometheus.awaitSeries("eventloop_guardian_blocked_seconds_bucket{le=\"0.1\"}",
                        series -> label(series, "thread_pool").equals("event-loop-N") && value(series) > 0, SCRAPED);
                assertThat(label(blocked, "syscall")).isEqualTo("clock_nanosleep");
                assertThat(value(prometheus.query("eventloop_guardian_blocked_seconds_bucket{le=\"0.01\","
                        + "thread_pool=\"event-loop-N\"}").get(0))).as("each sleep is 20 ms").isZero();
                assertThat(value(prometheus.query("eventloop_guardian_guard_attached").get(0))).isEqualTo(1);
                assertThat(value(prometheus.query("eventloop_guardian_guarded_threads").get(0)))
                        .as("the main thread and the loop's").isGreaterThanOrEqualTo(2);
                assertThat(prometheus.query("eventloop_guardian_dropped_events_total")).hasSize(1);
            }
            Linux.kill((int) session.pid(), SIGTERM); // passed on to COMMAND, whose end ends the session
            Guardian.Result result = session.result();
            assertThat(result.status()).as(result.toString()).isEqualTo(128 + SIGTERM);
            assertPortClosed(address);
        }
    }

    @Test
    void attachServesTheSameMetricsForARunningProcess(@TempDir Path scratch) throws Exception {
        Process target = new ProcessBuilder(PYTHON, "-c", Python.ASYNCIO_LOOP).inheritIO().start();
        targets.add(target);
        try (Guardian.Running session = guardian().start("attach", "--pid", Long.toString(target.pid()),
                "--metrics", "127.0.0.1:0", "--format", "json", "--output", scratch.resolve("events.jsonl").toString())) {
            session.awaitStderr("attached to pid " + target.pid(), STARTED);
            String address = metricsAddress(session);
            try (PrometheusServer prometheus = PrometheusServer.scraping(address, scratch)) {
                JsonNode sleeps = prometheus.awaitSeries("eventloop_guardian_blocking_sleeps_total",
                        series -> label(series, "pid").equals(Long.toString(target.pid())) && value(series) > 0, SCRAPED);
                assertThat(label(sleeps, "process")).isEqualTo(PYTHON_NAME);
                assertThat(label(sleeps, "thread_pool")).isEqualTo("event-loop-N");
                assertThat(label(sleeps, "syscall")).isEqualTo("clock_nanosleep");
            }
            Linux.kill((int) session.pid(), SIGINT); // Ctrl-C: detaches
            Guardian.Result result = session.result();
            assertThat(result.status()).as(result.toString()).isZero();
            assertPortClosed(address);
        }
        assertThat(target.isAlive()).as("attach leaves its process running").isTrue();
    }

    @Test
    void aPortInUseIsAUsageErrorAndNothingRuns(@TempDir Path scratch) throws Exception {
        Path ran = scratch.resolve("ran");
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String address = "127.0.0.1:" + taken.getLocalPort();
            Guardian.Result result = guardian().run("--report", "--metrics", address, "touch", ran.toString());
            assertThat(result.status()).as(result.toString()).isEqualTo(ExitCodes.USAGE);
            assertThat(result.stderr()).as(result.toString())
                    .contains("--metrics " + address + ": cannot listen on " + address + ": Address already in use")
                    .contains("give another port, or port 0 for a free one (--metrics 127.0.0.1:0)");
        }
        assertThat(ran).as("COMMAND never ran").doesNotExist();

        // Bound, not connected to: no packet leaves for the documentation range (RFC 5737).
        Guardian.Result elsewhere = guardian().run("--report", "--metrics", "192.0.2.1:9464", "touch", ran.toString());
        assertThat(elsewhere.status()).as(elsewhere.toString()).isEqualTo(ExitCodes.USAGE);
        assertThat(elsewhere.stderr()).contains("cannot listen on 192.0.2.1:9464",
                "give an address of this machine (--metrics 127.0.0.1:9464, or 0.0.0.0:9464 for every interface)");

        assertThat(ran).doesNotExist();
    }

    @Test
    void aGuardOrAReportThatAsksForNoMetricsLoadsNoClassOfThem(@TempDir Path scratch) throws Exception {
        assertThat(Guardian.loadedClasses(scratch.resolve("guard.log"), "true")).as("a plain guard")
                .anyMatch(line -> line.contains("dev.eventloopguardian.cli.Main "))
                .noneMatch(MetricsTest::isMetricsClass);
        assertThat(Guardian.loadedClasses(scratch.resolve("report.log"), "--report", "true")).as("a report without --metrics")
                .anyMatch(line -> line.contains("dev.eventloopguardian.report.Reporter "))
                .noneMatch(MetricsTest::isMetricsClass);
    }

    private static boolean isMetricsClass(String loaded) {
        return loaded.contains(" dev.eventloopguardian.metrics.") || loaded.contains(" io.prometheus.");
    }

    /** Where the session says it serves its metrics: {@code HOST:PORT}. */
    private static String metricsAddress(Guardian.Running session) {
        session.awaitStderr("metrics at http://", STARTED);
        Matcher matcher = ADDRESS.matcher(session.stderrSoFar());
        assertThat(matcher.find()).as(session.stderrSoFar()).isTrue();
        return matcher.group(1);
    }

    private static void assertPortClosed(String address) {
        int colon = address.lastIndexOf(':');
        assertThatThrownBy(() -> new Socket(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1))).close())
                .as("the metrics server stops with the session").isInstanceOf(ConnectException.class);
    }

    private static String label(JsonNode series, String name) {
        return series.path("metric").path(name).asText();
    }

    private static double value(JsonNode series) {
        return Double.parseDouble(series.path("value").get(1).asText());
    }

    private static String truncated(String name) {
        return name.length() > 15 ? name.substring(0, 15) : name;
    }
}
