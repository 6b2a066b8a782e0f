package dev.eventloopguardian.cli;

import dev.eventloopguardian.bpf.Program;
import dev.eventloopguardian.guard.Guard;
import dev.eventloopguardian.guard.GuardProgram;
import dev.eventloopguardian.guard.GuardedCommand;
import dev.eventloopguardian.guard.Policy;
import dev.eventloopguardian.guard.SyscallTable;
import dev.eventloopguardian.sys.Arch;
import dev.eventloopguardian.sys.Linux;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.ParseResult;

import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The root command: guards COMMAND, and is the parent of attach, check and agent-path. */
final class GuardCommand {
    final PolicyOptions policyOptions;
    final boolean report;
    final ReportOptions reportOptions;
    final boolean allThreads;
    final String user;
    final boolean printPolicy;
    final boolean dumpProgram;
    final boolean dryRun;
    final boolean quiet;
    final List<String> command;

    private GuardCommand(ParseResult parsed) {
        policyOptions = PolicyOptions.of(parsed);
        report = Specs.flag(parsed, "--report");
        reportOptions = ReportOptions.of(parsed);
        allThreads = Specs.flag(parsed, "--all-threads");
        user = parsed.matchedOptionValue("--user", null);
        printPolicy = Specs.flag(parsed, "--print-policy");
        dumpProgram = Specs.flag(parsed, "--dump-program");
        dryRun = Specs.flag(parsed, "--dry-run");
        quiet = Specs.flag(parsed, "--quiet");
        command = parsed.matchedPositionalValue(0, List.of());
    }

    /** The command as {@code parsed} gives it. */
    static GuardCommand of(ParseResult parsed) {
        return new GuardCommand(parsed);
    }

    /** The command line's root, without its subcommands. */
    static CommandSpec spec() {
        CommandSpec spec = Specs.command("eventloop-guardian", (parsed, out, err) -> of(parsed).run(out, err));
        spec.versionProvider(new Version());
        spec.usageMessage()
                .width(100)
                .synopsisHeading("")
                .customSynopsis(
                        "Usage: eventloop-guardian [OPTIONS] [--] COMMAND [ARGS...]",
                        "       eventloop-guardian attach --pid PID [OPTIONS]",
                        "       eventloop-guardian check",
                        "       eventloop-guardian agent-path")
                .description(
                        "",
                        "Runs COMMAND with its thread guarded: the moment the thread goes to sleep inside a syscall that is "
                                + "not an event-loop wait (epoll, futex, io_uring...), the kernel sends it SIGABRT, so it "
                                + "dumps core with the blocking call on its stack.",
                        "",
                        "Nothing runs on the fast path: an eBPF program, generated for your policy, runs only when the "
                                + "thread is switched out. COMMAND replaces this process (same pid, stdio and exit status). "
                                + "The first word that is not an option is COMMAND; '--' works too.",
                        "",
                        "Examples:",
                        "  eventloop-guardian python3 -c 'import time; time.sleep(0.1)'            # Aborted (core dumped)",
                        "  eventloop-guardian python3 -c 'import asyncio; asyncio.run(asyncio.sleep(1))'   # runs clean",
                        "  eventloop-guardian --all-threads node server.js                      # every thread of Node",
                        "  eventloop-guardian --report --all-threads --threads 'vert.x-eventloo*' java -jar app.jar",
                        "                                  # report what blocks the event loops, with Java stacks",
                        "  eventloop-guardian --report --html report.html python3 app.py         # and a flame graph page",
                        "  eventloop-guardian --report --all-threads --metrics 9464 python3 app.py",
                        "                                  # and serve the counts to Prometheus at 127.0.0.1:9464",
                        "  eventloop-guardian --report --otlp http://127.0.0.1:4318 python3 app.py",
                        "                                  # and send each sleep to an OpenTelemetry Collector",
                        "  sudo eventloop-guardian --user \"$USER\" ./my-server                   # guarded, runs as you",
                        "  eventloop-guardian --print-policy --allow nanosleep",
                        "  eventloop-guardian attach --pid 4242 --threads 'vert.x-eventloo*'     # a running JVM, until Ctrl-C",
                        "  eventloop-guardian check                                             # is this machine ready?",
                        "  java -javaagent:\"$(eventloop-guardian agent-path)\"=threads='loop-.*' -jar app.jar",
                        "                                                 # a JVM guards its own event loops (see agent-path --help)",
                        "",
                        "Options:")
                .optionListHeading("")
                .footerHeading("%n")
                .footer(
                        "Exit status: COMMAND's own once it runs (74 is ours, see below); before that:",
                        "   64  bad usage (unknown syscall, signal or user, no COMMAND, a bad uid, GLOB or DURATION),",
                        "       a --metrics address that cannot be bound (in use, not this machine's), or an --otlp URL",
                        "       or OTEL_* setting that is refused",
                        "   69  the kernel lacks a feature (BTF, an eBPF helper), or bash, which keeps the guard, is missing",
                        "   70  internal error (the verifier rejected our program): please report it",
                        "   74  --report: COMMAND exited 0, but the report could not be written in full (disk full, reader gone)",
                        "   75  COMMAND would run unguarded (set-user-ID, file capabilities, unreadable)",
                        "   77  missing privileges: CAP_BPF and CAP_PERFMON (run as root, or see 'check')",
                        "  126  COMMAND cannot be executed       127  COMMAND not found",
                        "",
                        "Syscalls are named as in the kernel's tables (man 2 syscalls): 'sleep' is nanosleep or clock_nanosleep.",
                        "A program named 'check', 'attach' or 'agent-path' is run with: eventloop-guardian -- check",
                        "");
        PolicyOptions.declare(spec);
        spec.addOption(Specs.flag("--report",
                "Report each blocking sleep (thread, syscall, arguments, kernel and user stacks) on stderr "
                        + "and keep COMMAND running; eventloop-guardian stays as its parent. Add --signal to also stop it; "
                        + "--format, --output, --min-duration, --folded and --html shape the report; --metrics serves it "
                        + "to Prometheus, --otlp sends it to OpenTelemetry."));
        ReportOptions.declare(spec);
        spec.addOption(Specs.flag("--all-threads",
                "Also guard every thread (and child process) COMMAND creates; by default only its main thread. "
                        + "With --threads, only those whose name matches."));
        spec.addOption(Specs.option("--user", "USER", String.class,
                "Run COMMAND as USER (a name, or a uid from 0 to 4294967294), still guarded. Needs root.").build());
        spec.addOption(Specs.flag("--print-policy", "Print the policy and exit."));
        spec.addOption(Specs.flag("--dump-program", "Print the generated eBPF program, disassembled, and exit."));
        spec.addOption(Specs.flag("--dry-run",
                "Do everything but run COMMAND: check it can be guarded, load and attach the program, then exit 0."));
        spec.addOption(Specs.flag(new String[] {"-q", "--quiet"}, "Do not print notes before running COMMAND."));
        spec.addPositional(PositionalParamSpec.builder().paramLabel("COMMAND").arity("0..*").type(List.class)
                .auxiliaryTypes(String.class).description("The command to run, with its arguments.").build());
        return spec;
    }

