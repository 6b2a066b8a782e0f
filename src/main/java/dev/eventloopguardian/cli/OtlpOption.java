package dev.eventloopguardian.cli;

import dev.eventloopguardian.guard.ReportingGuard;
import dev.eventloopguardian.guard.GuardException;
import dev.eventloopguardian.otlp.GuardDrops;
import dev.eventloopguardian.otlp.OtlpEndpoint;
import dev.eventloopguardian.otlp.OtlpException;
import dev.eventloopguardian.otlp.OtlpExport;

import java.io.PrintWriter;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * {@code --otlp ENDPOINT}: the session's blocking sleeps sent to an OpenTelemetry receiver, each
 * as a log record with its stacks, with the same metrics as {@code --metrics}: the option's text,
 * its errors and what to do about them. The command line reaches the export only through here,
 * and only when the option was given, so that neither it nor the OpenTelemetry SDK is loaded by one
 * that does not ask for it (a guard's launch time; see OtlpIT).
 */
final class OtlpOption {
    static final String NAME = "--otlp";
    static final String DESCRIPTION = "Send each blocking sleep to an OpenTelemetry receiver at ENDPOINT (OTLP/HTTP, "
            + "e.g. http://127.0.0.1:4318, a Collector's port) as a log record with its kernel, user and Java stacks, "
            + "and the same metrics as --metrics, through the OpenTelemetry SDK. The OTEL_* variables configure the rest "
            + "(OTEL_EXPORTER_OTLP_HEADERS, _COMPRESSION, _TIMEOUT, OTEL_SERVICE_NAME, "
            + "OTEL_RESOURCE_ATTRIBUTES, OTEL_METRIC_EXPORT_INTERVAL...). At the end, what is left is sent, waiting at "
            + "most 5 s; a receiver that cannot be reached is said once and never holds COMMAND up.";

    /**
     * The SDK's exporters log each failure through java.util.logging, on stderr, which is
     * COMMAND's too: the export says it once as a note instead. Held here, since the logging
     * framework keeps its loggers weakly and would forget the level of one nobody holds.
     */
    private static final Logger SDK_LOGGING = Logger.getLogger("io.opentelemetry");

    private OtlpOption() {
    }

    /** {@code text} read as an endpoint, or a usage error that says how to write one. */
    static OtlpEndpoint endpoint(String text) throws UsageException {
        try {
            return OtlpEndpoint.parse(text);
        } catch (IllegalArgumentException e) {
            throw new UsageException(NAME + " " + text + ": " + e.getMessage());
        }
    }

    /**
     * Starts sending {@code guard}'s session to {@code text}, and says where on {@code notes}. An
     * {@code OTEL_*} variable the SDK refuses is a usage error, before anything runs.
     */
    static OtlpExport send(String text, ReportingGuard guard, PrintWriter notes) throws UsageException, GuardException {
        OtlpEndpoint endpoint = endpoint(text);
        OtlpExport export;
        try {
            SDK_LOGGING.setLevel(Level.OFF);
            export = OtlpExport.open(endpoint, GuardDrops.of(guard), note -> {
                notes.println("eventloop-guardian: " + note);
                notes.flush();
            });
        } catch (OtlpException e) {
            throw new UsageException(NAME + " " + text + ": " + e.getMessage());
        } catch (NoClassDefFoundError e) {
            throw new GuardException(GuardException.Kind.UNSUPPORTED, NAME + " needs the OpenTelemetry SDK, which is "
                    + "kept beside the jar in target/lib, not in it: run ./eventloop-guardian, which puts it on the "
                    + "class path (missing: " + e.getMessage() + ")", null, e);
        }
        notes.println("eventloop-guardian: sending blocking sleeps as OTLP log records and metrics to "
                + export.destination());
        notes.flush();
        return export;
    }
}
