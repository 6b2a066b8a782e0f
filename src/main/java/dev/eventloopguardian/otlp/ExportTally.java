package dev.eventloopguardian.otlp;

import io.opentelemetry.exporter.internal.FailedExportException;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.export.MemoryMode;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.logs.export.LogRecordExporter;
import io.opentelemetry.sdk.metrics.Aggregation;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.MetricExporter;

import java.io.IOException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.util.Collection;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * What the exporters did: wraps the SDK's OTLP exporters to count the log records the receiver
 * took, and to say once, on the notes, the first time an export failed and why. The SDK retries
 * and logs each failure through java.util.logging; a person running a guard wants one line, and
 * at the end how much was lost, not a log line per batch.
 *
 * <p>Called on the SDK's export threads; its counts are safe to read from any thread.
 */
final class ExportTally {
    private final String endpoint;
    private final Consumer<String> notes;
    private final AtomicBoolean failureNoted = new AtomicBoolean();
    private final AtomicLong logRecordsSent = new AtomicLong();
    private volatile boolean lastMetricExportFailed;

    ExportTally(String endpoint, Consumer<String> notes) {
        this.endpoint = endpoint;
        this.notes = notes;
    }

    /** Log records the receiver took. */
    long logRecordsSent() {
        return logRecordsSent.get();
    }

    /**
     * Whether the last export of metrics failed. Each is a snapshot of every series (cumulative by
     * default), so a later one that succeeds makes up for those that failed before it.
     */
    boolean lastMetricExportFailed() {
        return lastMetricExportFailed;
    }

    /** Whether an export has failed. */
    boolean failed() {
        return failureNoted.get();
    }

    LogRecordExporter logs(LogRecordExporter exporter) {
        return new LogRecordExporter() {
            @Override
            public CompletableResultCode export(Collection<LogRecordData> logs) {
                int records = logs.size();
                return tallied(exporter.export(logs), "log records", sent -> {
                    if (sent) {
                        logRecordsSent.addAndGet(records);
                    }
                });
            }

            @Override
            public CompletableResultCode flush() {
                return exporter.flush();
            }

            @Override
            public CompletableResultCode shutdown() {
                return exporter.shutdown();
            }
        };
    }

    MetricExporter metrics(MetricExporter exporter) {
        return new MetricExporter() {
            @Override
            public CompletableResultCode export(Collection<MetricData> metrics) {
                return tallied(exporter.export(metrics), "metrics", sent -> lastMetricExportFailed = !sent);
            }

            // What the exporter was configured with (OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE, ...)
            @Override
            public AggregationTemporality getAggregationTemporality(InstrumentType type) {
                return exporter.getAggregationTemporality(type);
            }

            @Override
            public Aggregation getDefaultAggregation(InstrumentType type) {
                return exporter.getDefaultAggregation(type);
            }

            @Override
            public MemoryMode getMemoryMode() {
                return exporter.getMemoryMode();
            }

            @Override
            public CompletableResultCode flush() {
                return exporter.flush();
            }

            @Override
            public CompletableResultCode shutdown() {
                return exporter.shutdown();
            }

            @Override
            public String toString() {
                return exporter.toString();
            }
        };
    }

    /** {@code result}, which says once it completes whether it was sent, and notes its failure. */
    private CompletableResultCode tallied(CompletableResultCode result, String what, Consumer<Boolean> sent) {
        result.whenComplete(() -> {
            sent.accept(result.isSuccess());
            if (!result.isSuccess()) {
                failed(what, result.getFailureThrowable());
            }
        });
        return result;
    }

    private void failed(String what, Throwable failure) {
        if (failureNoted.compareAndSet(false, true)) {
            notes.accept("cannot send " + what + " to the OTLP endpoint " + endpoint + ": " + reason(failure)
                    + "; the guard goes on, and will say at the end what was not sent");
        }
    }

    /** Why an export failed, in a few words: the HTTP status the receiver answered, or why none answered. */
    static String reason(Throwable failure) {
        if (failure instanceof FailedExportException.HttpExportException http && http.failedWithResponse()) {
            String message = http.getResponse().getStatusMessage();
            return "it answered HTTP " + http.getResponse().getStatusCode()
                    + (message == null || message.isBlank() ? "" : " (" + message.strip() + ")");
        }
        Throwable cause = failure;
        while (cause != null && cause.getCause() != null && !(cause instanceof IOException)) {
            cause = cause.getCause();
        }
        if (cause == null) {
            return "the exporter gave no reason";
        }
        for (Throwable inner = cause; inner != null; inner = inner.getCause()) {
            if (inner instanceof ConnectException) {
                return "cannot connect" + (inner.getMessage() == null ? "" : " (" + inner.getMessage() + ")");
            }
            if (inner instanceof UnknownHostException || inner instanceof UnresolvedAddressException) {
                return "no such host";
            }
            if (inner instanceof HttpTimeoutException) {
                return "no answer in time (OTEL_EXPORTER_OTLP_TIMEOUT)";
            }
        }
        return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    }
}