    int run(PrintWriter out, PrintWriter err) {
        try {
            return guard(err, out);
        } catch (Exception e) {
            return Failures.report(e, err);
        }
    }

    private int guard(PrintWriter err, PrintWriter out) throws Exception {
        reportOptions.requireReport(report);
        // Without --all-threads only COMMAND's first thread is guarded, which in a JVM is the launcher's, no Java thread.
        JvmAgent jvmAgent = reportOptions.jvmAgent(allThreads && !command.isEmpty() && !dryRun, report,
                policyOptions.threads, quiet);
        Policy policy = policyOptions.policy(report, jvmAgent);
        SyscallTable table = SyscallTable.of(Arch.current());
        GuardProgram.validate(policy, table);
        if (printPolicy) {
            out.print(PolicyText.describe(policy, table, allThreads));
            out.flush();
            return 0;
        }
        if (dumpProgram) {
            Program program = Guard.generate(policy, policyOptions.btf);
            out.printf("; %d instructions for this policy%n", program.size());
            out.print(program.listing());
            out.flush();
            return 0;
        }
        if (command.isEmpty()) {
            return Failures.usage(err, "no COMMAND given: eventloop-guardian [OPTIONS] COMMAND [ARGS...], e.g. "
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
        if (!report && !dryRun) {
            guarded.prepareToExec();
        }
        try (Guard guard = Guard.load(policy, policyOptions.btf)) {
            if (dryRun) {
                guarded.rehearse(guard, allThreads);
                out.println("dry run: " + guarded.path() + " would run guarded by a " + guard.program().size()
                        + "-instruction program");
                out.flush();
                return 0;
            }
            if (report) {
                return reportOptions.run(err, guard, settings -> ReportSession.run(guard, guarded, allThreads, settings, jvmAgent));
            }
            execWithJvmAgent(guard, guarded, jvmAgent, account, err);
            throw new AssertionError("exec returned");
        }
    }

    /**
     * Execs COMMAND; when the agent is on, with a copy of the guard's map of JVM threads left open
     * for its JVMs, which register their threads in it themselves.
     */
    private void execWithJvmAgent(Guard guard, GuardedCommand guarded, JvmAgent jvmAgent, Optional<Linux.Account> account,
                                  PrintWriter err) throws Exception {
        if (jvmAgent.states().isEmpty()) {
            guarded.exec(guard, allThreads);
            return;
        }
        int mapFd = Linux.duplicateInheritable(guard.javaThreadsFd().orElseThrow());
        Map<String, String> environment = jvmAgent.environmentForExec(mapFd, account, err);
        guarded.exec(guard, allThreads, environment, environment.isEmpty() ? -1 : mapFd);
    }

    Policy policy() throws UsageException {
        reportOptions.requireReport(report);
        return policyOptions.policy(report);
    }

    private Optional<Linux.Account> account() throws UsageException {
        if (user == null) {
            return Optional.empty();
        }
        // A name first: a name may be all digits, as getent and login tools also allow.
        Optional<Linux.Account> account = Linux.accountByName(user);
        if (account.isEmpty() && isDecimal(user)) {
            long uid = uid(user);
            account = Linux.accountById(uid);
            if (account.isEmpty()) {
                throw new UsageException("--user " + user + ": no user has uid " + uid + "; create one (useradd -u " + uid
                        + " NAME) or give a user name");
            }
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

    /** ASCII digits only: Character.isDigit would let other scripts' digits through. */
    private static boolean isDecimal(String text) {
        return !text.isEmpty() && text.chars().allMatch(c -> c >= '0' && c <= '9');
    }

    /**
     * {@code digits} as a uid, refused past {@link Linux#HIGHEST_ID}; checked digit by digit, so
     * that no number of digits can overflow the long.
     */
    private static long uid(String digits) throws UsageException {
        long uid = 0;
        for (int i = 0; i < digits.length(); i++) {
            uid = uid * 10 + (digits.charAt(i) - '0');
            if (uid > Linux.HIGHEST_ID) {
                throw new UsageException("--user " + digits + ": not a uid (uids go from 0 to " + Linux.HIGHEST_ID + "; "
                        + (Linux.HIGHEST_ID + 1) + " is (uid_t) -1); give a user name or a uid in that range");
            }
        }
        return uid;
    }
}
