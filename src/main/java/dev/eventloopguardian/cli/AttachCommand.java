package dev.eventloopguardian.cli;

import dev.eventloopguardian.guard.AttachedProcess;
import dev.eventloopguardian.guard.Guard;
import dev.eventloopguardian.guard.GuardProgram;
import dev.eventloopguardian.guard.Policy;
import dev.eventloopguardian.guard.SyscallTable;
import dev.eventloopguardian.sys.Arch;
import dev.eventloopguardian.sys.Linux;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

import java.io.PrintWriter;

/** {@code attach}: guards a running process, reporting, until it exits or we are stopped. */
final class AttachCommand {
    final int pid;
    final PolicyOptions policyOptions;
    final ReportOptions reportOptions;
    final boolean quiet;

    private AttachCommand(ParseResult parsed) {
        pid = parsed.matchedOptionValue("--pid", 0);
        policyOptions = PolicyOptions.of(parsed);
        reportOptions = ReportOptions.of(parsed);
        quiet = Specs.flag(parsed, "--quiet");
    }

    /** The command as {@code parsed} (attach's own part of the parse) gives it. */
    static AttachCommand of(ParseResult parsed) {
        return new AttachCommand(parsed);
    }

    static CommandSpec spec() {
        CommandSpec spec = Specs.command("attach", (parsed, out, err) -> of(parsed).run(err));
        spec.usageMessage()
                .width(100)
                .synopsisHeading("")
                .customSynopsis("Usage: eventloop-guardian attach --pid PID [OPTIONS]")
                .description(
                        "",
                        "Reports what blocks a process that is already running, without restarting it: every thread it "
                                + "has, and every thread it creates, is guarded as with --report, until Ctrl-C (or TERM, "
                                + "HUP) or until the process exits. Then the guard is detached and the process runs on, "
                                + "unharmed; the summary follows.",
                        "",
                        "Examples:",
                        "  eventloop-guardian attach --pid 4242                                  # every thread",
                        "  eventloop-guardian attach --pid \"$(pgrep -f my-vertx-app)\" --threads 'vert.x-eventloo*'",
                        "  eventloop-guardian attach --pid 4242 --format json --output events.jsonl --min-duration 10ms",
                        "  eventloop-guardian attach --pid 4242 --html report.html      # a page to open at Ctrl-C",
                        "  eventloop-guardian attach --pid 4242 --metrics 9464        # for Prometheus, at 127.0.0.1:9464",
                        "  eventloop-guardian attach --pid 4242 --otlp http://127.0.0.1:4318   # to a Collector, as OTLP",
                        "",
                        "Options:")
                .optionListHeading("")
                .footerHeading("%n")
                .footer(
                        "Exit status: 0 once detached; 64 bad usage, no such process, a --metrics address in use or an "
                                + "--otlp setting refused, 69 "
                                + "the kernel lacks a feature, "
                                + "74 the report could not be written in full (disk full, reader gone), 77 missing privileges "
                                + "(CAP_BPF and CAP_PERFMON, and the right to trace PID).",
                        "");
        spec.addOption(Specs.option("--pid", "PID", int.class, "The process to attach to.").required(true).build());
        PolicyOptions.declare(spec);
        ReportOptions.declare(spec);
        spec.addOption(OptionSpec.builder("--report").arity("0").type(boolean.class).hidden(true)
                .description("Accepted for symmetry with the guard command: attach always reports.").build());
        spec.addOption(Specs.flag(new String[] {"-q", "--quiet"}, "Do not print when attaching and detaching."));
        return spec;
    }

    int run(PrintWriter err) {
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
                return reportOptions.run(err, guard, settings -> AttachSession.run(guard, pid, settings, quiet, jvmAgent));
            }
        } catch (Exception e) {
            return Failures.report(e, err, Failures.ATTACH_AS_ROOT);
        }
    }

    Policy policy() throws UsageException {
        reportOptions.requireReport(true);
        return policyOptions.policy(true);
    }
}
