package dev.eventloopguardian.cli;

import dev.eventloopguardian.guard.GuardException;
import dev.eventloopguardian.guard.UnknownSyscallException;
import dev.eventloopguardian.sys.Executable;

import java.io.IOException;
import java.io.PrintWriter;

/** What every command prints for a failure it expects, and the exit status that goes with it. */
final class Failures {
    /** How the guard command runs as root: COMMAND still runs as the user. */
    static final String GUARD_AS_ROOT = "sudo ./eventloop-guardian --user \"$USER\" COMMAND...   (COMMAND runs as you, still guarded)";
    static final String ATTACH_AS_ROOT = "sudo ./eventloop-guardian attach --pid PID ...";
    static final String WATCH_AS_ROOT = "sudo ./eventloop-guardian watch ...   (or as the systemd unit, "
            + "packaging/eventloop-guardian.service, with just the capabilities it needs)";

    /** How a user of this command line gets what the library says it lacks, run as root as {@code asRoot} shows. */
    private static String howToGetCapabilities(String asRoot) {
        return """
                Either:
                  - run as root:   %s
                  - or grant the capabilities to the JDK's java binary:
                      sudo setcap cap_bpf,cap_perfmon+ep "$(readlink -f "$(command -v java)")\"""".formatted(asRoot);
    }

    private Failures() {
    }

    /** Prints {@code failure} for the user and returns its exit status; a bug is rethrown as it is. */
    static int report(Exception failure, PrintWriter err) {
        return report(failure, err, GUARD_AS_ROOT);
    }

    /** The same, for a command that runs as root as {@code asRoot} shows. */
    static int report(Exception failure, PrintWriter err, String asRoot) {
        return switch (failure) {
            case UnknownSyscallException unknown -> usage(err, unknown.getMessage());
            case UsageException usage -> usage(err, usage.getMessage());
            case Executable.NotRunnable notRunnable -> {
                err.println("eventloop-guardian: " + notRunnable.getMessage());
                yield notRunnable.found() ? ExitCodes.NOT_EXECUTABLE : ExitCodes.NOT_FOUND;
            }
            case GuardException guard -> {
                err.println("eventloop-guardian: error: " + guard.getMessage());
                String detail = detailWithRemedy(guard, asRoot);
                if (!detail.isEmpty()) {
                    err.println(detail);
                }
                yield switch (guard.kind()) {
                    case PERMISSION -> ExitCodes.PERMISSION;
                    case UNSUPPORTED -> ExitCodes.UNSUPPORTED;
                    case REJECTED -> ExitCodes.INTERNAL;
                    case UNGUARDABLE -> ExitCodes.UNGUARDABLE;
                    case NO_SUCH_PROCESS -> usage(err, null);
                };
            }
            case IOException io -> {
                err.println("eventloop-guardian: error: " + io.getMessage());
                yield ExitCodes.INTERNAL;
            }
            case InterruptedException interrupted -> {
                Thread.currentThread().interrupt();
                yield ExitCodes.INTERNAL;
            }
            case RuntimeException bug -> throw bug;
            default -> throw new IllegalStateException(failure);
        };
    }

    /**
     * The library's facts about {@code failure}, then what to type about them: the library does
     * not know it runs behind this command line and its options.
     */
    static String detailWithRemedy(GuardException failure) {
        return detailWithRemedy(failure, GUARD_AS_ROOT);
    }

    private static String detailWithRemedy(GuardException failure, String asRoot) {
        String detail = failure.detail();
        String file = failure.file().map(Object::toString).orElse("COMMAND");
        return switch (failure.reason()) {
            case UNSPECIFIED -> detail;
            // The library's "... needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN)." leads into the list.
            case CAPABILITIES -> detail + " " + howToGetCapabilities(asRoot);
            case SET_USER_ID_PROCESS -> lines(detail, "Run eventloop-guardian as a plain user or as root, not set-user-ID.");
            case SET_USER_ID_FILE -> lines(detail, "Run it as its owner with --user, or run a copy without the set-user-ID bit.");
            case SET_GROUP_ID_FILE -> lines(detail, "Run a copy without the set-group-ID bit (chmod g-s).");
            case FILE_CAPABILITIES -> lines(detail, "Run it as root, or run a copy without them (setcap -r).");
            case UNREADABLE_FILE -> lines(detail, "Make it readable (chmod o+r " + file + "), or run it as its owner with --user.");
        };
    }

    private static String lines(String first, String second) {
        return first.isEmpty() ? second : first + "\n" + second;
    }

    /** Bad usage: the message (when there is one) and where to read more; exit 64. */
    static int usage(PrintWriter err, String message) {
        if (message != null) {
            err.println("eventloop-guardian: " + message);
        }
        err.println("Try 'eventloop-guardian --help'.");
        return ExitCodes.USAGE;
    }
}
