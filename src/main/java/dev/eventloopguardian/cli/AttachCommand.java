package dev.eventloopguardian.cli;

import dev.eventloopguardian.guard.AttachedProcess;
import dev.eventloopguardian.guard.Guard;
import dev.eventloopguardian.guard.GuardProgram;
import dev.eventloopguardian.guard.Policy;
import dev.eventloopguardian.guard.SyscallTable;
import dev.eventloopguardian.sys.Arch;
import dev.eventloopguardian.sys.Linux;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

@Command(name = "attach",
        mixinStandardHelpOptions = true,
        usageHelpWidth = 100,
        synopsisHeading = "",
        customSynopsis = "Usage: eventloop-guardian attach --pid PID [OPTIONS]",
        description = {
                "",
                "Reports what blocks a process that is already running, without restarting it: every thread it has, "
                        + "and every thread it creates, is guarded as with --report, until Ctrl-C (or TERM, HUP) or "
                        + "until the process exits. Then the guard is detached and the process runs on, unharmed; "
                        + "the summary follows.",
                "",
                "Examples:",
                "  eventloop-guardian attach --pid 4242                                  # every thread",
                "  eventloop-guardian attach --pid \"$(pgrep -f my-vertx-app)\" --threads 'vert.x-eventloo*'",
                "  eventloop-guardian attach --pid 4242 --format json --output events.jsonl --min-duration 10ms",
                "",
                "Options:",
        },
        optionListHeading = "",
        footerHeading = "%n",
        footer = {
                "Exit status: 0 once detached; 64 bad usage or no such process, 69 the kernel lacks a feature, "
                        + "74 the report could not be written in full (disk full, reader gone), 77 missing privileges "
                        + "(CAP_BPF and CAP_PERFMON, and the right to trace PID).",
                "",
        })
final class AttachCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--pid", required = true, paramLabel = "PID", description = "The process to attach to.")
    int pid;

    @CommandLine.Mixin
    PolicyOptions policyOptions = new PolicyOptions();

    @CommandLine.Mixin
    ReportOptions reportOptions = new ReportOptions();

    @Option(names = "--report", hidden = true, description = "Accepted for symmetry with the guard command: attach always reports.")
    boolean report;

    @Option(names = {"-q", "--quiet"}, description = "Do not print when attaching and detaching.")
    boolean quiet;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        try {
            reportOptions.requireReport(true);
            JvmAgent jvmAgent = reportOptions.jvmAgent(pid > 0 && JvmAgent.isJvm(pid), true, policyOptions.threads, quiet);
            Policy policy = policyOptions.policy(true, jvmAgent);
            if (pid <= 0) {
                throw new UsageException("--pid " + pid + ": a process id is a positive number (see pgrep, pidof)");
            }
            if (pid == Linux.pid()) {
                throw new UsageException("--pid " + pid + " is eventloop-guardian itself");
            }
            AttachedProcess.requireAttachable(pid);
            GuardProgram.validate(policy, SyscallTable.of(Arch.current()));
            try (Guard guard = Guard.load(policy, policyOptions.btf)) {
                return reportOptions.run(err, settings -> AttachSession.run(guard, pid, settings, quiet, jvmAgent));
            }
        } catch (Exception e) {
            return Failures.report(e, err);
        }
    }

    Policy policy() throws UsageException {
        reportOptions.requireReport(true);
        return policyOptions.policy(true);
    }
}
