package dev.eventloopguardian.cli;

import dev.eventloopguardian.bpf.Program;
import dev.eventloopguardian.btf.Btf;
import dev.eventloopguardian.guard.Guard;
import dev.eventloopguardian.guard.GuardException;
import dev.eventloopguardian.guard.GuardProgram;
import dev.eventloopguardian.guard.GuardedCommand;
import dev.eventloopguardian.guard.Policy;
import dev.eventloopguardian.guard.Signal;
import dev.eventloopguardian.guard.SyscallTable;
import dev.eventloopguardian.guard.UnknownSyscallException;
import dev.eventloopguardian.report.ReportSession;
import dev.eventloopguardian.report.ReportSettings;
import dev.eventloopguardian.sys.Arch;
import dev.eventloopguardian.sys.Executable;
import dev.eventloopguardian.sys.Linux;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "eventloop-guardian",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        subcommands = {CheckCommand.class},
        usageHelpWidth = 100,
        synopsisHeading = "",
        customSynopsis = {
                "Usage: eventloop-guardian [OPTIONS] [--] COMMAND [ARGS...]",
                "       eventloop-guardian check",
        },
        description = {
                "",
                "Runs COMMAND with its thread guarded: the moment the thread goes to sleep inside a syscall that is not "
                        + "an event-loop wait (epoll, futex, io_uring...), the kernel sends it SIGABRT, so it dumps core "
                        + "with the blocking call on its stack.",
                "",
                "Nothing runs on the fast path: an eBPF program, generated for your policy, runs only when the thread "
                        + "is switched out. COMMAND replaces this process (same pid, stdio and exit status). The first "
                        + "word that is not an option is COMMAND; '--' works too.",
                "",
                "Examples:",
                "  eventloop-guardian python3 -c 'import time; time.sleep(0.1)'            # Aborted (core dumped)",
                "  eventloop-guardian python3 -c 'import asyncio; asyncio.run(asyncio.sleep(1))'   # runs clean",
                "  eventloop-guardian --all-threads node server.js                      # every thread of Node",
                "  sudo eventloop-guardian --user \"$USER\" ./my-server                   # guarded, runs as you",
                "  eventloop-guardian --print-policy --allow nanosleep",
                "  eventloop-guardian check                                             # is this machine ready?",
                "",
                "Options:",
        },
        optionListHeading = "",
        footerHeading = "%n",
        footer = {
                "Exit status: COMMAND's own once it runs; before that:",
                "   64  bad usage (unknown syscall or signal, no COMMAND, unknown user)",
                "   69  the kernel lacks a feature (BTF, an eBPF helper)",
                "   70  internal error (the verifier rejected our program): please report it",
                "   75  COMMAND would run unguarded (set-user-ID, file capabilities, unreadable)",
                "   77  missing privileges: CAP_BPF and CAP_PERFMON (run as root, or see 'check')",
                "  126  COMMAND cannot be executed       127  COMMAND not found",
                "",
                "Syscalls are named as in the kernel's tables (man 2 syscalls): 'sleep' is nanosleep or clock_nanosleep.",
                "A program named 'check' is run with: eventloop-guardian -- check",
                "",
        })
