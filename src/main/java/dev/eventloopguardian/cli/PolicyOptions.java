package dev.eventloopguardian.cli;

import dev.eventloopguardian.btf.Btf;
import dev.eventloopguardian.guard.Policy;
import dev.eventloopguardian.guard.Signal;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The options that make the policy, shared by the guard command and attach. */
final class PolicyOptions {
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
            description = "Signal sent to the thread: a name or number, e.g. ABRT, SIGKILL, 10 (default: ABRT; none "
                    + "with --report and with attach, which only report unless --signal is given).")
    String signal;

    @Option(names = "--include-uninterruptible",
            description = "Also count uninterruptible (D) sleeps inside syscalls, such as disk reads and fsync.")
    boolean includeUninterruptible;

    @Option(names = "--threads", split = ",", paramLabel = "GLOB",
            description = "Act only for threads whose name matches, checked in the kernel at each sleep. Names are "
                    + "the kernel's, cut to 15 characters (Java's vert.x-eventloop-thread-0 is vert.x-eventloo); "
                    + "? matches one character, a trailing * any rest; other glob syntax ([...], {...}, \\) is refused.")
    List<String> threads = new ArrayList<>();

    @Option(names = "--btf", paramLabel = "FILE",
            description = "Kernel BTF to read struct offsets from (default: ${DEFAULT-VALUE}); for kernels built "
                    + "without it, a matching file from BTFHub.")
    Path btf = Btf.VMLINUX;

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
