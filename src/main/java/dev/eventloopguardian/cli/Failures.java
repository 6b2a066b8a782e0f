package dev.eventloopguardian.cli;

import dev.eventloopguardian.guard.GuardException;
import dev.eventloopguardian.guard.UnknownSyscallException;
import dev.eventloopguardian.sys.Executable;

import java.io.IOException;
import java.io.PrintWriter;

/** What every command prints for a failure it expects, and the exit status that goes with it. */
final class Failures {
    private Failures() {
    }

    /** Prints {@code failure} for the user and returns its exit status; a bug is rethrown as it is. */
    static int report(Exception failure, PrintWriter err) {
        return switch (failure) {
            case UnknownSyscallException unknown -> usage(err, unknown.getMessage());
            case UsageException usage -> usage(err, usage.getMessage());
            case Executable.NotRunnable notRunnable -> {
                err.println("eventloop-guardian: " + notRunnable.getMessage());
                yield notRunnable.found() ? ExitCodes.NOT_EXECUTABLE : ExitCodes.NOT_FOUND;
            }
            case GuardException guard -> {
                err.println("eventloop-guardian: error: " + guard.getMessage());
                if (!guard.detail().isEmpty()) {
                    err.println(guard.detail());
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

    /** Bad usage: the message (when there is one) and where to read more; exit 64. */
    static int usage(PrintWriter err, String message) {
        if (message != null) {
            err.println("eventloop-guardian: " + message);
        }
        err.println("Try 'eventloop-guardian --help'.");
        return ExitCodes.USAGE;
    }
}