final class GuardCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--allow", split = ",", paramLabel = "SYSCALL",
            description = "Also allow sleeping in these syscalls (comma-separated, repeatable).")
    List<String> allow = new ArrayList<>();

    @Option(names = "--disallow", split = ",", paramLabel = "SYSCALL",
            description = "Never allow sleeping in these syscalls, dropping a default and its fd exemptions.")
    List<String> disallow = new ArrayList<>();

    @Option(names = "--allow-fd", split = ",", paramLabel = "SYSCALL:FD",
            description = "Allow sleeping in SYSCALL when its first argument is FD. Defaults: read:0, write:1, write:2.")
    List<String> allowFd = new ArrayList<>();

    @Option(names = "--no-defaults",
            description = "Start from an empty policy: only what --allow and --allow-fd name is allowed.")
    boolean noDefaults;

    @Option(names = "--signal", paramLabel = "SIGNAL",
            description = "Signal sent to the thread: a name or number, e.g. ABRT, SIGKILL, 10 (default: ABRT, or none "
                    + "with --report).")
    String signal;

    @Option(names = "--report",
            description = "Report each blocking sleep (thread, syscall, arguments, kernel and user stacks) on stderr "
                    + "and keep COMMAND running; eventloop-guardian stays as its parent. Add --signal to also stop it.")
    boolean report;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "text",
            description = "With --report: text (default) or json (one object per line; schema in docs/report-schema.md).")
    String format;

    @Option(names = "--output", paramLabel = "FILE",
            description = "With --report: write events to FILE instead of stderr.")
    Path output;

    @Option(names = "--min-duration", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "With --report: report only sleeps that last at least DURATION (e.g. 500us, 10ms, 2s); "
                    + "a sleep that never ends is reported once DURATION has passed.")
    Duration minDuration = Duration.ZERO;

    @Option(names = "--folded", paramLabel = "FILE",
            description = "With --report: at exit, write the stacks folded for flame graphs (flamegraph.pl, speedscope).")
    Path folded;

    @Option(names = "--include-uninterruptible",
            description = "Also count uninterruptible (D) sleeps inside syscalls, such as disk reads and fsync.")
    boolean includeUninterruptible;

    @Option(names = "--all-threads",
            description = "Also guard every thread (and child process) COMMAND creates; by default only its main thread.")
    boolean allThreads;

    @Option(names = "--threads", split = ",", paramLabel = "GLOB",
            description = "Act only for threads whose name matches, checked in the kernel at each sleep. Names are "
                    + "the kernel's, cut to 15 characters (Java's vert.x-eventloop-thread-0 is vert.x-eventloo); "
                    + "? matches one character, a trailing * any rest. Use with --all-threads.")
    List<String> threads = new ArrayList<>();

    @Option(names = "--user", paramLabel = "USER",
            description = "Run COMMAND as USER (name or uid), still guarded. Needs root.")
    String user;

    @Option(names = "--btf", paramLabel = "FILE",
            description = "Kernel BTF to read struct offsets from (default: ${DEFAULT-VALUE}); for kernels built "
                    + "without it, a matching file from BTFHub.")
    Path btf = Btf.VMLINUX;

    @Option(names = "--print-policy", description = "Print the policy and exit.")
    boolean printPolicy;

    @Option(names = "--dump-program", description = "Print the generated eBPF program, disassembled, and exit.")
    boolean dumpProgram;

    @Option(names = "--dry-run",
            description = "Do everything but run COMMAND: check it can be guarded, load and attach the program, then exit 0.")
    boolean dryRun;

    @Option(names = {"-q", "--quiet"}, description = "Do not print notes before running COMMAND.")
    boolean quiet;

    @Parameters(paramLabel = "COMMAND", arity = "0..*", description = "The command to run, with its arguments.")
    List<String> command = new ArrayList<>();

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter out = spec.commandLine().getOut();
        try {
            Policy policy = policy();
            SyscallTable table = SyscallTable.of(Arch.current());
            GuardProgram.validate(policy, table);
            if (printPolicy) {
                out.print(PolicyText.describe(policy, table, allThreads));
                out.flush();
                return 0;
            }
            if (dumpProgram) {
                Program program = Guard.generate(policy, btf);
                out.printf("; %d instructions for this policy%n", program.size());
                out.print(program.listing());
                out.flush();
                return 0;
            }
            if (command.isEmpty()) {
                return usage(err, "no COMMAND given: eventloop-guardian [OPTIONS] COMMAND [ARGS...], e.g. "
                        + "eventloop-guardian python3 -c 'import time; time.sleep(0.1)'");
            }
            Optional<Linux.Account> account = account();
            GuardedCommand guarded = GuardedCommand.of(command, account);
            if (!quiet) {
                guarded.shellScriptNote().ifPresent(note -> {
                    err.println("eventloop-guardian: note: " + note);
                    err.flush();
                });
            }
            try (Guard guard = Guard.load(policy, btf)) {
                if (dryRun) {
                    guarded.rehearse(guard, allThreads);
                    out.printf("dry run: %s would run guarded by a %d-instruction program%n", guarded.path(), guard.program().size());
                    out.flush();
                    return 0;
                }
                if (report) {
                    return report(guard, guarded, err);
                }
                guarded.exec(guard, allThreads);
                throw new AssertionError("exec returned");
            }
        } catch (IOException e) {
            err.println("eventloop-guardian: error: " + e.getMessage());
            return ExitCodes.INTERNAL;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ExitCodes.INTERNAL;
        } catch (UnknownSyscallException | UsageException e) {
            return usage(err, e.getMessage());
        } catch (Executable.NotRunnable e) {
            err.println("eventloop-guardian: " + e.getMessage());
            return e.found() ? ExitCodes.NOT_EXECUTABLE : ExitCodes.NOT_FOUND;
        } catch (GuardException e) {
            err.println("eventloop-guardian: error: " + e.getMessage());
            if (!e.detail().isEmpty()) {
                err.println(e.detail());
            }
            return switch (e.kind()) {
                case PERMISSION -> ExitCodes.PERMISSION;
                case UNSUPPORTED -> ExitCodes.UNSUPPORTED;
                case REJECTED -> ExitCodes.INTERNAL;
                case UNGUARDABLE -> ExitCodes.UNGUARDABLE;
            };
        }
    }

    private int report(Guard guard, GuardedCommand guarded, PrintWriter err)
            throws GuardException, Executable.NotRunnable, IOException, InterruptedException, UsageException {
        // stderr stays open for our own messages: only the files we create are closed here.
        try (Writer events = output == null ? null : create("--output", output);
             Writer stacks = folded == null ? null : create("--folded", folded)) {
            return ReportSession.run(guard, guarded, allThreads,
                    new ReportSettings(format, events == null ? err : events, err, Optional.ofNullable(stacks), minDuration));
        }
    }

    private static Writer create(String option, Path file) throws UsageException {
        try {
            return Files.newBufferedWriter(file);
        } catch (IOException e) {
            throw new UsageException(option + " " + file + ": cannot create it (" + e.getMessage() + ")");
        }
    }

    private static int usage(PrintWriter err, String message) {
        err.println("eventloop-guardian: " + message);
        err.println("Try 'eventloop-guardian --help'.");
        return ExitCodes.USAGE;
    }

    Policy policy() throws UsageException {
        if (!ReportSettings.FORMATS.contains(format)) {
            throw new UsageException("--format " + format + ": use one of " + String.join(", ", ReportSettings.FORMATS));
        }
        if (!report && (output != null || folded != null || !format.equals("text") || !minDuration.isZero())) {
            throw new UsageException("--format, --output, --folded and --min-duration go with --report");
        }
        Policy.Builder builder = Policy.builder();
        if (noDefaults) {
            builder.noDefaults();
        }
        allow.forEach(builder::allow);
        for (String rule : allowFd) {
            int colon = rule.lastIndexOf(':');
            if (colon <= 0 || colon == rule.length() - 1) {
                throw new UsageException("--allow-fd takes SYSCALL:FD, e.g. --allow-fd write:3, not '" + rule + "'");
            }
            try {
                builder.allowFd(rule.substring(0, colon), Integer.parseInt(rule.substring(colon + 1)));
            } catch (IllegalArgumentException e) { // NumberFormatException included
                throw new UsageException("--allow-fd takes SYSCALL:FD, e.g. --allow-fd write:3; in '" + rule + "', '"
                        + rule.substring(colon + 1) + "' is not a file descriptor number");
            }
        }
        disallow.forEach(builder::disallow);
        for (String glob : threads) {
            try {
                builder.thread(glob);
            } catch (IllegalArgumentException e) {
                throw new UsageException("--threads: " + e.getMessage());
            }
        }
        builder.includeUninterruptible(includeUninterruptible).report(report);
        try {
            if (signal != null) {
                builder.signal(Signal.parse(signal));
            } else if (report) {
                builder.noSignal();
            }
        } catch (IllegalArgumentException e) {
            throw new UsageException("--signal " + signal + ": " + e.getMessage());
        }
        return builder.build();
    }

    private Optional<Linux.Account> account() throws UsageException {
        if (user == null) {
            return Optional.empty();
        }
        Optional<Linux.Account> account = Linux.accountByName(user);
        if (account.isEmpty() && user.chars().allMatch(Character::isDigit) && !user.isEmpty()) {
            account = Linux.accountById(Integer.parseInt(user));
        }
        if (account.isEmpty()) {
            throw new UsageException("--user " + user + ": no such user (see getent passwd)");
        }
        if (Linux.uid() != 0) {
            if (Linux.uid() != account.get().uid()) {
                throw new UsageException("--user " + user + " needs root: run eventloop-guardian with sudo");
            }
            return Optional.empty(); // already that user
        }
        return account;
    }

    /** A mistake in how we were called; exit 64. */
    static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }
}
