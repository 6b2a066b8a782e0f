package dev.eventloopguardian.cli;

/**
 * Our own exit statuses. When the guard is in place we exec COMMAND, so every other status is
 * COMMAND's own. We follow sysexits(3) where it has a word for the failure and the shells'
 * 126/127 for commands that cannot run, to stay clear of the small numbers programs use.
 */
public final class ExitCodes {
    /** {@code check}: some check failed. */
    public static final int CHECK_FAILED = 1;
    /** Bad options: unknown syscall, signal or user, no COMMAND, a uid, thread pattern or duration that cannot work. */
    public static final int USAGE = 64;
    /** The kernel lacks a feature: no BTF, a missing helper, too old. */
    public static final int UNSUPPORTED = 69;
    /** The verifier rejected our program, or another internal error: a bug to report. */
    public static final int INTERNAL = 70;
    /**
     * With {@code --report} or {@code attach}: the report could not be written in full (a full
     * disk, a reader gone away) while COMMAND's own status was 0; sysexits' EX_IOERR.
     */
    public static final int REPORT_INCOMPLETE = 74;
    /** COMMAND would run unguarded after exec (set-user-ID, file capabilities, unreadable). */
    public static final int UNGUARDABLE = 75;
    /** Missing CAP_BPF / CAP_PERFMON, or perf_event_paranoid too strict. */
    public static final int PERMISSION = 77;
    /** COMMAND exists but cannot be executed. */
    public static final int NOT_EXECUTABLE = 126;
    /** COMMAND was not found. */
    public static final int NOT_FOUND = 127;

    private ExitCodes() {
    }
}
