package dev.eventloopguardian.cli;

import dev.eventloopguardian.testing.Guardian;
import dev.eventloopguardian.testing.KernelTest;
import dev.eventloopguardian.testing.OtlpReceiver;
import dev.eventloopguardian.testing.Python;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
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
 * {@code --otlp} as users run it: the launcher on the packaged jar, with the OpenTelemetry SDK
 * beside it, guards a real Python program that blocks, and a real OTLP/HTTP receiver (the
 * Collector's protocol, decoded with the published OTLP classes: the Collector itself is not
 * packaged where we install from) gets a log record for each sleep, with its kernel and user
 * stacks, and the counter of them. Runs after packaging: the launcher takes the SDK from target/lib.
 */
@KernelTest
class OtlpIT {
    private static final Path LAUNCHER = Path.of("eventloop-guardian").toAbsolutePath();
    private static final String PYTHON = Python.executable();
    /** The kernel names a process after its executable's file, cut to 15 characters. */
    private static final String PYTHON_NAME = truncated(Path.of(PYTHON).getFileName().toString());
    /** Two sleeps: the first ends while the thread lives on, so its record has its length. */
    private static final String PROGRAM = "import time; time.sleep(0.05); time.sleep(0.01); print('done')";

    private record Run(int status, String stdout, String stderr, long millis) {
        @Override
        public String toString() {
            return "exit status " + status + " after " + millis + " ms\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
        }
    }

