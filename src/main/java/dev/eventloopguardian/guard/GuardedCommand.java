package dev.eventloopguardian.guard;

import dev.eventloopguardian.perf.PerfEvent;
import dev.eventloopguardian.sys.Errno;
import dev.eventloopguardian.sys.Executable;
import dev.eventloopguardian.sys.Linux;
import dev.eventloopguardian.sys.SyscallException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

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
    private GuardKeeper preparedKeeper;

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

    /** COMMAND's arguments after its name. */
    public List<String> arguments() {
        return argv.subList(1, argv.size());
    }

    /** The {@code --user} account COMMAND runs as, if not ours. */
    public Optional<Linux.Account> runAs() {
        return runAs;
    }

    /**
     * Refuses, before anything runs, what the kernel would run unguarded (see {@link #exec}).
     * With {@code --user}, the checks are made as that user, on a thread that takes on its ids
     * while this process keeps its own.
     */
    public void checkGuardable() throws GuardException, Executable.NotRunnable {
        if (runAs.isEmpty()) {
            refuseWhatExecWouldUnguard();
            return;
        }
        FutureTask<Void> check = new FutureTask<>(() -> {
            Linux.impersonateOnThisThread(runAs.get());
            refuseWhatExecWouldUnguard();
            return null;
        });
        Thread.ofPlatform().name("check-as-" + runAs.get().name()).start(check);
        try {
            check.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while checking COMMAND", e);
        } catch (ExecutionException e) {
            switch (e.getCause()) {
                case GuardException refused -> throw refused;
                case Executable.NotRunnable notRunnable -> throw notRunnable;
                case SyscallException denied -> throw new GuardException(GuardException.Kind.PERMISSION,
                        "cannot switch to user " + runAs.get().name() + ": " + denied.getMessage());
                case RuntimeException bug -> throw bug;
                default -> throw new IllegalStateException(e.getCause());
            }
        }
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
     * Gets the keeper {@link #exec} will start ready now, while the guard still loads: its thread
     * binds what it needs in the meantime. Call it before the guard is armed, on the exec path only.
     */
    public void prepareToExec() throws GuardException {
        if (preparedKeeper == null) {
            preparedKeeper = GuardKeeper.prepare();
        }
    }

    /**
     * Arms {@code guard} on this thread, hands the guard to a {@link GuardKeeper} (still as
     * ourselves, so that a COMMAND run as another user cannot stop it), switches to the
     * {@code --user} account and execs. Returns only by throwing: exec failed, and COMMAND did
     * not run (a keeper already started leaves with this process).
     */
    public void exec(Guard guard, boolean allThreads) throws GuardException, Executable.NotRunnable {
        exec(guard, allThreads, Map.of(), -1);
    }

    /**
     * The same, with {@code environment} added to COMMAND's, and descriptor {@code inherited}
     * (-1 for none) left open for it: a copy of a guard map that COMMAND's JVMs use themselves.
     */
    public void exec(Guard guard, boolean allThreads, Map<String, String> environment, int inherited)
            throws GuardException, Executable.NotRunnable {
        GuardKeeper keeper = preparedKeeper != null ? preparedKeeper : GuardKeeper.prepare();
        PerfEvent event;
        try {
            event = guard.armCurrentThreadForExec(allThreads);
        } catch (GuardException | RuntimeException e) {
            keeper.cancel();
            throw e;
        }
        try {
            // COMMAND inherits this thread's signal mask, the keeper and COMMAND every descriptor
            // that is not close-on-exec; nothing opened from here on stays open.
            Linux.resetSignalMask();
            Linux.closeOnExecFrom(3, inherited >= 0 ? new int[] {event.fd(), inherited} : new int[] {event.fd()});
            keeper.keep(event);
            switchUser();
            refuseWhatExecWouldUnguard();
        } catch (GuardException | Executable.NotRunnable | RuntimeException e) {
            keeper.cancel();
            event.close();
            throw e;
        }
        forgetJvmPerfData();
        Map<String, String> commandEnvironment = new java.util.HashMap<>(userEnvironment());
        commandEnvironment.putAll(environment);
        SyscallException failure = Linux.execve(executable.path().toString(), argv, commandEnvironment);
        event.close();
        throw notRunnable(failure);
    }

    private void switchUser() throws GuardException {
        try {
            runAs.ifPresent(Linux::becomeUser);
        } catch (SyscallException e) {
            throw new GuardException(GuardException.Kind.PERMISSION, "cannot switch to user " + runAs.get().name() + ": "
                    + e.getMessage());
        }
    }

    /**
     * Removes the JVM's performance-data file for this pid: it outlives exec, and jps and jcmd
     * would list COMMAND as a JVM running our main class.
     */
    private static void forgetJvmPerfData() {
        Path perfData = Path.of(System.getProperty("java.io.tmpdir"), "hsperfdata_" + System.getProperty("user.name"),
                Integer.toString(Linux.pid()));
        try {
            Files.deleteIfExists(perfData);
        } catch (IOException | SecurityException e) {
            // Only cosmetic: jps would list COMMAND until the next JVM cleans up.
        }
    }

    /** Says why exec failed the way a shell would: 127 for something missing, 126 otherwise. */
    private Executable.NotRunnable notRunnable(SyscallException failure) {
        String path = executable.path().toString();
        if (failure.is(Errno.ENOENT)) {
            String interpreter = executable.interpreterLine().map(line -> line.split("\\s+")[0]).orElse("its interpreter");
            return new Executable.NotRunnable(path + ": bad interpreter: " + interpreter + ": no such file", false);
        }
        if (failure.is(Errno.ENOEXEC)) {
            return new Executable.NotRunnable(path + ": not a program this kernel can run (exec format error)", true);
        }
        return new Executable.NotRunnable(path + ": cannot execute: " + failure.getMessage(), true);
    }

    /** With {@code --user}, COMMAND gets that user's HOME, USER and LOGNAME, as login tools do. */
    public Map<String, String> userEnvironment() {
        return runAs.map(account -> Map.of("HOME", account.home(), "USER", account.name(), "LOGNAME", account.name()))
                .orElse(Map.of());
    }

    /**
     * Does what {@link #exec} does short of exec and of changing user: arms the guard on this
     * thread, checks COMMAND, then disarms. For {@code --dry-run}.
     */
    public void rehearse(Guard guard, boolean allThreads) throws GuardException, Executable.NotRunnable {
        try (PerfEvent event = guard.armCurrentThreadForExec(allThreads)) {
            checkGuardable();
            GuardKeeper.rehearse();
        }
    }

    /**
     * The kernel calls {@code perf_event_exit_task} at exec when the new image is not dumpable
     * by us: a set-user-ID or set-group-ID file of another owner, file capabilities that raise
     * a non-root user's privileges, or a file (or script interpreter) we may execute but not
     * read. Checked as the user COMMAND runs as, after the switch.
     */
    private void refuseWhatExecWouldUnguard() throws GuardException, Executable.NotRunnable {
        if (!executable.executableByCaller()) {
            throw new Executable.NotRunnable(executable.path() + ": permission denied for the user it runs as", true);
        }
        if (Linux.effectiveUid() != Linux.uid()) {
            throw unguardable(executable, "this process runs with effective uid " + Linux.effectiveUid() + " but real uid "
                    + Linux.uid(), GuardException.Reason.SET_USER_ID_PROCESS);
        }
        refuseUnguardableImage(executable);
        Optional<String> interpreter = executable.interpreterLine().map(line -> line.split("\\s+")[0]);
        if (interpreter.isPresent() && interpreter.get().startsWith("/")) {
            try {
                refuseUnguardableImage(Executable.resolve(interpreter.get(), ""));
            } catch (Executable.NotRunnable missing) {
                // exec reports a missing interpreter itself, as a shell would
            }
        }
    }

    private static void refuseUnguardableImage(Executable image) throws GuardException {
        long uid = Linux.uid();
        if (image.setUid() && image.ownerUid() != uid) {
            throw unguardable(image, "it is set-user-ID (owner uid " + image.ownerUid() + ")",
                    GuardException.Reason.SET_USER_ID_FILE);
        }
        if (image.setGid() && image.ownerGid() != Linux.gid()) {
            throw unguardable(image, "it is set-group-ID (group " + image.ownerGid() + ")",
                    GuardException.Reason.SET_GROUP_ID_FILE);
        }
        if (uid != 0 && image.hasFileCapabilities()) {
            throw unguardable(image, "it has file capabilities (getcap " + image.path() + ")",
                    GuardException.Reason.FILE_CAPABILITIES);
        }
        if (!image.readable()) {
            throw unguardable(image, "the user it runs as may execute it but not read it",
                    GuardException.Reason.UNREADABLE_FILE);
        }
    }

    /** How to change what is in the way depends on how COMMAND was given: {@code reason} lets the caller say it. */
    private static GuardException unguardable(Executable image, String why, GuardException.Reason reason) {
        return new GuardException(GuardException.Kind.UNGUARDABLE, reason, image.path(), "refusing to run " + image.path()
                + ": " + why + ", so the kernel would detach the guard at exec and it would run unguarded", null, null);
    }
}
