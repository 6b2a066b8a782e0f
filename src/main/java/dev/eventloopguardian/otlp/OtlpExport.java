package dev.eventloopguardian.otlp;

import dev.eventloopguardian.report.SessionObserver;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigProperties;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigurationException;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.metrics.InstrumentSelector;
import io.opentelemetry.sdk.metrics.View;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * A session's blocking sleeps sent to an OTLP receiver while it runs: each one a log record, and
 * the same metrics as {@code --metrics}, through the OpenTelemetry SDK configured as every
 * OpenTelemetry program is, by the {@code OTEL_*} variables (autoconfigure), with the endpoint
 * given. It owns the SDK and its threads (the log records' batch processor, the metrics' periodic
 * reader, the HTTP client's); closing it sends what is left, waiting at most {@link #CLOSE_LIMIT},
 * and stops them.
 *
 * <p>Nothing here blocks the session: records queue in the SDK and are sent from its threads.
 * What goes wrong is told once on {@code notes}, and at the close what was not sent.
 */
public final class OtlpExport implements AutoCloseable {
    /** How long a closing session waits for the receiver to take the last records and metrics. */
    public static final Duration CLOSE_LIMIT = Duration.ofSeconds(5);
    static final String SERVICE_NAME = "eventloop-guardian";
    /** As {@code --metrics}: series past these are folded, here into the SDK's overflow series. */
    static final int SLEEP_SERIES = 1000;
    static final int DURATION_SERIES = 100;

    private final OpenTelemetrySdk sdk;
    private final OtlpSleeps sleeps;
    private final ExportTally tally;
    private final OtlpEndpoint endpoint;
    private final String protocol;
    private final Consumer<String> notes;
    private boolean closed;

    private OtlpExport(OpenTelemetrySdk sdk, OtlpSleeps sleeps, ExportTally tally, OtlpEndpoint endpoint, String protocol,
                       Consumer<String> notes) {
        this.sdk = sdk;
        this.sleeps = sleeps;
        this.tally = tally;
        this.endpoint = endpoint;
        this.protocol = protocol;
        this.notes = notes;
    }

    /**
     * Starts sending to {@code endpoint}, configured by the {@code OTEL_*} variables and system
     * properties but for the endpoint; the kernel's drops are read from {@code drops}. Connects to
     * nothing yet: a receiver that is not there shows at the first export, on {@code notes}.
     */
    public static OtlpExport open(OtlpEndpoint endpoint, GuardDrops drops, Consumer<String> notes) throws OtlpException {
        ExportTally tally = new ExportTally(endpoint.toString(), notes);
        String[] protocol = {"http/protobuf"};
        AutoConfiguredOpenTelemetrySdk configured;
        try {
            configured = AutoConfiguredOpenTelemetrySdk.builder()
                    // Below the variables and system properties: what we send unless they say otherwise.
                    // The SDK's own default protocol is gRPC (the Java agent's is http/protobuf)
                    .addPropertiesSupplier(() -> Map.of(
                            "otel.exporter.otlp.protocol", "http/protobuf",
                            "otel.traces.exporter", "none",
                            "otel.logs.exporter", "otlp",
                            "otel.metrics.exporter", "otlp"))
                    // Above them: the endpoint the command line gave
                    .addPropertiesCustomizer(config -> {
                        protocol[0] = checkedProtocol(config);
                        return overrides(config, endpoint);
                    })
                    .addLogRecordExporterCustomizer((exporter, config) -> tally.logs(exporter))
                    .addMetricExporterCustomizer((exporter, config) -> tally.metrics(exporter))
                    .addMeterProviderCustomizer((meters, config) -> meters
                            .registerView(InstrumentSelector.builder().setName(OtlpSleeps.SLEEPS).build(),
                                    View.builder().setCardinalityLimit(SLEEP_SERIES).build())
                            .registerView(InstrumentSelector.builder().setName(OtlpSleeps.BLOCKED).build(),
                                    View.builder().setCardinalityLimit(DURATION_SERIES).build()))
                    // Closed by its owner, in order, with the guard whose drops it reads still open
                    .disableShutdownHook()
                    .build();
        } catch (ConfigurationException e) {
            throw new OtlpException(e.getMessage(), e);
        }
        OpenTelemetrySdk sdk = configured.getOpenTelemetrySdk();
        Meter meter = sdk.getMeter(OtlpSleeps.SCOPE);
        OtlpSleeps sleeps = new OtlpSleeps(sdk.getLogsBridge().get(OtlpSleeps.SCOPE), meter);
        meter.counterBuilder("eventloop_guardian.dropped_events")
                .setUnit("{sleep}")
                .setDescription("Blocking sleeps the kernel could not queue because the ring buffer was full: counted, "
                        + "never reported")
                .buildWithCallback(measurement -> drops.droppedEvents().ifPresent(measurement::record));
        meter.counterBuilder("eventloop_guardian.dropped_sleep_ends")
                .setUnit("{sleep}")
                .setDescription("Ends of reported sleeps the kernel could not queue: those sleeps were reported "
                        + "without their length")
                .buildWithCallback(measurement -> drops.droppedSleepEnds().ifPresent(measurement::record));
        return new OtlpExport(sdk, sleeps, tally, endpoint, protocol[0], notes);
    }

    /**
     * The properties set over the variables: the endpoint, and a service name unless the variables
     * name one ({@code OTEL_SERVICE_NAME}, or {@code service.name} in {@code OTEL_RESOURCE_ATTRIBUTES},
     * which a default {@code otel.service.name} would override).
     */
    private static Map<String, String> overrides(ConfigProperties config, OtlpEndpoint endpoint) {
        Map<String, String> properties = new HashMap<>();
        properties.put("otel.exporter.otlp.endpoint", endpoint.toString());
        if (config.getString("otel.service.name") == null
                && !config.getMap("otel.resource.attributes").containsKey("service.name")) {
            properties.put("otel.service.name", SERVICE_NAME);
        }
        return properties;
    }

    /**
     * The OTLP protocol the variables ask for, refused when it is gRPC: its senders (OkHttp and
     * Kotlin, or grpc-java) are megabytes this build leaves out for the JDK's own HTTP client.
     */
    private static String checkedProtocol(ConfigProperties config) {
        String protocol = config.getString("otel.exporter.otlp.protocol", "http/protobuf");
        for (String signal : List.of("logs", "metrics")) {
            String own = config.getString("otel.exporter.otlp." + signal + ".protocol", protocol);
            if (own.equals("grpc")) {
                String variable = own.equals(protocol) ? "OTEL_EXPORTER_OTLP_PROTOCOL"
                        : "OTEL_EXPORTER_OTLP_" + signal.toUpperCase(java.util.Locale.ROOT) + "_PROTOCOL";
                throw new ConfigurationException(variable + "=grpc: OTLP is sent over HTTP here (http/protobuf), not "
                        + "gRPC; set " + variable + "=http/protobuf and give the receiver's OTLP/HTTP "
                        + "port (4318 on a Collector)");
            }
        }
        return protocol;
    }

    /** What the session tells the export. */
    public SessionObserver observer() {
        return sleeps;
    }

    /** Where it sends, and how: {@code http://127.0.0.1:4318 (http/protobuf)}. */
    public String destination() {
        return endpoint + " (" + protocol + ")";
    }

    /**
     * Sends the records and metrics not yet sent, waiting at most {@link #CLOSE_LIMIT}, stops the
     * SDK, and says on the notes what the receiver did not get. The SDK's shutdown flushes: the
     * batch processor exports what it holds, the metric reader collects and exports one last time.
     *
     * <p>The metric reader's shutdown blocks until its last export ends (up to the exporter's
     * timeout, 10 s by default, and its retries), so the shutdown runs on a daemon thread of its
     * own that this waits for up to the limit: a receiver that does not answer costs the session's
     * end those seconds, no more. The thread ends when the exporters give up; a process that exits
     * first does not wait for it.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        CompletableFuture<Void> stopped = new CompletableFuture<>();
        Thread.ofPlatform().name("otlp-shutdown").daemon(true).start(() -> {
            // The log records first: their processor exports on its own thread while the reader's last export runs here.
            CompletableResultCode logs = sdk.getSdkLoggerProvider().shutdown();
            CompletableResultCode metrics = sdk.getSdkMeterProvider().shutdown();
            CompletableResultCode all = CompletableResultCode.ofAll(List.of(logs, metrics, sdk.shutdown()));
            all.whenComplete(() -> stopped.complete(null));
        });
        try {
            stopped.get(CLOSE_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            notes.accept("the OTLP endpoint " + endpoint + " had not taken the last records and metrics after "
                    + CLOSE_LIMIT.toSeconds() + " s; stopped waiting");
        } catch (ExecutionException e) {
            // completed with null only
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        long emitted = sleeps.logRecordsEmitted();
        long lost = emitted - tally.logRecordsSent();
        if (lost > 0) {
            notes.accept(lost + " of " + emitted + " log records were not sent to the OTLP endpoint " + endpoint);
        }
        if (tally.lastMetricExportFailed()) {
            notes.accept("the last metrics were not sent to the OTLP endpoint " + endpoint);
        }
    }
}