    private static Run launch(Map<String, String> environment, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(LAUNCHER.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().putAll(environment);
        long started = System.nanoTime();
        Process process = builder.start();
        CompletableFuture<String> stderr = CompletableFuture.supplyAsync(() -> read(process.getErrorStream()),
                Thread.ofPlatform().daemon()::start);
        String stdout = read(process.getInputStream());
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return new Run(process.exitValue(), stdout, stderr.join(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    }

    private static String read(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void aReceiverGetsEachBlockingSleepWithItsStacksAndTheCounterOfThem() throws Exception {
        try (OtlpReceiver receiver = OtlpReceiver.start()) {
            // With --metrics too: the session tells both.
            Run run = launch(Map.of("OTEL_SERVICE_NAME", "otlp-it", "OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer it-token"),
                    "--report", "--metrics", "127.0.0.1:0", "--otlp", receiver.endpoint(), "--output", "/dev/null",
                    PYTHON, "-c", PROGRAM);
            System.out.println("OtlpIT: " + run.millis() + " ms from launch to exit, the export's close included");
            assertThat(run.status()).as(run.toString()).isZero();
            assertThat(run.stdout()).isEqualTo("done\n");
            assertThat(run.stderr()).as(run.toString())
                    .contains("eventloop-guardian: sending blocking sleeps as OTLP log records and metrics to "
                            + receiver.endpoint() + " (http/protobuf)")
                    .contains("metrics at http://127.0.0.1:")
                    .contains("summary: 2 blocking sleeps")
                    .doesNotContain("cannot send", "not sent", "SEVERE", "io.opentelemetry");

            // Sent before the session ended: nothing to wait for now.
            List<OtlpReceiver.Logged> records = receiver.logRecords();
            // As the receiver decoded them, for the README's example
            Path received = Files.createDirectories(Path.of("target", "otlp-it")).resolve("log-records.txt");
            Files.writeString(received, run.stderr() + records.stream().map(OtlpReceiver.Logged::describe)
                    .collect(java.util.stream.Collectors.joining("---\n", "---\n", "")));
            assertThat(records).as(records.toString()).hasSize(2);
            OtlpReceiver.Logged first = records.getFirst();
            assertThat(first.body()).as(records.toString())
                    .matches("pid \\d+ tid \\d+ \\(" + PYTHON_NAME + "\\) blocked in clock_nanosleep for [0-9.]+ ms");
            assertThat(first.string("eventloop_guardian.syscall")).isEqualTo("clock_nanosleep");
            assertThat(first.string("thread.name")).isEqualTo(PYTHON_NAME);
            assertThat(first.string("process.executable.name")).isEqualTo(PYTHON_NAME);
            assertThat(first.integer("thread.id")).isEqualTo(first.integer("process.pid"));
            assertThat(first.integer("eventloop_guardian.off_cpu_ns")).isGreaterThanOrEqualTo(50_000_000);
            assertThat(first.strings("eventloop_guardian.kernel_stack")).as("the kernel's, innermost first")
                    .first().asString().startsWith("schedule+0x");
            assertThat(first.strings("eventloop_guardian.kernel_stack")).anyMatch(frame -> frame.contains("nanosleep"));
            assertThat(first.strings("eventloop_guardian.user_stack")).as("libc's frame that made the syscall")
                    .first().asString().startsWith("clock_nanosleep+0x").endsWith("(libc.so.6)");
            assertThat(first.resourceString("service.name")).as("OTEL_SERVICE_NAME").isEqualTo("otlp-it");
            assertThat(receiver.logRequests()).allSatisfy(request ->
                    assertThat(request.headers()).as("OTEL_EXPORTER_OTLP_HEADERS").containsEntry("authorization", "Bearer it-token"));

            Metric sleeps = receiver.lastMetric("eventloop_guardian.blocking_sleeps").orElseThrow();
            NumberDataPoint counted = sleeps.getSum().getDataPoints(0);
            assertThat(counted.getAsInt()).isEqualTo(2);
            assertThat(OtlpReceiver.strings(counted.getAttributesList())).containsEntry("process", PYTHON_NAME)
                    .containsEntry("thread_pool", PYTHON_NAME).containsEntry("syscall", "clock_nanosleep")
                    .containsEntry("kind", "syscall").containsEntry("pid", Long.toString(first.integer("process.pid")));
            assertThat(receiver.lastMetric("eventloop_guardian.blocked").orElseThrow().getHistogram().getDataPoints(0)
                    .getCount()).as("the sleep whose end was seen").isGreaterThanOrEqualTo(1);
            assertThat(receiver.lastMetric("eventloop_guardian.dropped_events").orElseThrow().getSum().getDataPoints(0)
                    .getAsInt()).isZero();
        }
    }

    @Test
    void aReceiverThatIsNotThereIsSaidOnceAndCommandRunsAsIfItWere() throws Exception {
        String endpoint;
        try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            endpoint = "http://127.0.0.1:" + closed.getLocalPort();
        }
        // Without the SDK's retries (8 s of them for a refused connection), the first export fails at once.
        Run run = launch(Map.of("OTEL_JAVA_EXPORTER_OTLP_RETRY_DISABLED", "true"), "--report", "--otlp", endpoint,
                "--output", "/dev/null", PYTHON, "-c", PROGRAM);
        assertThat(run.status()).as(run.toString()).isZero();
        assertThat(run.stdout()).isEqualTo("done\n");
        // Said once, for whichever export failed first: the log records' or the metrics'.
        assertThat(run.stderr().lines().filter(line -> line.contains("cannot send")).toList()).as(run.toString())
                .singleElement().asString()
                .matches("eventloop-guardian: cannot send (log records|metrics) to the OTLP endpoint "
                        + java.util.regex.Pattern.quote(endpoint)
                        + ": cannot connect; the guard goes on, and will say at the end what was not sent");
        assertThat(run.stderr()).as(run.toString())
                .contains("eventloop-guardian: 2 of 2 log records were not sent to the OTLP endpoint " + endpoint)
                .contains("the last metrics were not sent to the OTLP endpoint " + endpoint)
                .doesNotContain("SEVERE", "io.opentelemetry");
    }

    @Test
    void aCommandLineThatAsksForNoOtlpLoadsNoClassOfIt(@TempDir Path scratch) throws Exception {
        assertThat(Guardian.loadedClasses(scratch.resolve("report.log"), "--report", "true")).as("a report without --otlp")
                .anyMatch(line -> line.contains("dev.eventloopguardian.report.Reporter "))
                .noneMatch(OtlpIT::isOtlpClass);
        assertThat(Guardian.loadedClasses(scratch.resolve("metrics.log"), "--report", "--metrics", "127.0.0.1:0", "true"))
                .as("a report with --metrics alone")
                .anyMatch(line -> line.contains("dev.eventloopguardian.metrics.SleepMetrics "))
                .noneMatch(OtlpIT::isOtlpClass);
        assertThat(Guardian.loadedClasses(scratch.resolve("otlp.log"), "--report", "--otlp", "http://127.0.0.1:9", "true"))
                .as("and one with --otlp loads it: the check above can see it")
                .anyMatch(OtlpIT::isOtlpClass);
    }

    private static boolean isOtlpClass(String loaded) {
        return loaded.contains(" dev.eventloopguardian.otlp.") || loaded.contains(" io.opentelemetry.");
    }

    private static String truncated(String name) {
        return name.length() > 15 ? name.substring(0, 15) : name;
    }
}
