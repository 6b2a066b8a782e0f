package dev.eventloopguardian.cli;

import dev.eventloopguardian.btf.Btf;
import dev.eventloopguardian.guard.Policy;
import dev.eventloopguardian.guard.Signal;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

import java.nio.file.Path;
import java.util.List;

/** The options that make the policy, shared by the guard command and attach. */
final class PolicyOptions {
    final List<String> allow;
    final List<String> disallow;
    final List<String> allowFd;
    final boolean noDefaults;
    final String signal;
    final boolean includeUninterruptible;
    final List<String> threads;
    final Path btf;

    private PolicyOptions(ParseResult parsed) {
        allow = Specs.list(parsed, "--allow");
        disallow = Specs.list(parsed, "--disallow");
        allowFd = Specs.list(parsed, "--allow-fd");
        noDefaults = Specs.flag(parsed, "--no-defaults");
        signal = parsed.matchedOptionValue("--signal", null);
        includeUninterruptible = Specs.flag(parsed, "--include-uninterruptible");
        threads = Specs.list(parsed, "--threads");
        btf = parsed.matchedOptionValue("--btf", Btf.VMLINUX);
    }

    /** The options as {@code parsed} gives them. */
    static PolicyOptions of(ParseResult parsed) {
        return new PolicyOptions(parsed);
    }

    /** Declares these options on {@code spec}. */
    static void declare(CommandSpec spec) {
        spec.addOption(Specs.list("--allow", "SYSCALL",
                "Also allow sleeping in these syscalls (comma-separated, repeatable)."));
        spec.addOption(Specs.list("--disallow", "SYSCALL",
                "Never allow sleeping in these syscalls, dropping a default and its fd exemptions."));
        spec.addOption(Specs.list("--allow-fd", "SYSCALL:FD",
                "Allow sleeping in SYSCALL when its first argument is FD. Defaults: read:0, write:1, write:2."));
        spec.addOption(Specs.flag("--no-defaults",
                "Start from an empty policy: only what --allow and --allow-fd name is allowed."));
        spec.addOption(Specs.option("--signal", "SIGNAL", String.class,
                "Signal sent to the thread: a name or number, e.g. ABRT, SIGKILL, 10 (default: ABRT; none "
                        + "with --report and with attach, which only report unless --signal is given).").build());
        spec.addOption(Specs.flag("--include-uninterruptible",
                "Also count uninterruptible (D) sleeps inside syscalls, such as disk reads and fsync."));
        spec.addOption(Specs.list("--threads", "GLOB",
                "Act only for threads whose name matches, checked in the kernel at each sleep. Names are "
                        + "the kernel's, cut to 15 characters (Java's vert.x-eventloop-thread-0 is vert.x-eventloo); "
                        + "? matches one character, a trailing * any rest; other glob syntax ([...], {...}, \\) is refused."));
        spec.addOption(Specs.option("--btf", "FILE", Path.class,
                "Kernel BTF to read struct offsets from (default: " + Btf.VMLINUX + "); for kernels built "
                        + "without it, a matching file from BTFHub.").build());
    }

    /** The policy these options describe; one that reports sends no signal unless --signal asks. */
    Policy policy(boolean report) throws UsageException {
        return policy(report, JvmAgent.off());
    }

    /** The same, counting the Java-level waits of the JVM threads the agent registers when it is on. */
    Policy policy(boolean report, JvmAgent jvmAgent) throws UsageException {
        Policy.Builder builder = Policy.builder();
        jvmAgent.states().ifPresent(builder::countJavaWaits);
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
}
