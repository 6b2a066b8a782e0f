package dev.eventloopguardian.guard;

import dev.eventloopguardian.perf.PerfEvent;
import dev.eventloopguardian.sys.Executable;
import dev.eventloopguardian.sys.Linux;
import dev.eventloopguardian.sys.SyscallException;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Runs COMMAND in place of this process with the guard armed on the exec'ing thread: same pid,
 * same stdio, COMMAND's own exit status. Everything that can fail is done before exec, and
 * every case where the kernel would tear the guard down at exec is refused, so that COMMAND
 * never runs unguarded in silence.
 */
public final class GuardedCommand {
    private static final Set<String> SHELLS = Set.of("sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "busybox");

    private final Executable executable;
    private final List<String> argv;
    private final Optional<Linux.Account> runAs;

    private GuardedCommand(Executable executable, List<String> argv, Optional<Linux.Account> runAs) {
        this.executable = executable;
        this.argv = List.copyOf(argv);
        this.runAs = runAs;
    }

    /** Resolves {@code argv[0]} in {@code PATH} and checks that it can run. */
    public static GuardedCommand of(List<String> argv, Optional<Linux.Account> runAs) throws Executable.NotRunnable {
        return new GuardedCommand(Executable.resolve(argv.getFirst(), System.getenv("PATH")), argv, runAs);
    }

    public Path path() {
        return executable.path();
    }

    /**
     * A note for the user when COMMAND is a shell script: the shell itself is guarded and
     * sleeps in {@code wait4} whenever it runs a subcommand, which version-manager shims do.
     */
    public Optional<String> shellScriptNote() {
        return executable.interpreterLine().flatMap(line -> {
            List<String> words = List.of(line.split("\\s+"));
            String interpreter = Path.of(words.getFirst()).getFileName().toString();
            if (interpreter.equals("env") && words.size() > 1) {
                interpreter = words.get(words.size() > 2 && words.get(1).startsWith("-") ? 2 : 1);
            }
            if (!SHELLS.contains(interpreter)) {
                return Optional.empty();
            }
            return Optional.of(executable.path() + " is a " + interpreter + " script: the guard covers the shell too, and a "
                    + "shell sleeps in wait4 whenever it runs a subcommand. If it is a wrapper (a pyenv/nvm/asdf shim), "
                    + "guard the real program instead, e.g. \"$(pyenv which python3)\".");
        });
    }

    /**
     * Arms {@code guard} on this thread, switches to the {@code --user} account, marks our own
     * descriptors close-on-exec and execs. Returns only by throwing.
     */
    public GuardException exec(Guard guard, boolean allThreads) throws GuardException {
        PerfEvent event = guard.armCurrentThreadForExec(allThreads);
        try {
            runAs.ifPresent(Linux::becomeUser);
        } catch (SyscallException e) {
            event.close();
            throw new GuardException(GuardException.Kind.PERMISSION, "cannot switch to user " + runAs.get().name() + ": "
                    + e.getMessage());
        }
        refuseWhatExecWouldUnguard();
        Linux.resetSignalMask();
        Linux.closeOnExecFrom(3, event.fd());
        SyscallException failure = Linux.execve(executable.path().toString(), argv, userEnvironment());
        event.close();
        return new GuardException(GuardException.Kind.UNGUARDABLE, "cannot execute " + executable.path() + ": "
                + failure.getMessage());
    }

    /** With {@code --user}, COMMAND gets that user's HOME, USER and LOGNAME, as login tools do. */
    private Map<String, String> userEnvironment() {
        return runAs.map(account -> Map.of("HOME", account.home(), "USER", account.name(), "LOGNAME", account.name()))
                .orElse(Map.of());
    }

    /**
     * Does what {@link #exec} does short of exec and of changing user: arms the guard on this
     * thread, checks COMMAND, then disarms. For {@code --dry-run}.
     */
    public void rehearse(Guard guard, boolean allThreads) throws GuardException {
        try (PerfEvent event = guard.armCurrentThreadForExec(allThreads)) {
            refuseWhatExecWouldUnguard();
        }
    }

    /**
     * The kernel calls {@code perf_event_exit_task} at exec when the new image is not dumpable
     * by us: a set-user-ID or set-group-ID file of another owner, file capabilities that raise
     * a non-root user's privileges, or a file (or script interpreter) we may not read. Checked
     * as the user COMMAND runs as.
     */
    private void refuseWhatExecWouldUnguard() throws GuardException {
        int uid = Linux.uid();
        int gid = Linux.gid();
        String why = null;
        if (executable.setUid() && executable.ownerUid() != uid) {
            why = "it is set-user-ID (owner uid " + executable.ownerUid() + ")";
        } else if (executable.setGid() && executable.ownerGid() != gid) {
            why = "it is set-group-ID (group " + executable.ownerGid() + ")";
        } else if (uid != 0 && executable.hasFileCapabilities()) {
            why = "it has file capabilities (getcap " + executable.path() + ")";
        } else if (!executable.readable()) {
            why = "the user it runs as cannot read it";
        } else if (Linux.effectiveUid() != uid) {
            why = "this process runs with effective uid " + Linux.effectiveUid() + " but real uid " + uid;
        }
        if (why != null) {
            throw new GuardException(GuardException.Kind.UNGUARDABLE, "refusing to run " + executable.path() + ": " + why
                    + ", so the kernel would detach the guard at exec and it would run unguarded",
                    "Run a copy without the special bit, or run it as its owner with --user.", null);
        }
    }
}
