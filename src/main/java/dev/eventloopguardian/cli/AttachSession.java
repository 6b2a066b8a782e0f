package dev.eventloopguardian.cli;

import dev.eventloopguardian.guard.AttachedProcess;
import dev.eventloopguardian.guard.Guard;
import dev.eventloopguardian.guard.GuardException;
import dev.eventloopguardian.jvm.JvmLinks;
import dev.eventloopguardian.report.ReportSettings;
import dev.eventloopguardian.report.Reporter;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Reports on a process that is already running: the guard is attached to its threads (and the
 * ones they create) until Ctrl-C, TERM or HUP, or until the process exits; then it is detached,
 * and the process runs on as before.
 */
final class AttachSession {
    private AttachSession() {
    }

    /**
     * Reports on {@code pid} as {@code settings} say; returns 0 once detached, or
     * {@link ExitCodes#REPORT_INCOMPLETE} when the report could not be written in full.
     */
    static int run(Guard guard, int pid, ReportSettings settings, boolean quiet, JvmAgent jvmAgent) throws GuardException {
        PrintWriter notes = settings.notes();
        // Taken before attaching, so that a pid reused after the process exits is not taken for it.
        Optional<ProcessHandle> target = ProcessHandle.of(pid);
        // On for a JVM only (AttachCommand): empty otherwise.
        Optional<JvmLinks> jvm = jvmAgent.listen(guard, linking -> linking == pid, notes);
        try (JvmLinks links = jvm.orElse(null);
             Reporter reporter = Reporter.open(guard, settings, JvmAgent.javaContexts(jvm));
             StopSignals stop = StopSignals.install()) {
            try (AttachedProcess attached = guard.attachToProcess(pid)) {
                settings.observer().guarding(pid, true);
                if (!quiet) {
                    notes.printf("eventloop-guardian: attached to pid %d (%s), %d threads and those it creates; "
                            + "Ctrl-C detaches%n", pid, name(pid), attached.threads());
                    notes.flush();
                }
                if (links != null) {
                    JvmAgent.loadInto(pid, links, notes);
                }
                reporter.reportWhile(() -> !stop.received() && target.map(ProcessHandle::isAlive).orElse(false));
            }
            settings.observer().detached();
            if (!quiet) {
                notes.println(stop.received()
                        ? "eventloop-guardian: " + stop.signalName() + ": detached from pid " + pid + ", which runs on"
                        : "eventloop-guardian: pid " + pid + " has exited");
                notes.flush();
            }
            return reporter.finish() ? 0 : ExitCodes.REPORT_INCOMPLETE;
        }
    }

    /** The process's name as the kernel knows it, as the events name its threads. */
    private static String name(int pid) {
        try {
            return Files.readString(Path.of("/proc", Integer.toString(pid), "comm")).strip();
        } catch (IOException e) {
            return "?";
        }
    }
}
