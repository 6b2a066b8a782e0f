package dev.eventloopguardian.cli;

import dev.eventloopguardian.guard.ReportingGuard;
import dev.eventloopguardian.report.Attribution;
import dev.eventloopguardian.guard.Guard;
import dev.eventloopguardian.metrics.MetricsEndpoint;
import dev.eventloopguardian.otlp.OtlpExport;
import dev.eventloopguardian.report.ReportSettings;
import dev.eventloopguardian.report.SessionObserver;
import dev.eventloopguardian.report.SessionObservers;
import dev.eventloopguardian.text.IoReason;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** How a report is written: shared by the guard command's --report and attach. */
final class ReportOptions {
    final String format;
    final Path output;
    final Duration minDuration;
    final Path folded;
    final Path html;
    /** --jvm-agent or --no-jvm-agent, or null for the default. */
    final Boolean jvmAgent;
    /** --metrics as given, or null. */
    final String metrics;
    /** --otlp as given, or null. */
    final String otlp;

    private ReportOptions(ParseResult parsed) {
        format = parsed.matchedOptionValue("--format", "text");
        output = parsed.matchedOptionValue("--output", null);
        minDuration = parsed.matchedOptionValue("--min-duration", Duration.ZERO);
        folded = parsed.matchedOptionValue("--folded", null);
        html = parsed.matchedOptionValue("--html", null);
        jvmAgent = parsed.matchedOptionValue("--jvm-agent", null);
        metrics = parsed.matchedOptionValue(MetricsOption.NAME, null);
        otlp = parsed.matchedOptionValue(OtlpOption.NAME, null);
    }

    /** The options as {@code parsed} gives them. */
    static ReportOptions of(ParseResult parsed) {
        return new ReportOptions(parsed);
    }

    /** Declares these options on {@code spec}. */
    static void declare(CommandSpec spec) {
        spec.addOption(Specs.option("--format", "FORMAT", String.class,
                "Report as text (default) or json (one object per line; schema in docs/report-schema.md).").build());
        spec.addOption(Specs.option("--output", "FILE", Path.class,
                "Write the report's events to FILE instead of stderr.").build());
        spec.addOption(Specs.option("--min-duration", "DURATION", Duration.class,
                "Report only sleeps that last at least DURATION (e.g. 500us, 10ms, 2s; at most 24h); a sleep "
                        + "that never ends is reported once DURATION has passed.")
                .converters(new DurationConverter()).build());
        spec.addOption(Specs.option("--folded", "FILE", Path.class,
                "At the end, write the stacks folded for flame graphs (flamegraph.pl, speedscope).").build());
        spec.addOption(Specs.option("--html", "FILE", Path.class,
                "At the end (or at Ctrl-C, TERM), write a page to open in any browser, offline: a flame graph of "
                        + "the blocking stacks (click to zoom, search), a timeline of the sleeps per thread (the last "
                        + "10 000), and counts and time blocked by syscall and by thread.").build());
        spec.addOption(OptionSpec.builder("--jvm-agent").type(Boolean.class).arity("0").negatable(true).description(
                "Load the Java agent into the JVMs guarded with --all-threads (through JAVA_TOOL_OPTIONS) or "
                        + "attached to (through the Attach API), so that their Java-level waits (sleep, park, wait, a "
                        + "contended monitor) are caught and, with --report and attach, each event carries its Java "
                        + "stack. On by default with --report and attach; off for the guard that aborts, since a JVM's "
                        + "first requests wait for monitors while its classes load: report first.").build());
        spec.addOption(Specs.option(MetricsOption.NAME, "[ADDR:]PORT", String.class, MetricsOption.DESCRIPTION).build());
        spec.addOption(Specs.option(OtlpOption.NAME, "ENDPOINT", String.class, OtlpOption.DESCRIPTION).build());
    }

    /**
     * The Java agent as these options ask, for a session that may use it ({@code wanted}): by
     * default on when {@code reporting}, matching threads as {@code threadGlobs} do.
     */
    JvmAgent jvmAgent(boolean wanted, boolean reporting, List<String> threadGlobs, boolean quiet) {
        boolean on = jvmAgent != null ? jvmAgent : reporting;
        return wanted && on ? JvmAgent.on(threadGlobs, quiet) : JvmAgent.off();
    }

    /** A session that reads the settings while the files it opened stay open. */
    @FunctionalInterface
    interface Session {
        int run(ReportSettings settings) throws Exception;
    }

    /** Refuses report options given without a report. */
    void requireReport(boolean report) throws UsageException {
        if (!ReportSettings.FORMATS.contains(format)) {
            throw new UsageException("--format " + format + ": use one of " + String.join(", ", ReportSettings.FORMATS));
        }
        if (!report && (output != null || folded != null || html != null || !format.equals("text")
                || !minDuration.isZero() || metrics != null || otlp != null)) {
            throw new UsageException("--format, --output, --folded, --otlp, --html, --min-duration and --metrics go with "
                    + "--report");
        }
        if (metrics != null) {
            MetricsOption.address(metrics);
        }
        if (otlp != null) {
            OtlpOption.endpoint(otlp);
        }
    }

    /**
     * Runs {@code session} of {@code guard} with the settings, creating the files it writes,
     * serving its metrics and starting its OTLP export before, closing them after: the metrics
     * and the export (which sends what is left) before the guard they read.
     */
    int run(PrintWriter err, ReportingGuard guard, Session session) throws Exception {
        return run(err, guard, Attribution.NONE, session);
    }

    /** The same, for a session whose events say who they belong to as {@code attribution} finds. */
    int run(PrintWriter err, ReportingGuard guard, Attribution attribution, Session session) throws Exception {
        // stderr stays open for our own messages: only the files we create are closed here.
        // The metrics first: an address that cannot be bound leaves no file behind.
        try (MetricsEndpoint served = metrics == null ? null : MetricsOption.serve(metrics, guard, err);
             OtlpExport sent = otlp == null ? null : OtlpOption.send(otlp, guard, err);
             Writer events = output == null ? null : create("--output", output);
             Writer stacks = folded == null ? null : create("--folded", folded);
             Writer page = html == null ? null : create("--html", html)) {
            ReportSettings.Destination eventsTo = events == null ? new ReportSettings.Destination("stderr", stderr())
                    : new ReportSettings.Destination("--output " + output, events);
            return session.run(new ReportSettings(format, eventsTo, err,
                    Optional.ofNullable(stacks).map(writer -> new ReportSettings.Destination("--folded " + folded, writer)),
                    Optional.ofNullable(page).map(writer -> new ReportSettings.Destination("--html " + html, writer)),
                    minDuration, SessionObservers.of(served == null ? SessionObserver.NONE : served.observer(),
                            sent == null ? SessionObserver.NONE : sent.observer()), attribution));
        }
    }

    /**
     * Events on stderr go through a writer of their own, not the notes' {@code PrintWriter}, which
     * would swallow a failure (a reader gone away) and its reason.
     */
    private static Writer stderr() {
        return new OutputStreamWriter(new FileOutputStream(FileDescriptor.err), StandardCharsets.UTF_8);
    }

    private static Writer create(String option, Path file) throws UsageException {
        try {
            return Files.newBufferedWriter(file);
        } catch (IOException e) {
            throw new UsageException(option + " " + file + ": cannot create it: " + IoReason.of(e)
                    + "; give a file you can write, e.g. " + option + " ./" + switch (option) {
                        case "--folded" -> "stacks.folded";
                        case "--html" -> "report.html";
                        default -> "events.txt";
                    });
        }
    }
}
