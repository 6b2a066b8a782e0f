package dev.eventloopguardian.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.opentest4j.TestAbortedException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A real Prometheus server (Debian's {@code prometheus}, run from its binary rather than as the
 * package's service) that scrapes one target every second, with its storage and configuration in a
 * scratch directory, listening on loopback only. Closing it stops it.
 */
public final class PrometheusServer implements AutoCloseable {
    private static final Path BINARY = Path.of("/usr/bin/prometheus");
    private static final Duration READY = Duration.ofSeconds(60);

    private final Process process;
    private final URI api;
    private final Path log;
    private final HttpClient http = HttpClient.newHttpClient();

    private PrometheusServer(Process process, URI api, Path log) {
        this.process = process;
        this.api = api;
        this.log = log;
    }

    /**
     * The binary, or a skip where it is not installed; a failure instead where kernel tests are
     * required (CI, which installs it).
     */
    public static Path binary() {
        if (Files.isExecutable(BINARY)) {
            return BINARY;
        }
        String reason = "no Prometheus server at " + BINARY + ": apt-get install prometheus";
        if ("1".equals(System.getenv("EVENTLOOP_GUARDIAN_REQUIRE_KERNEL"))) {
            throw new AssertionError(reason + " (EVENTLOOP_GUARDIAN_REQUIRE_KERNEL=1 says this test must run)");
        }
        System.err.println("SKIPPED " + reason);
        throw new TestAbortedException(reason);
    }

    /** Starts Prometheus in {@code scratch}, scraping {@code target} ({@code HOST:PORT}) every second. */
    public static PrometheusServer scraping(String target, Path scratch) throws IOException, InterruptedException {
        Path binary = binary();
        Path config = Files.writeString(scratch.resolve("prometheus.yml"), String.join("\n",
                "global:",
                "  scrape_interval: 1s",
                "  scrape_timeout: 1s",
                "scrape_configs:",
                "  - job_name: eventloop-guardian",
                "    static_configs:",
                "      - targets: ['" + target + "']",
                ""));
        int port = freePort();
        Path log = scratch.resolve("prometheus.log");
        Process process = new ProcessBuilder(binary.toString(), "--config.file=" + config,
                "--storage.tsdb.path=" + scratch.resolve("data"), "--web.listen-address=127.0.0.1:" + port)
                .directory(scratch.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        PrometheusServer server = new PrometheusServer(process, URI.create("http://127.0.0.1:" + port), log);
        try {
            server.awaitReady();
            return server;
        } catch (IOException | InterruptedException | RuntimeException | AssertionError e) {
            server.close();
            throw e;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0)) {
            return probe.getLocalPort();
        }
    }

    private void awaitReady() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + READY.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("prometheus exited with status " + process.exitValue() + ":\n" + log());
            }
            try {
                if (http.send(HttpRequest.newBuilder(api.resolve("/-/ready")).build(), HttpResponse.BodyHandlers.discarding())
                        .statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError("prometheus was not ready within " + READY + ":\n" + log());
    }

    /**
     * Queries until the result (the API's {@code data.result}, a list of series with their
     * {@code metric} labels and {@code value}) has a series that {@code wanted} accepts; returns
     * that series. Fails with the last result and Prometheus's log after {@code timeout}.
     */
    public JsonNode awaitSeries(String query, Predicate<JsonNode> wanted, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode result = null;
        while (System.nanoTime() < deadline) {
            result = query(query);
            for (JsonNode series : result) {
                if (wanted.test(series)) {
                    return series;
                }
            }
            Thread.sleep(250);
        }
        throw new AssertionError("no series of " + query + " as wanted within " + timeout + "; last result: " + result
                + "\nscrape targets: " + get("/api/v1/targets") + "\nprometheus log:\n" + log());
    }

    /** The API's {@code data.result} for an instant query. */
    public JsonNode query(String query) throws IOException, InterruptedException {
        JsonNode answer = new ObjectMapper().readTree(get("/api/v1/query?query=" + URLEncoder.encode(query, StandardCharsets.UTF_8)));
        if (!"success".equals(answer.path("status").asText())) {
            throw new AssertionError("query " + query + " failed: " + answer);
        }
        return answer.path("data").path("result");
    }

    private String get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(api.resolve(path)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    private String log() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        http.close();
    }
}
