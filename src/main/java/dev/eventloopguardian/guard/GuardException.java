package dev.eventloopguardian.guard;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The guard could not be set up; in every case COMMAND has not been started. The exception
 * states facts: what failed and, in {@link #reason()} and {@link #file()}, what was missing or
 * in the way. What a user should do about it depends on how they use the guard (a command
 * line, a JVM that embeds it), so that is the caller's to say.
 */
public final class GuardException extends Exception {
    private static final long serialVersionUID = 1L;

    public enum Kind {
        /** Missing CAP_BPF / CAP_PERFMON, or perf_event_paranoid too strict. */
        PERMISSION,
        /** The kernel lacks something we need: BTF, a helper, a perf event. */
        UNSUPPORTED,
        /** The verifier rejected the generated program: our bug, shown with its log. */
        REJECTED,
        /** COMMAND cannot stay guarded across exec (set-user-ID, file capabilities, unreadable). */
        UNGUARDABLE,
        /** The process to attach to does not exist (or is a kernel thread). */
        NO_SUCH_PROCESS
    }

    /** What was missing or in the way, where a caller can tell its user how to change it. */
    public enum Reason {
        /** Nothing more specific than the {@link Kind} and the message. */
        UNSPECIFIED,
        /** CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN) were missing to load the program or open the perf event. */
        CAPABILITIES,
        /** This process runs set-user-ID (its effective uid is not its real one), which exec would not keep guarded. */
        SET_USER_ID_PROCESS,
        /** {@link #file()} is set-user-ID and owned by another user than the one COMMAND runs as. */
        SET_USER_ID_FILE,
        /** {@link #file()} is set-group-ID, of a group that is not ours. */
        SET_GROUP_ID_FILE,
        /** {@link #file()} has file capabilities, and COMMAND does not run as root. */
        FILE_CAPABILITIES,
        /** {@link #file()} may be executed but not read by the user COMMAND runs as. */
        UNREADABLE_FILE
    }

    private final Kind kind;
    private final Reason reason;
    private final Path file;
    private final String detail;

    public GuardException(Kind kind, Reason reason, Path file, String message, String detail, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.reason = reason;
        this.file = file;
        this.detail = detail == null ? "" : detail;
    }

    public GuardException(Kind kind, String message, String detail, Throwable cause) {
        this(kind, Reason.UNSPECIFIED, null, message, detail, cause);
    }

    public GuardException(Kind kind, String message) {
        this(kind, message, null, null);
    }

    public Kind kind() {
        return kind;
    }

    public Reason reason() {
        return reason;
    }

    /** The file {@link #reason()} is about: COMMAND or its script's interpreter. */
    public Optional<Path> file() {
        return Optional.ofNullable(file);
    }

    /** More lines of facts, e.g. the verifier log, or the privileges that were missing. */
    public String detail() {
        return detail;
    }
}
