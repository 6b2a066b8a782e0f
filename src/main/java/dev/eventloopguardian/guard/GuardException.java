package dev.eventloopguardian.guard;

/**
 * The guard could not be set up. Each kind maps to its own exit status and tells the user
 * what to do next; in every case COMMAND has not been started.
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

    private final Kind kind;
    private final String detail;

    public GuardException(Kind kind, String message, String detail, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.detail = detail == null ? "" : detail;
    }

    public GuardException(Kind kind, String message) {
        this(kind, message, null, null);
    }

    public Kind kind() {
        return kind;
    }

    /** More lines for the user: the verifier log, or how to get a privilege. */
    public String detail() {
        return detail;
    }
}
